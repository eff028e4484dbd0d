"""CLI: the ablation table of the carried-object detector.

    python -m companion.carried --data walkers --frames 120 --seeds 10 11 12 13 14

For each seed: codebooks and the baseline's template are learned on ``--train-frames`` frames of
walkers who carry nothing (data seed ``100 + seed``), and every variant is scored on ``--frames``
test frames (data seed ``seed``). Before that, every variant's detection threshold, and
the baseline's, is tuned the same way: the best box F1 over one grid (``THRESHOLDS``) on
``--tune-frames`` frames of the tuning seed ``TUNE_SEED`` = 1 (codebooks and template
learned on data seed 101), which is never a test seed. The variants (:func:`variants`): the full
detector, each of its scales alone (and :data:`BEST_SINGLE`, the one of best box F1 on the
tuning seed), the multi-scale map merged on the coarsest labels, the template's occupancy as
the person model in the same pipeline, no person model, no edge support; then the pixel-wise
template baseline and two trivial ones (:data:`BAND`, its width tuned on the tuning seed over
``BAND_WIDTHS``, and :data:`WHOLE`). Writes ``ablation.json`` (one row
per variant and seed, with the variant's tuned ``threshold``) under ``./results`` or
``--out``; ``make results CH=carried`` writes the book's copy.

``--shift [KIND]`` tests for a distribution shift: codebooks, template and thresholds are
still learned on the default walkers, and every seed is scored twice, on its default test
walkers and on the same scenes shifted. ``--shift bodies`` (or ``--shift`` alone) shifts who
walks (heavier builds, half of them in long coats; ``walkers(body="shifted")``) and writes
``ablation_shift.json`` with ``setting`` "default bodies" or "shifted bodies". ``--shift
camera`` shifts the camera scale: the same scenes on a ``CAMERA_SCALE`` times finer pixel
grid (``walkers(camera_scale=1.5)``: every person, object and path 1.5 times as many
pixels) and writes ``ablation_camera.json`` with ``setting`` "default camera" or "closer
camera (x1.5)"; the closer camera adds the scale-aware rows (:data:`SCALED`).
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from companion import data as datasets
from companion.carried.baseline import (band_detections, fit_template, template_detections,
                                        template_probability, whole_foreground_detections)
from companion.carried.detector import (FULL, NO_MODEL, SINGLE, DetectorConfig, analyse, detect, fit_codebooks,
                                        merge_detections, variants)
from companion.carried.codebook import Codebook
from companion.carried.evaluate import evaluate_detections
from companion.carried.foreground import foreground_mask
from companion.cli import cli_entry, chapter_parser, int_at_least, require_packages, run_seeds, start_run
from companion.results import save_results
from companion.utils import progress, seed_everything

METRICS = ("box_precision", "box_recall", "box_f1", "pixel_precision", "pixel_recall", "pixel_f1")
COUNTS = ("tp", "fp", "fn")
BASELINE = "baseline: foreground minus person template"
# the single scale of best box F1 on the tuning seed (a choice on validation data, never test)
BEST_SINGLE = "best single scale on seed 1"
# trivial baselines: no person model beyond a band around the head axis, or none at all
BAND = "trivial: foreground outside a band around the head axis"
WHOLE = "trivial: each foreground component is one object"
# the band's half-width as a fraction of the person's height, tuned on the tuning seed like a threshold
BAND_WIDTHS = (0.04, 0.06, 0.08, 0.10, 0.12, 0.15, 0.18, 0.22, 0.26, 0.30)
# --shift camera only: the detector and the baseline with their pixel sizes scaled with the
# camera (superpixel sides x scale, each scored by the codebook of the size it corresponds to;
# min_area x scale**2), so the cause of the drop is measured rather than guessed
SCALED_SP = "full, superpixel sizes scaled with the camera"
SCALED_BOTH = "full, superpixel sizes and min_area scaled with the camera"
SCALED_BASELINE = "baseline, min_area scaled with the camera"
SCALED = (SCALED_SP, SCALED_BOTH, SCALED_BASELINE)
DATASETS = ("walkers",)  # the only dataset with ground-truth carried-object boxes and masks
FILENAME = "ablation.json"
SHIFT_FILENAME = "ablation_shift.json"
CAMERA_FILENAME = "ablation_camera.json"
# setting: the keyword arguments of the test walkers (training and tuning use the defaults)
SHIFT_SETTINGS = {"default bodies": {}, "shifted bodies": {"body": "shifted"}}
# how much closer the camera is in --shift camera: outside the training people's range of
# heights in pixels (60-90 at scale 1, 90-135 here), yet every frame still fits in memory and time
CAMERA_SCALE = 1.5
CAMERA_SETTINGS = {"default camera": {},
                   f"closer camera (x{CAMERA_SCALE:g})": {"camera_scale": CAMERA_SCALE}}
# --shift KIND: (file written, test settings)
SHIFTS = {"bodies": (SHIFT_FILENAME, SHIFT_SETTINGS), "camera": (CAMERA_FILENAME, CAMERA_SETTINGS)}
# the test seeds of the book's runs: none of them was looked at while the detector was built
SEEDS = (10, 11, 12, 13, 14)
TUNE_SEED = 1  # the data seed the thresholds are tuned on; never a test seed
# one grid for every variant and the baseline: the carried probability without the
# codebook is at most 0.5, so the grid reaches well below the full detector's old 0.65
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(3, 20))  # 0.15, 0.20, ..., 0.95
# what a run imports beyond the core install: OpenCV (foreground, merging, the walkers' drawing)
# and scikit-image (SLIC superpixels, the walkers' background pictures)
PACKAGES = ("cv2", "skimage")
EXAMPLES = (
    # the book's runs
    # (book/10_carried/results/ablation.json, ablation_shift.json, ablation_camera.json)
    "python -m companion.carried --data walkers --frames 120 --seeds 10 11 12 13 14",
    "python -m companion.carried --data walkers --frames 120 --seeds 10 11 12 13 14 --shift",
    "python -m companion.carried --data walkers --frames 120 --seeds 10 11 12 13 14 --shift camera",
)


def score(detections: Sequence[list], frames) -> dict[str, float]:
    """Evaluate a list (one per frame) of detection lists against ``frames``' ground truth."""
    shape = frames.frames.shape[1:3]
    return evaluate_detections(
        [np.array([d.box for d in r], dtype=float).reshape(-1, 4) for r in detections],
        [np.array([d.score for d in r]) for r in detections],
        [np.any([d.mask for d in r], axis=0) if r else np.zeros(shape, bool) for r in detections],
        frames.object_boxes, frames.object_masks)


