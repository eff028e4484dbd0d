"""CLI: the ablation table of the carried-object detector.

    python -m companion.carried --data walkers --frames 120 --seeds 2 3 4

For each seed: codebooks and the baseline's template are learned on ``--train-frames`` frames of
walkers who carry nothing (data seed ``100 + seed``), and every variant is scored on ``--frames``
test frames (data seed ``seed``; seed 1 was used to choose the thresholds, so it is not a test seed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from companion import data as datasets
from companion.carried.baseline import fit_template, template_detect
from companion.carried.detector import DetectorConfig, detect, fit_codebooks, variants
from companion.carried.evaluate import evaluate_detections
from companion.carried.foreground import foreground_mask
from companion.results import save_results
from companion.utils import Timer, progress, repo_path

METRICS = ("box_precision", "box_recall", "box_f1", "pixel_precision", "pixel_recall", "pixel_f1")
BASELINE = "baseline: foreground minus person template"


def score(detections: Sequence[list], frames) -> dict[str, float]:
    """Evaluate a list (one per frame) of detection lists against ``frames``' ground truth."""
    shape = frames.frames.shape[1:3]
    return evaluate_detections(
        [np.array([d.box for d in r], dtype=float).reshape(-1, 4) for r in detections],
        [np.array([d.score for d in r]) for r in detections],
        [np.any([d.mask for d in r], axis=0) if r else np.zeros(shape, bool) for r in detections],
        frames.object_boxes, frames.object_masks)


def run_seed(seed: int, n_frames: int, n_train: int, config: DetectorConfig = DetectorConfig(),
             dataset: str = "walkers") -> dict[str, dict[str, float]]:
    """Scores of every variant and of the baseline on one data seed: ``{variant: metrics}``."""
    train = datasets.load(dataset, n_frames=n_train, carry_fraction=0.0, seed=100 + seed)
    test = datasets.load(dataset, n_frames=n_frames, seed=seed)
    books = fit_codebooks(train.frames, train.backgrounds, config, seed=seed)
    out = {}
    for name, cfg in variants(config).items():
        dets = [detect(f, b, books, cfg) for f, b in progress(list(zip(test.frames, test.backgrounds)), desc=name)]
        out[name] = score(dets, test)
    template = fit_template([foreground_mask(f, b, config.fg_threshold) for f, b in zip(train.frames, train.backgrounds)])
    out[BASELINE] = score([template_detect(f, b, template) for f, b in zip(test.frames, test.backgrounds)], test)
    return out


def main(argv: Sequence[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m companion.carried", description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="walkers", help="dataset name in companion.data (default walkers)")
    parser.add_argument("--frames", type=int, default=120, help="test frames per seed")
    parser.add_argument("--train-frames", type=int, default=120, help="frames of non-carrying walkers for the codebook")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--out", default=str(repo_path("book", "10_carried", "results", "ablation.json")))
    args = parser.parse_args(argv)
    if args.data != "walkers":
        raise ValueError(f"only --data walkers has ground-truth carried-object masks here, got {args.data!r}")
    if args.frames < 1 or args.train_frames < 1:
        raise ValueError(f"--frames and --train-frames must be >= 1, got {args.frames} and {args.train_frames}")
    per_seed: dict[str, list[dict[str, float]]] = {}
    with Timer() as timer:
        for seed in args.seeds:
            for name, metrics in run_seed(seed, args.frames, args.train_frames, dataset=args.data).items():
                per_seed.setdefault(name, []).append({"seed": seed, **metrics})
    rows = []
    for name, runs in per_seed.items():
        row = {"variant": name, "frames_per_seed": args.frames}
        for m in METRICS:
            vals = np.array([r[m] for r in runs])
            row[m] = float(vals.mean())
            row[m + "_std"] = float(vals.std())
        row["per_seed"] = runs
        rows.append(row)
    print(f"{'variant':42s} " + " ".join(f"{m:>15s}" for m in METRICS))
    for row in rows:
        print(f"{row['variant']:42s} " + " ".join(f"{row[m]:9.3f}±{row[m + '_std']:.3f}" for m in METRICS))
    command = "python -m companion.carried " + " ".join(sys.argv[1:] if argv is None else argv)
    path = save_results(Path(args.out), rows, seeds=args.seeds, command=command, wall_seconds=timer.seconds,
                        packages=("numpy", "scikit-learn", "scikit-image", "opencv-contrib-python-headless"),
                        config=DetectorConfig().__dict__, train_frames=args.train_frames)
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
