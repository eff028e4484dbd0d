"""Step 3a: where a superpixel sits on the person and what shape it has (its feature vector)."""

from __future__ import annotations

import numpy as np

FEATURE_NAMES = ("axis_distance", "height_from_top", "size", "width", "height", "contour_fraction")


def person_frame(mask: np.ndarray) -> tuple[float, float, float]:
    """The person's reference frame from a foreground mask: ``(top, axis_x, height)``.

    ``top`` is the highest foreground row, ``height`` the row span, and ``axis_x`` the mean
    column of the top 12 % of the rows (the head), which carried objects rarely reach, so the
    body axis does not move towards the object as the blob's centroid would.
    """
    if not isinstance(mask, np.ndarray) or mask.ndim != 2 or mask.dtype != bool:
        raise ValueError(f"mask must be a 2-D boolean array, got {getattr(mask, 'shape', None)}")
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        raise ValueError("mask is empty: there is no person to take a reference frame from")
    top, bottom = ys.min(), ys.max()
    height = float(bottom - top + 1)
    head = ys <= top + max(1.0, 0.12 * height)
    return float(top), float(xs[head].mean()), height


def superpixel_features(labels: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Features of superpixels 1..K of a label map (H, W), returned as (K, 6).

    Columns (:data:`FEATURE_NAMES`), all divided by the person height ``h`` so people of any size
    compare: ``|c_x - axis_x| / h`` (distance from the body axis, either walking direction),
    ``(c_y - top) / h``, ``sqrt(area) / h``, box width / h, box height / h, and the fraction of the
    superpixel's pixels that lie on the silhouette contour (a 4-neighbour outside ``mask``).
    ``mask`` defaults to ``labels > 0``.
    """
    if not isinstance(labels, np.ndarray) or labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 2-D integer array, got {getattr(labels, 'dtype', type(labels).__name__)}")
    if mask is None:
        mask = labels > 0
    if mask.shape != labels.shape:
        raise ValueError(f"mask must have the shape of labels {labels.shape}, got {mask.shape}")
    k = int(labels.max())
    if k == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    top, axis_x, h = person_frame(mask)
    padded = np.pad(mask, 1)
    # a pixel is on the contour when one of its 4 neighbours is background
    contour = mask & ~(padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs] - 1
    count = np.bincount(lab, minlength=k).astype(float)
    safe = np.maximum(count, 1.0)
    cx = np.bincount(lab, xs, minlength=k) / safe
    cy = np.bincount(lab, ys, minlength=k) / safe
    xmin = np.full(k, np.inf)
    xmax = np.full(k, -np.inf)
    ymin = np.full(k, np.inf)
    ymax = np.full(k, -np.inf)
    np.minimum.at(xmin, lab, xs)
    np.maximum.at(xmax, lab, xs)
    np.minimum.at(ymin, lab, ys)
    np.maximum.at(ymax, lab, ys)
    on_contour = np.bincount(lab, contour[ys, xs].astype(float), minlength=k) / safe
    feats = np.stack([np.abs(cx - axis_x) / h, (cy - top) / h, np.sqrt(count) / h,
                      (xmax - xmin + 1) / h, (ymax - ymin + 1) / h, on_contour], axis=1)
    feats[count == 0] = 0.0  # a label with no pixels (a gap in 1..K) gets a neutral row
    return feats