def with_threshold(config: DetectorConfig, threshold: float) -> DetectorConfig:
    """``config`` with detection ``threshold``; the grow threshold is capped at it."""
    return replace(config, threshold=threshold,
                   grow_threshold=min(config.grow_threshold, threshold))


def _best(grid: Sequence, f1: Callable[[float], dict]) -> tuple[float, dict]:
    """The grid value of best box F1 (then pixel F1; then the first in the grid) and its scores."""
    scored = [(f1(t), t) for t in grid]
    best = max(scored, key=lambda st: (st[0]["box_f1"], st[0]["pixel_f1"]))
    return best[1], best[0]


def _best_threshold(grid: Sequence[float], f1: Callable[[float], dict]) -> float:
    """The grid value of best box F1 (then pixel F1; then the first in the grid)."""
    return _best(grid, f1)[0]


def best_single_scale(tune_f1: dict[str, float], config: DetectorConfig = DetectorConfig()) -> str | None:
    """The single-scale variant of best box F1 on the tuning seed (the finer on a tie), or
    ``None`` where ``tune_f1`` scores none of them."""
    singles = [SINGLE.format(int(s)) for s in config.scales if SINGLE.format(int(s)) in tune_f1]
    return max(singles, key=lambda n: tune_f1[n]) if singles else None


