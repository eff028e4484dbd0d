"""A simple baseline: the foreground minus a fitted person-shape template (in the spirit of
Damen & Hogg's protrusions from a walking-person exemplar)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

# cv2 is imported in the functions that use it: `python -m companion.carried --help` and
# `import companion.carried` must work where OpenCV (an optional package) is not installed

from companion.carried.features import person_frame
from companion.carried.foreground import foreground_mask
from companion.carried.merging import Detection, threshold_components


@dataclass
class ShapeTemplate:
    """Mean silhouette of people who carry nothing on a canonical grid (``size`` x ``size``):
    rows span the person's height from the top, columns ``+-0.5`` height around the head axis,
    averaged with its mirror image (either walking direction)."""

    occupancy: np.ndarray

    @property
    def size(self) -> int:
        return self.occupancy.shape[0]


def _canonical_coords(mask: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    top, axis_x, h = person_frame(mask)
    ys, xs = np.nonzero(mask)
    r = np.clip(((ys - top) / h * size).astype(int), 0, size - 1)
    c = np.clip(((xs - axis_x) / h * size + size / 2).astype(int), 0, size - 1)
    return ys, xs, r, c


def fit_template(masks: Sequence[np.ndarray], size: int = 48) -> ShapeTemplate:
    """Average the foreground masks (H, W) bool of non-carrying people on the canonical grid."""
    import cv2

    if len(masks) == 0:
        raise ValueError("fit_template needs at least one mask")
    if size < 8:
        raise ValueError(f"size must be >= 8, got {size}")
    acc = np.zeros((size, size))
    n = 0
    for m in masks:
        if not m.any():
            continue
        grid = np.zeros((size, size))
        _, _, r, c = _canonical_coords(m, size)
        grid[r, c] = 1.0
        # fill the gaps the sparse mapping leaves on a grid finer than the person
        acc += cv2.dilate(grid, np.ones((2, 2)))
        n += 1
    if n == 0:
        raise ValueError("every mask given to fit_template is empty")
    occ = acc / n
    return ShapeTemplate((occ + occ[:, ::-1]) / 2)


def template_probability(mask: np.ndarray, template: ShapeTemplate) -> np.ndarray:
    """(H, W) map: ``1 - occupancy`` of the template at each foreground pixel (0 elsewhere), i.e.
    how unlikely a walking person is to cover that pixel."""
    out = np.zeros(mask.shape)
    if mask.any():
        ys, xs, r, c = _canonical_coords(mask, template.size)
        out[ys, xs] = 1.0 - template.occupancy[r, c]
    return out


def template_occupancy(mask: np.ndarray, template: ShapeTemplate) -> np.ndarray:
    """(H, W) map: the template's occupancy at each foreground pixel (0 elsewhere), i.e. how
    likely a walking person is to cover that pixel; its mean over a superpixel is that
    superpixel's person-likeness when the template is the person model."""
    out = np.zeros(mask.shape)
    if mask.any():
        ys, xs, r, c = _canonical_coords(mask, template.size)
        out[ys, xs] = template.occupancy[r, c]
    return out


def band_probability(mask: np.ndarray, width: float) -> np.ndarray:
    """Trivial baseline's map (H, W): 1 at foreground pixels farther than ``width`` times the
    person's height from the head axis (where arms and legs rarely reach), 0 elsewhere."""
    if not 0.0 <= width <= 1.0:
        raise ValueError(f"width must be a fraction of the height in [0, 1], got {width}")
    out = np.zeros(mask.shape)
    if mask.any():
        _, axis_x, h = person_frame(mask)
        ys, xs = np.nonzero(mask)
        far = np.abs(xs - axis_x) > width * h
        out[ys[far], xs[far]] = 1.0
    return out


def band_detections(mask: np.ndarray, width: float, min_area: int = 50) -> list[Detection]:
    """Trivial baseline: :func:`band_probability`, opened, as connected components of
    >= ``min_area`` pixels (no person model beyond 'a vertical band around the head')."""
    return template_detections(band_probability(mask, width), 0.5, min_area)


def whole_foreground_detections(mask: np.ndarray, min_area: int = 50) -> list[Detection]:
    """Trivial baseline: every foreground component of >= ``min_area`` pixels is one object."""
    return threshold_components(mask.astype(float), 0.5, min_area)


def template_detect(frame: np.ndarray, background: np.ndarray, template: ShapeTemplate,
                    threshold: float = 0.7, min_area: int = 50, fg_threshold: float = 25.0) -> list[Detection]:
    """Baseline detector: foreground pixels where the template's occupancy is below
    ``1 - threshold``, opened to cut thin bridges, as connected components of >= ``min_area``."""
    mask = foreground_mask(frame, background, fg_threshold)
    prob = template_probability(mask, template)
    return template_detections(prob, threshold, min_area)


def template_detections(probability: np.ndarray, threshold: float = 0.7,
                        min_area: int = 50) -> list[Detection]:
    """The baseline's last step on a :func:`template_probability` map (H, W): pixels
    >= ``threshold``, opened, as connected components of >= ``min_area`` pixels."""
    import cv2

    keep = cv2.morphologyEx((probability >= threshold).astype(np.uint8), cv2.MORPH_OPEN,
                           np.ones((3, 3), np.uint8))
    kept = np.where(keep > 0, probability, 0.0)
    return threshold_components(kept, threshold, min_area)
