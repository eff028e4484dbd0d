"""CLI: the ablation table of the carried-object detector.

    python -m companion.carried --data walkers --frames 120 --seeds 2 3 4

For each seed: codebooks and the baseline's template are learned on ``--train-frames`` frames of
walkers who carry nothing (data seed ``100 + seed``), and every variant is scored on ``--frames``
test frames (data seed ``seed``; seed 1 was used to choose the thresholds, so it is not a test seed).
Writes ``ablation.json`` (one row per variant and seed) under ``./results`` or ``--out``;
``make results CH=carried`` writes the book's copy.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from companion import data as datasets
from companion.carried.baseline import fit_template, template_detect
from companion.carried.detector import DetectorConfig, detect, fit_codebooks, variants
from companion.carried.evaluate import evaluate_detections
from companion.carried.foreground import foreground_mask
from companion.cli import chapter_parser, int_at_least, start_run
from companion.results import save_results
from companion.utils import progress, seed_everything

METRICS = ("box_precision", "box_recall", "box_f1", "pixel_precision", "pixel_recall", "pixel_f1")
COUNTS = ("tp", "fp", "fn")
BASELINE = "baseline: foreground minus person template"
DATASETS = ("walkers",)  # the only dataset with ground-truth carried-object boxes and masks
FILENAME = "ablation.json"
SEEDS = (2, 3, 4)


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
    seed_everything(seed)  # the data and k-means take explicit seeds; this covers anything else
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


def _finite_or_none(value: float) -> float | None:
    """A metric as stored: ``None`` where it is undefined (strict JSON has no NaN)."""
    return None if value is None or not math.isfinite(float(value)) else float(value)


def build_parser():
    """The CLI's parser: every flag checked by its type before any work."""
    p = chapter_parser("python -m companion.carried", __doc__.split("\n")[0], seeds=SEEDS)
    g = p.add_argument_group("experiment")
    g.add_argument("--data", default="walkers", choices=DATASETS,
                   help="dataset in companion.data (only walkers has carried-object ground truth)")
    g.add_argument("--frames", type=int_at_least(1), default=120, help="test frames per seed")
    # the coarsest scale gives 2-8 superpixels a frame; n_words frames give its k-means enough
    g.add_argument("--train-frames", type=int_at_least(DetectorConfig().n_words), default=120,
                   help=f"frames of non-carrying walkers for the codebooks (>= n_words = {DetectorConfig().n_words})")
    return p


def main(argv: Sequence[str] | None = None) -> list[dict]:
    """Run the ablation over ``--seeds``; returns the per-seed rows it wrote."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = start_run(parser, args, module="companion.carried", chapter="10_carried", argv=argv)
    config = DetectorConfig()
    rows = []
    for seed in run.seeds:
        for name, metrics in run_seed(seed, args.frames, args.train_frames, config, dataset=args.data).items():
            rows.append({"setting": "", "method": name, "seed": seed,
                         **{m: _finite_or_none(metrics[m]) for m in METRICS},
                         **{c: int(metrics[c]) for c in COUNTS}})
    path = save_results(run.path(FILENAME), rows, seeds=run.seeds, command=run.command,
                        metrics={m: True for m in METRICS}, wall_seconds=run.wall_seconds,
                        packages=("numpy", "scikit-learn", "scikit-image", "opencv-contrib-python-headless"),
                        config=config.__dict__, data=args.data, frames_per_seed=args.frames,
                        train_frames=args.train_frames, cpu_seconds=run.cpu_seconds)
    print(f"{'variant':44s} " + " ".join(f"{m:>15s}" for m in METRICS))
    for name in dict.fromkeys(r["method"] for r in rows):
        vals = {m: np.array([r[m] for r in rows if r["method"] == name and r[m] is not None]) for m in METRICS}
        print(f"{name:44s} " + " ".join(f"{v.mean():9.3f}±{v.std():.3f}" if len(v) else f"{'n/a':>15s}"
                                        for v in vals.values()))
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