def tune_thresholds(n_frames: int, n_train: int,
                    config: DetectorConfig = DetectorConfig(),
                    dataset: str = "walkers", seed: int = TUNE_SEED,
                    grid: Sequence[float] = THRESHOLDS,
                    configs: dict[str, DetectorConfig] | None = None,
                    tune_f1: dict[str, float] | None = None,
                    ) -> dict[str, float | None]:
    """Every variant's and every baseline's parameter, chosen the same way: the best box
    F1 on ``n_frames`` frames of data seed ``seed`` (codebooks and template learned on
    ``n_train`` non-carrying frames of seed ``100 + seed``): a detection threshold over
    ``grid`` for the variants and the template baseline, a width over ``BAND_WIDTHS`` for
    the band (the whole-foreground baseline has none: ``None``). ``configs``: the variants
    to tune (default :func:`variants` of ``config``). ``tune_f1``, when given, is filled with
    each one's box F1 on the tuning seed; from it :data:`BEST_SINGLE` (the single scale of best
    tuning F1) is chosen. Returns ``{variant: threshold}``."""
    if not grid or any(not 0.0 < t <= 1.0 for t in grid):
        raise ValueError(f"grid must be thresholds in (0, 1], got {grid}")
    tune_f1 = {} if tune_f1 is None else tune_f1
    train = datasets.load(dataset, n_frames=n_train, carry_fraction=0.0,
                          seed=100 + seed)
    tune = datasets.load(dataset, n_frames=n_frames, seed=seed)
    books = fit_codebooks(train.frames, train.backgrounds, config, seed=seed,
                          desc="tuning codebooks")
    template = fit_template([foreground_mask(f, b, config.fg_threshold)
                             for f, b in zip(train.frames, train.backgrounds)])
    pairs = list(zip(tune.frames, tune.backgrounds))
    caches = [{} for _ in pairs]  # one per frame: variants share superpixels and P_h
    out = {}
    for name, cfg in (variants(config) if configs is None else configs).items():
        # all before the last step is independent of the threshold: compute it once
        parts = [analyse(f, b, books, cfg, template, c)
                 for (f, b), c in progress(list(zip(pairs, caches)), desc=f"tune {name}")]

        def f1(t: float, cfg=cfg, parts=parts) -> dict:
            c = with_threshold(cfg, t)
            return score([merge_detections(f, a["mask"], a["merge_labels"],
                                           a["probability"], c)
                          for (f, _), a in zip(pairs, parts)], tune)
        out[name], best = _best(grid, f1)
        tune_f1[name] = best["box_f1"]
    chosen = best_single_scale(tune_f1, config)
    if chosen is not None:
        out[BEST_SINGLE], tune_f1[BEST_SINGLE] = out[chosen], tune_f1[chosen]
    masks = [foreground_mask(f, b, config.fg_threshold) for f, b in pairs]
    probs = [template_probability(m, template) for m in masks]
    out[BASELINE], best = _best(grid, lambda t: score(
        [template_detections(p, t, config.min_area) for p in probs], tune))
    tune_f1[BASELINE] = best["box_f1"]
    out[BAND], best = _best(BAND_WIDTHS, lambda w: score(
        [band_detections(m, w, config.min_area) for m in masks], tune))
    tune_f1[BAND] = best["box_f1"]
    out[WHOLE] = None
    tune_f1[WHOLE] = score([whole_foreground_detections(m, config.min_area) for m in masks],
                           tune)["box_f1"]
    return out


def scaled_config(config: DetectorConfig, camera_scale: float,
                  books: dict[int, Codebook]) -> tuple[DetectorConfig, dict[int, Codebook]]:
    """``config`` with superpixel sides scaled by ``camera_scale`` (rounded), and the codebooks
    re-keyed so that each scaled size is scored by the codebook learned at the size it stands for."""
    scales = tuple(int(round(s * camera_scale)) for s in config.scales)
    if len(set(scales)) != len(scales):
        raise ValueError(f"camera_scale {camera_scale} maps the scales {config.scales} onto {scales}")
    return (replace(config, scales=scales, merge_scale=None),
            {n: books[int(s)] for n, s in zip(scales, config.scales)})


