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
        out[f"OpenCV {name}"] = run_opencv_tracker(name, frames, gt[0], seed=seed)
    for res in out.values():
        res["auc"] = success_auc(res["boxes"], gt)
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

    One row per (sequence, tracker) with success AUC, precision@20, fps and both curves
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
                         "precision@20": float(r["precision20"]), "fps": _finite_or_none(r["fps"]),
                         "success_curve": np.asarray(r["success_curve"], float).tolist(),
                         "precision_curve": np.asarray(r["precision_curve"], float).tolist()})
    for t in trackers:
        mine = [r for r in rows if r["method"] == t]
        fps = [r["fps"] for r in mine if r["fps"] is not None]
        rows.append({"setting": ALL, "method": t, "seed": seed,
                     "success_auc": float(np.mean([r["success_auc"] for r in mine])),
                     "precision@20": float(np.mean([r["precision@20"] for r in mine])),
                     "fps": float(np.mean(fps)) if len(fps) == len(mine) else None})
    return rows
