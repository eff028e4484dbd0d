"""OTB evaluation (Wu, Lim & Yang, CVPR 2013): overlap success plot and centre-error precision plot."""

from __future__ import annotations

import numpy as np

OVERLAP_THRESHOLDS = np.linspace(0, 1, 21)  # OTB: 0, 0.05, ..., 1
PIXEL_THRESHOLDS = np.arange(0, 51)  # OTB: 0..50 px


def frame_rates(n_frames: int, timer) -> dict[str, float]:
    """Frames per wall-clock second (``fps``) and per CPU second of this process (``cpu_fps``,
    NaN if no CPU time was measured) of a finished :class:`companion.utils.Timer`."""
    return {"fps": n_frames / timer.seconds,
            "cpu_fps": n_frames / timer.cpu_seconds if timer.cpu_seconds > 0 else float("nan")}


def _as_boxes(boxes, name: str) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    if b.ndim == 1:
        b = b[None]
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"{name} must be boxes (N, 4) as x, y, w, h; got shape {np.shape(boxes)}")
    if (b[:, 2:] < 0).any():
        raise ValueError(f"{name} has a negative width or height")
    return b


def iou(a, b) -> np.ndarray:
    r"""Intersection over union of boxes given as (x, y, w, h), row by row: (N,) in [0, 1].

    :math:`\mathrm{IoU} = |A \cap B| / |A \cup B|`.
    """
    a, b = _as_boxes(a, "a"), _as_boxes(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must hold the same number of boxes, got {len(a)} and {len(b)}")
    x0 = np.maximum(a[:, 0], b[:, 0])
    y0 = np.maximum(a[:, 1], b[:, 1])
    x1 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y1 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def center_error(a, b) -> np.ndarray:
    """Euclidean distance between box centres, row by row (N,) in pixels."""
    a, b = _as_boxes(a, "a"), _as_boxes(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must hold the same number of boxes, got {len(a)} and {len(b)}")
    ca = a[:, :2] + a[:, 2:] / 2
    cb = b[:, :2] + b[:, 2:] / 2
    return np.linalg.norm(ca - cb, axis=1)


def success_curve(pred, gt, thresholds: np.ndarray = OVERLAP_THRESHOLDS) -> np.ndarray:
    """Share of frames whose IoU with the ground truth is above each threshold (strictly, as OTB)."""
    overlaps = iou(pred, gt)
    return np.array([(overlaps > t).mean() for t in thresholds])


def success_auc(pred, gt) -> float:
    """Area under the success plot: the mean of :func:`success_curve` over OTB's 21 thresholds."""
    return float(success_curve(pred, gt).mean())


def precision_curve(pred, gt, thresholds: np.ndarray = PIXEL_THRESHOLDS) -> np.ndarray:
    """Share of frames whose centre error is within each pixel threshold."""
    err = center_error(pred, gt)
    return np.array([(err <= t).mean() for t in thresholds])


def precision_at(pred, gt, pixels: float = 20.0) -> float:
    """OTB's precision score: the share of frames with centre error <= ``pixels`` (default 20)."""
    return float((center_error(pred, gt) <= pixels).mean())