def run_seed(seed: int, n_frames: int, n_train: int, config: DetectorConfig = DetectorConfig(),
             dataset: str = "walkers",
             thresholds: dict[str, float | None] | None = None,
             body: str = "default", camera_scale: float = 1.0,
             tune_f1: dict[str, float] | None = None) -> dict[str, dict[str, float]]:
    """Scores of every variant and of the baselines on one data seed:
    ``{variant: metrics}``.

    ``thresholds`` (from :func:`tune_thresholds`) sets each one's threshold (the band's
    width); without it every variant uses ``config.threshold``, the baseline 0.7 and the band
    0.12 (untuned defaults). ``tune_f1`` (the tuning seed's box F1, from
    :func:`tune_thresholds`) chooses :data:`BEST_SINGLE`; without it that row is left out.
    ``body`` and ``camera_scale`` shift the test walkers (see ``walkers``); training is on
    default walkers. With ``camera_scale != 1`` the scale-aware rows (:data:`SCALED_SP`,
    :data:`SCALED_BOTH`, :data:`SCALED_BASELINE`) are added, with the full detector's and
    the baseline's thresholds."""
    if thresholds is None:
        thresholds = {**{n: config.threshold for n in variants(config)}, BASELINE: 0.7,
                      BAND: 0.12, WHOLE: None}
    seed_everything(seed)  # the data and k-means take explicit seeds; this covers anything else
    train = datasets.load(dataset, n_frames=n_train, carry_fraction=0.0, seed=100 + seed)
    shift = {**({} if body == "default" else {"body": body}),
             **({} if camera_scale == 1.0 else {"camera_scale": camera_scale})}
    test = datasets.load(dataset, n_frames=n_frames, seed=seed, **shift)
    books = fit_codebooks(train.frames, train.backgrounds, config, seed=seed)
    template = fit_template([foreground_mask(f, b, config.fg_threshold)
                             for f, b in zip(train.frames, train.backgrounds)])
    pairs = list(zip(test.frames, test.backgrounds))
    caches = [{} for _ in pairs]  # one per frame: variants share superpixels and P_h
    out = {}
    for name, cfg in variants(config).items():
        cfg = with_threshold(cfg, thresholds[name])
        out[name] = score([detect(f, b, books, cfg, template, c)
                           for (f, b), c in progress(list(zip(pairs, caches)), desc=name)], test)
    chosen = best_single_scale(tune_f1 or {}, config)
    if chosen is not None:
        out[BEST_SINGLE] = out[chosen]
    masks = [foreground_mask(f, b, config.fg_threshold) for f, b in pairs]
    out[BASELINE] = score([template_detections(template_probability(m, template),
                                               thresholds[BASELINE], config.min_area)
                           for m in masks], test)
    out[BAND] = score([band_detections(m, thresholds[BAND], config.min_area) for m in masks], test)
    out[WHOLE] = score([whole_foreground_detections(m, config.min_area) for m in masks], test)
    if camera_scale != 1.0:
        sp, sp_books = scaled_config(with_threshold(config, thresholds[FULL]), camera_scale, books)
        area = int(round(config.min_area * camera_scale ** 2))
        for name, cfg in ((SCALED_SP, sp), (SCALED_BOTH, replace(sp, min_area=area))):
            out[name] = score([detect(f, b, sp_books, cfg, None, c)
                               for (f, b), c in progress(list(zip(pairs, caches)), desc=name)], test)
        out[SCALED_BASELINE] = score([template_detections(template_probability(m, template),
                                                          thresholds[BASELINE], area)
                                      for m in masks], test)
    return out


def _finite_or_none(value: float) -> float | None:
    """A metric as stored: ``None`` where it is undefined (strict JSON has no NaN)."""
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _row(setting: str, name: str, seed: int, threshold: float | None, metrics: dict,
         tune_box_f1: float | None = None) -> dict:
    """One results row: a variant's metrics and counts on one seed, its tuned threshold (the
    band's width; ``None`` where there is nothing to tune) and its box F1 on the tuning seed."""
    return {"setting": setting, "method": name, "seed": seed, "threshold": threshold,
            "tune_box_f1": tune_box_f1,
            **{m: _finite_or_none(metrics[m]) for m in METRICS},
            **{c: int(metrics[c]) for c in COUNTS}}


def build_parser():
    """The CLI's parser: every flag checked by its type before any work."""
    p = chapter_parser("python -m companion.carried", __doc__.split("\n")[0], seeds=SEEDS, examples=EXAMPLES,
                       no_cuda="the detector is OpenCV, scikit-image and NumPy work, with no torch on its path")
    g = p.add_argument_group("experiment")
    g.add_argument("--data", default="walkers", choices=DATASETS,
                   help="dataset in companion.data (only walkers has carried-object ground truth)")
    g.add_argument("--frames", type=int_at_least(1), default=120,
                   help="test frames per seed (data seed = the seed), on which every variant is scored")
    # the coarsest scale gives 2-8 superpixels a frame; n_words frames give its k-means enough
    g.add_argument("--train-frames", type=int_at_least(DetectorConfig().n_words), default=120,
                   help="frames of walkers who carry nothing (data seed 100 + seed) to learn the codebooks and "
                        "the baseline's template; at least n_words, the codebook's size")
    g.add_argument("--tune-frames", type=int_at_least(1), default=120,
                   help=f"frames of data seed {TUNE_SEED} every detection threshold is tuned on (best box F1 "
                        "over one grid)")
    g.add_argument("--shift", nargs="?", const="bodies", default=None, choices=tuple(SHIFTS),
                   help="also test on shifted walkers (trained and tuned on the usual ones): "
                        f"'bodies' (what a bare --shift means) heavier builds and long coats, writes "
                        f"{SHIFT_FILENAME}; 'camera' the same scenes {CAMERA_SCALE:g} times closer, "
                        f"writes {CAMERA_FILENAME}")
    return p


