"""Checked exercises of chapter 10 (carried-object detection)."""

from __future__ import annotations

import numpy as np

from companion.carried.evaluate import box_iou as _box_iou
from companion.carried.features import superpixel_features as _superpixel_features
from companion.carried.probability import carried_probability_map as _carried_probability_map
from companion.exercises import exercise


def _grid_labels(rng: np.random.Generator, h: int = 40, w: int = 30, cell: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A blocky 'person' mask (union of rectangles) cut into grid-cell superpixels 1..K."""
    mask = np.zeros((h, w), bool)
    for _ in range(4):
        y0, x0 = rng.integers(0, h - 8), rng.integers(0, w - 8)
        mask[y0:y0 + rng.integers(6, h - y0 + 1), x0:x0 + rng.integers(4, 12)] = True
    ys, xs = np.mgrid[0:h, 0:w]
    cells = (ys // cell) * (w // cell + 1) + xs // cell + 1
    cells[~mask] = 0
    uniq = np.unique(cells[mask])
    lut = np.zeros(cells.max() + 1, np.int64)
    lut[uniq] = np.arange(1, len(uniq) + 1)
    return lut[cells], mask


def _feature_cases():
    rng = np.random.default_rng(10)
    for _ in range(3):
        labels, mask = _grid_labels(rng)
        yield (labels, mask), {}


@exercise("ch10.features", _feature_cases)
def superpixel_features(labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Reference: the (K, 6) superpixel features of :func:`companion.carried.superpixel_features`."""
    return _superpixel_features(labels, mask)


def _combine_cases():
    rng = np.random.default_rng(11)
    for n_scales in (1, 2, 3):
        maps, p_h, b = [], [], []
        for s in range(n_scales):
            labels, _ = _grid_labels(np.random.default_rng(5), cell=3 + 2 * s)
            k = int(labels.max())
            maps.append(labels)
            p_h.append(rng.random(k))
            b.append(rng.random(k))
        yield (maps, p_h, b), {}


@exercise("ch10.combine", _combine_cases)
def carried_probability_map(label_maps, human_likeness, background_info) -> np.ndarray:
    """Reference: ``P_c(x) = mean_s (1 - P_h^s) * B^s`` at each pixel's superpixel."""
    return _carried_probability_map(label_maps, human_likeness, background_info)


def _iou_cases():
    yield (np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 5, 15, 15], [20, 20, 30, 30]])), {}
    rng = np.random.default_rng(12)
    for n, m in ((4, 3), (6, 6)):
        a = rng.integers(0, 30, (n, 2))
        b = rng.integers(0, 30, (m, 2))
        yield (np.hstack([a, a + rng.integers(1, 20, (n, 2))]), np.hstack([b, b + rng.integers(1, 20, (m, 2))])), {}


@exercise("ch10.iou", _iou_cases)
def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Reference: the (N, M) IoU of boxes ``[x0, y0, x1, y1)``."""
    return _box_iou(a, b)
