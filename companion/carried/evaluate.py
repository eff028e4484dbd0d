"""Evaluation: precision, recall and F1 by box IoU >= 0.5 and by pixel overlap."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _check_boxes(boxes: np.ndarray, name: str) -> np.ndarray:
    boxes = np.asarray(boxes, float).reshape(-1, 4) if np.size(boxes) else np.zeros((0, 4))
    if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
        raise ValueError(f"{name} must be [x0, y0, x1, y1] with x1 >= x0 and y1 >= y0")
    return boxes


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every pair of boxes: a (N, 4), b (M, 4) -> (N, M).

    Boxes are ``[x0, y0, x1, y1)`` with the end exclusive, so a box's area is
    ``(x1 - x0) * (y1 - y0)``; an empty union gives IoU 0.
    """
    a, b = _check_boxes(a, "a"), _check_boxes(b, "b")
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def match_detections(pred: np.ndarray, gt: np.ndarray, scores: np.ndarray | None = None,
                     iou_threshold: float = 0.5) -> tuple[int, int, int]:
    """Greedy one-to-one matching (highest score first, each to its best free ground truth with
    IoU >= ``iou_threshold``), as in PASCAL VOC. Returns ``(tp, fp, fn)``."""
    if not 0.0 < iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
    pred, gt = _check_boxes(pred, "pred"), _check_boxes(gt, "gt")
    order = np.argsort(-np.asarray(scores, float)) if scores is not None else np.arange(len(pred))
    iou = box_iou(pred, gt)
    free = np.ones(len(gt), bool)
    tp = 0
    for i in order:
        if not free.any():
            break
        cand = np.where(free, iou[i], -1.0)
        j = int(np.argmax(cand))
        if cand[j] >= iou_threshold:
            free[j] = False
            tp += 1
    return tp, len(pred) - tp, len(gt) - tp


def prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts (0 where undefined)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate_detections(pred_boxes: Sequence[np.ndarray], pred_scores: Sequence[np.ndarray],
                        pred_masks: Sequence[np.ndarray], gt_boxes: Sequence[np.ndarray],
                        gt_masks: Sequence[np.ndarray], iou_threshold: float = 0.5) -> dict[str, float]:
    """Precision/recall/F1 over a set of frames, two ways:

    * ``box_*``: detections matched to ground-truth boxes at IoU >= ``iou_threshold``;
    * ``pixel_*``: the union of detected masks against the ground-truth object masks, counted
      in pixels over all frames (how much of the objects is found, how much of what is found is object).
    """
    n = len(gt_boxes)
    if not (len(pred_boxes) == len(pred_scores) == len(pred_masks) == len(gt_masks) == n):
        raise ValueError("predictions and ground truth must list the same number of frames")
    tp = fp = fn = 0
    ptp = pfp = pfn = 0
    for pb, ps, pm, gb, gm in zip(pred_boxes, pred_scores, pred_masks, gt_boxes, gt_masks):
        a, b, c = match_detections(pb, gb, ps, iou_threshold)
        tp, fp, fn = tp + a, fp + b, fn + c
        ptp += int((pm & gm).sum())
        pfp += int((pm & ~gm).sum())
        pfn += int((~pm & gm).sum())
    bp, br, bf = prf(tp, fp, fn)
    pp, pr, pf = prf(ptp, pfp, pfn)
    return {"box_precision": bp, "box_recall": br, "box_f1": bf, "tp": tp, "fp": fp, "fn": fn,
            "pixel_precision": pp, "pixel_recall": pr, "pixel_f1": pf}
