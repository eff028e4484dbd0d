"""Run every tracker variant on named sequences and tabulate OTB success AUC, precision@20 and fps."""

from __future__ import annotations

import numpy as np

from companion.tracking.baselines import available_opencv_trackers, run_opencv_tracker
from companion.tracking.metrics import iou, precision_at, success_auc, success_curve, precision_curve
from companion.tracking.tracker import TrackerConfig, run_tracker

OURS = "ours (tree RNN + sparse coding)"
# the chapter's first sampler
FIRST_SAMPLER = {"sampler": "isotropic", "sigma_xy": 0.3, "sigma_scale": 0.03, "scale_search": False}
# the validation grid (python -m companion.tracking --validate, on generator seeds that are not
# test seeds): every sampler x online update, for both feature kinds (the same budget for each)
SAMPLER_GRID = [
    FIRST_SAMPLER,
    {"sampler": "isotropic", "sigma_xy": 0.6, "sigma_scale": 0.03, "scale_search": False},
    {"sampler": "isotropic", "sigma_xy": 0.3, "sigma_scale": 0.05, "scale_search": True},
    {"sampler": "isotropic", "sigma_xy": 0.6, "sigma_scale": 0.05, "scale_search": True},
    {"sampler": "aspect", "sigma_xy": 0.3, "sigma_scale": 0.05, "scale_search": True},
    {"sampler": "aspect", "sigma_xy": 0.6, "sigma_scale": 0.05, "scale_search": True},
]
UPDATE_GRID = (True, False)
GRID_FEATURES = ("rnn", "pixels")
# the validation choice per feature kind (results/validation_grid.json, key "choice"; a test
# checks that these are the committed file's choice)
CHOSEN = {
    "rnn": {"sampler": "isotropic", "sigma_xy": 0.3, "sigma_scale": 0.05, "scale_search": True,
            "online_update": True},
    "pixels": {"sampler": "isotropic", "sigma_xy": 0.3, "sigma_scale": 0.05, "scale_search": True,
               "online_update": True},
}
# the best aspect-aware sampler of the grid for our tracker (validation AUC), as an ablation
ASPECT_SAMPLER = {"sampler": "aspect", "sigma_xy": 0.3, "sigma_scale": 0.05, "scale_search": True}
VARIANTS = {
    OURS: {"features": "rnn", **CHOSEN["rnn"]},
    "ours without online update": {"features": "rnn", **CHOSEN["rnn"], "online_update": False},
    "ours with raw-pixel features": {"features": "pixels", **CHOSEN["pixels"]},
    "ours with the aspect sampler": {"features": "rnn", **CHOSEN["rnn"], **ASPECT_SAMPLER},
}


def grid_configs() -> list[dict]:
    """Every configuration of the validation grid: features x sampler x online update."""
    return [{"features": f, **s, "online_update": u} for f in GRID_FEATURES for s in SAMPLER_GRID
            for u in UPDATE_GRID]


def track_all(sequence: dict, variants: dict[str, dict] | None = None, opencv: list[str] | None = None,
              seed: int = 0) -> dict[str, dict]:
    """Boxes, fps and curves of each tracker on one sequence (``{"frames", "boxes"}``)."""
    variants = VARIANTS if variants is None else variants
    opencv = available_opencv_trackers() if opencv is None else opencv
    frames, gt = sequence["frames"], sequence["boxes"]
    out = {}
    for name, overrides in variants.items():
        out[name] = run_tracker(frames, gt[0], TrackerConfig(seed=seed, **overrides))
    for name in opencv:
        out[f"OpenCV {name}"] = run_opencv_tracker(name, frames, gt[0], seed=seed)
    for res in out.values():
        res["auc"] = success_auc(res["boxes"], gt)
        res["mean_iou"] = float(iou(res["boxes"], gt).mean())
        res["precision20"] = precision_at(res["boxes"], gt)
        res["success_curve"] = success_curve(res["boxes"], gt)
        res["precision_curve"] = precision_curve(res["boxes"], gt)
        res.pop("tracker", None)
    return out


ALL = "all"  # the setting of the rows that average a run's sequences


def _finite_or_none(value: float) -> float | None:
    # strict JSON has no NaN: an undefined metric (a zero-time fps) is stored as None
    return float(value) if np.isfinite(value) else None


def result_rows(per_sequence: dict[str, dict[str, dict]], seed: int) -> list[dict]:
    """Rows of a results file for one seed's run of :func:`track_all` on several sequences.

    One row per (sequence, tracker) with success AUC, precision@20, mean IoU, fps (wall clock),
    cpu_fps (frames per CPU second of the process) and both curves
    (``setting`` = the sequence name), then one row per tracker with the means over the
    sequences (``setting`` = :data:`ALL`), which is the chapter's table.
    """
    if not per_sequence:
        raise ValueError("per_sequence must hold at least one sequence's results")
    trackers = list(next(iter(per_sequence.values())))
    rows = []
    for seq, results in per_sequence.items():
        for t in trackers:
            r = results[t]
            rows.append({"setting": seq, "method": t, "seed": seed, "success_auc": float(r["auc"]),
                         "precision@20": float(r["precision20"]), "mean_iou": float(r["mean_iou"]),
                         "fps": _finite_or_none(r["fps"]), "cpu_fps": _finite_or_none(r["cpu_fps"]),
                         "success_curve": np.asarray(r["success_curve"], float).tolist(),
                         "precision_curve": np.asarray(r["precision_curve"], float).tolist()})
    for t in trackers:
        mine = [r for r in rows if r["method"] == t]
        row = {"setting": ALL, "method": t, "seed": seed}
        for m in ("success_auc", "precision@20", "mean_iou"):
            row[m] = float(np.mean([r[m] for r in mine]))
        for m in ("fps", "cpu_fps"):
            v = [r[m] for r in mine if r[m] is not None]
            row[m] = float(np.mean(v)) if len(v) == len(mine) else None
        rows.append(row)
    return rows
