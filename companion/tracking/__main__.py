"""CLI: run our tracker, its ablations and OpenCV's trackers on named sequences; print and save the table.

    python -m companion.tracking --sequence all --frames 100             # the chapter's table
    python -m companion.tracking --sequence Basketball --otb-root ~/data/otb      # a real OTB sequence

Writes ``otb_table.json`` under ``./results`` (or ``--out``; ``make results CH=tracking`` writes
the book's copy): one row per sequence, tracker and seed (success AUC, precision@20, fps and the
curves), and per tracker and seed the means over the sequences (setting ``all``). Seed ``s``
renders the generated sequences with seed ``s`` and seeds every tracker with ``s``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import numpy as np

from companion import data
from companion.cli import chapter_parser, int_at_least, start_run, str_list
from companion.data.tracking_sequences import SEQUENCES
from companion.results import save_results
from companion.tracking.baselines import OPENCV_TRACKERS, available_opencv_trackers
from companion.tracking.evaluate import ALL, result_rows, track_all
from companion.utils import progress

FILENAME = "otb_table.json"
METRICS = {"success_auc": True, "precision@20": True, "fps": True}
DEFAULT_FRAMES = 120  # frames per generated sequence when --frames is not given


def _opencv_list(text: str) -> list[str]:
    """``--opencv``: a comma list of OpenCV tracker names, or '' / 'none' for none."""
    if text.strip().lower() in ("", "none"):
        return []
    names = str_list(list(OPENCV_TRACKERS))(text)
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise argparse.ArgumentTypeError(f"{', '.join(twice)} listed more than once")
    return names


_opencv_list.__name__ = f"list of names from {{{', '.join(OPENCV_TRACKERS)}}} or 'none'"


def build_parser() -> argparse.ArgumentParser:
    """The CLI's parser; :func:`check_args` adds the checks that involve several flags."""
    p = chapter_parser("python -m companion.tracking", __doc__.split("\n")[0], seeds=(0,))
    g = p.add_argument_group("experiment")
    g.add_argument("--sequence", default="all",
                   help=f"'all' or comma-separated names: generated sequences ({', '.join(SEQUENCES)}), "
                        "or folders of --otb-root")
    g.add_argument("--frames", type=int_at_least(2), default=None,
                   help=f"frames per sequence (default: {DEFAULT_FRAMES} per generated sequence, "
                        "every annotated frame of an OTB sequence)")
    g.add_argument("--otb-root", default=None, help="folder of OTB sequences (local files only)")
    g.add_argument("--opencv", type=_opencv_list, default="MIL,KCF,CSRT",
                   help="comma-separated OpenCV trackers, or 'none'")
    return p


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """Validate the flags that depend on each other or on this machine; return the sequence names.

    Runs before any tracking, so a mistyped name fails at once (exit status 2, the flag named).
    """
    missing = [n for n in args.opencv if n not in available_opencv_trackers()]
    if missing:
        import cv2

        parser.error(f"argument --opencv: this OpenCV build ({cv2.__version__}) has no {', '.join(missing)} "
                     f"tracker (it has {', '.join(available_opencv_trackers()) or 'none'}); "
                     "install opencv-contrib-python-headless or leave them out")
    names = [n.strip() for n in args.sequence.split(",") if n.strip()]
    if not names:
        parser.error(f"argument --sequence: expected 'all' or comma-separated names, got {args.sequence!r}")
    if len(set(names)) != len(names):
        parser.error(f"argument --sequence: a name is listed twice in {args.sequence!r}")
    if args.otb_root is None:
        if names == ["all"]:
            return list(SEQUENCES)
        unknown = [n for n in names if n not in SEQUENCES]
        if unknown:
            parser.error(f"argument --sequence: unknown sequence {', '.join(unknown)}; choose 'all' or from "
                         f"{', '.join(SEQUENCES)} (or pass --otb-root for OTB sequences)")
        return names
    root = Path(args.otb_root).expanduser()
    if not root.is_dir():
        parser.error(f"argument --otb-root: folder {root} does not exist")
    if names == ["all"]:
        names = sorted(d.name for d in root.iterdir() if (d / "groundtruth_rect.txt").is_file())
        if not names:
            parser.error(f"argument --otb-root: no sequence in {root} (expected <Name>/groundtruth_rect.txt and "
                         "<Name>/img/ folders)")
        return names
    absent = [n for n in names if not (root / n / "groundtruth_rect.txt").is_file()]
    if absent:
        parser.error(f"argument --sequence: no {', '.join(str(root / n / 'groundtruth_rect.txt') for n in absent)}")
    return names


def _load_sequences(args: argparse.Namespace, names: list[str], seed: int) -> dict[str, dict]:
    if args.otb_root is not None:
        return {n: data.load("otb", sequence=n, root=args.otb_root, max_frames=args.frames) for n in names}
    return data.load("tracking_sequences", names=names, n_frames=args.frames or DEFAULT_FRAMES, seed=seed)


def mean_curves(rows: list[dict]) -> dict[str, dict[str, list[float]]]:
    """Per tracker, the success and precision curves averaged over sequences and seeds."""
    per_seq = [r for r in rows if r["setting"] != ALL]
    return {t: {"success": np.mean([r["success_curve"] for r in per_seq if r["method"] == t], 0).tolist(),
                "precision": np.mean([r["precision_curve"] for r in per_seq if r["method"] == t], 0).tolist()}
            for t in dict.fromkeys(r["method"] for r in per_seq)}


def main(argv: Sequence[str] | None = None) -> list[dict]:
    """Track every sequence with every tracker for each seed; returns the rows it wrote."""
    parser = build_parser()
    args = parser.parse_args(argv)
    names = check_args(parser, args)
    run = start_run(parser, args, module="companion.tracking", chapter="11_tracking", argv=argv)
    rows: list[dict] = []
    for seed in run.seeds:
        sequences = _load_sequences(args, names, seed)
        per_seq = {name: track_all(seq, opencv=args.opencv, seed=seed)
                   for name, seq in progress(sequences.items(), desc=f"seed {seed}", total=len(sequences))}
        rows += result_rows(per_seq, seed)
    frames = {n: int(len(s["frames"])) for n, s in sequences.items()}
    path = save_results(run.path(FILENAME), rows, seeds=run.seeds, command=run.command,
                        metrics=METRICS, timing=["fps"], wall_seconds=run.wall_seconds,
                        packages=("torch", "numpy", "opencv-contrib-python-headless", "scikit-learn"),
                        sequences=names, frames=frames, curves=mean_curves(rows),
                        source="otb" if args.otb_root else "tracking_sequences", cpu_seconds=run.cpu_seconds)
    print(f"{'tracker':34s} {'AUC':>6s} {'P@20':>6s} {'fps':>7s}   (mean over {len(names)} sequences and "
          f"{len(run.seeds)} seed(s))")
    for t in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["setting"] == ALL and r["method"] == t]
        fps = [r["fps"] for r in mine if r["fps"] is not None]
        print(f"{t:34s} {np.mean([r['success_auc'] for r in mine]):6.3f} "
              f"{np.mean([r['precision@20'] for r in mine]):6.3f} {np.mean(fps) if fps else float('nan'):7.1f}")
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
