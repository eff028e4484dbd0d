"""Run every tracker variant on named sequences and tabulate OTB success AUC, precision@20 and fps."""

from __future__ import annotations

import numpy as np

from companion.tracking.baselines import available_opencv_trackers, run_opencv_tracker
from companion.tracking.metrics import precision_at, success_auc, success_curve, precision_curve
from companion.tracking.tracker import TrackerConfig, run_tracker

VARIANTS = {
    "ours (tree RNN + sparse coding)": {},
    "ours without online update": {"online_update": False},
    "ours with raw-pixel features": {"features": "pixels"},
}


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
        out[f"OpenCV {name}"] = run_opencv_tracker(name, frames, gt[0])
    for res in out.values():
        res["auc"] = success_auc(res["boxes"], gt)
        res["precision20"] = precision_at(res["boxes"], gt)
        res["success_curve"] = success_curve(res["boxes"], gt)
        res["precision_curve"] = precision_curve(res["boxes"], gt)
        res.pop("tracker", None)
    return out


def summarize(per_sequence: dict[str, dict[str, dict]]) -> list[dict]:
    """Table rows: per tracker, mean AUC / precision@20 / fps over sequences, and per-sequence AUC."""
    trackers = list(next(iter(per_sequence.values())))
    rows = []
    for t in trackers:
        row = {"tracker": t,
               "success_auc": float(np.mean([r[t]["auc"] for r in per_sequence.values()])),
               "precision@20": float(np.mean([r[t]["precision20"] for r in per_sequence.values()])),
               "fps": float(np.mean([r[t]["fps"] for r in per_sequence.values()]))}
        row.update({f"auc:{s}": float(r[t]["auc"]) for s, r in per_sequence.items()})
        rows.append(row)
    return rows