def main(argv: Sequence[str] | None = None) -> list[dict]:
    """Run the ablation over ``--seeds``; returns the per-seed rows it wrote."""
    parser = build_parser()
    args = parser.parse_args(argv)
    require_packages(parser, *PACKAGES)
    if TUNE_SEED in args.seeds:
        parser.error(f"--seeds: seed {TUNE_SEED} tunes the thresholds, so it cannot be "
                     "a test seed")
    run = start_run(parser, args, module="companion.carried", chapter="10_carried", argv=argv)
    config = DetectorConfig()
    filename, settings = SHIFTS[args.shift] if args.shift else (FILENAME, {"": {}})
    # each finished seed is kept, and a rerun of the same command resumes after it
    ckpt = run.checkpoint(filename)

    # a unit: the tuning, then one test setting of one seed
    with run.progress(1 + len(run.seeds) * len(settings)) as display:
        if ckpt.finished:
            # every row holds its variant's tuned threshold (variants, then the baseline, as tuned):
            # a resumed run reads them back instead of tuning again
            first = [r for r in ckpt.done(ckpt.finished[0]) if r["method"] not in SCALED]
            tuned = {r["method"]: r["threshold"] for r in first}
            tune_f1 = {r["method"]: r["tune_box_f1"] for r in first}
        else:
            tune_f1 = {}
            tuned = tune_thresholds(args.tune_frames, args.train_frames, config, args.data,
                                    tune_f1=tune_f1)
        display.done("tuning the thresholds", reused=bool(ckpt.finished))
        if args.shift == "camera":
            # the scale-aware rows reuse the full detector's and the baseline's tuning
            for name, like in ((SCALED_SP, FULL), (SCALED_BOTH, FULL), (SCALED_BASELINE, BASELINE)):
                tuned[name], tune_f1[name] = tuned[like], tune_f1[like]

        def seed_rows(seed: int) -> list[dict]:
            rows = []
            for setting, shift in settings.items():
                scores = run_seed(seed, args.frames, args.train_frames, config, args.data,
                                  tuned, tune_f1=tune_f1, **shift)
                rows.extend(_row(setting, name, seed, tuned[name], metrics, tune_f1[name])
                            for name, metrics in scores.items())
                display.done(f"seed {seed}" + (f", {setting}" if setting else ""))
            return rows

        rows = run_seeds(run.seeds, seed_rows, checkpoint=ckpt, display=display, units=len(settings))
    path = save_results(run.path(filename), rows,
                        seeds=run.seeds, command=run.command,
                        metrics={m: True for m in METRICS}, wall_seconds=run.wall_seconds,
                        packages=("numpy", "scikit-learn", "scikit-image", "opencv-contrib-python-headless"),
                        config=config.__dict__, data=args.data, frames_per_seed=args.frames,
                        train_frames=args.train_frames, cpu_seconds=run.cpu_seconds,
                        tune_seed=TUNE_SEED, tune_frames=args.tune_frames,
                        threshold_grid=list(THRESHOLDS), thresholds=tuned,
                        band_widths=list(BAND_WIDTHS), tune_box_f1=tune_f1,
                        train_body="default", test_settings=settings)
    for setting in settings:
        print(f"{setting or 'variant':44s} " + " ".join(f"{m:>15s}" for m in METRICS))
        for name in dict.fromkeys(r["method"] for r in rows):
            mine = [r for r in rows if r["method"] == name and r["setting"] == setting]
            if not mine:  # a row of another setting only (the camera's scale-aware rows)
                continue
            vals = {m: np.array([r[m] for r in mine if r[m] is not None])
                    for m in METRICS}
            print(f"{name:44s} " + " ".join(
                f"{v.mean():9.3f}±{v.std(ddof=1):.3f}" if len(v) > 1 else
                f"{v.mean():9.3f} (1 seed)" if len(v) else f"{'n/a':>15s}"
                for v in vals.values()))
    print("tuned thresholds (band: width): " + ", ".join(
        f"{n}: {'-' if t is None else f'{t:.2f}'}" for n, t in tuned.items()))
    ckpt.finish()
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    sys.exit(cli_entry(main))
