"""Step 2: superpixels of the foreground at several scales (SLIC restricted to the mask)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from companion.carried.foreground import check_frame, check_mask

DEFAULT_SCALES = (5, 8, 12)  # superpixel side in pixels, fine to coarse (our choice; the paper's is not known)


def foreground_superpixels(frame: np.ndarray, mask: np.ndarray, region_size: int,
                           compactness: float = 10.0) -> np.ndarray:
    """SLIC superpixels of the foreground only: an int label map (H, W), 0 outside ``mask``.

    scikit-image's ``slic(mask=...)`` places its seeds inside the mask and never assigns a pixel
    outside it, so no superpixel straddles the silhouette: each is a piece of the person or of what
    it carries. ``n_segments = |mask| / region_size**2``. Labels are 1..K, consecutive.
    """
    from skimage.segmentation import slic

    check_frame(frame)
    check_mask(mask, frame.shape[:2])
    if region_size < 2:
        raise ValueError(f"region_size must be >= 2 pixels, got {region_size}")
    labels = np.zeros(mask.shape, np.int32)
    if not mask.any():
        return labels
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop_mask = mask[y0:y1, x0:x1]
    n_segments = max(1, int(round(crop_mask.sum() / region_size**2)))
    crop = slic(frame[y0:y1, x0:x1], n_segments=n_segments, compactness=compactness, mask=crop_mask,
                start_label=1, convert2lab=True, enforce_connectivity=True)
    labels[y0:y1, x0:x1] = crop
    # relabel 1..K without gaps (slic may skip labels of empty clusters)
    uniq = np.unique(labels)
    uniq = uniq[uniq > 0]
    lut = np.zeros(labels.max() + 1, np.int32)
    lut[uniq] = np.arange(1, len(uniq) + 1)
    return lut[labels]


def multiscale_superpixels(frame: np.ndarray, mask: np.ndarray,
                           scales: Sequence[int] = DEFAULT_SCALES) -> list[np.ndarray]:
    """One label map per scale in ``scales`` (superpixel sides in pixels), see
    :func:`foreground_superpixels`."""
    if len(scales) == 0:
        raise ValueError("scales must name at least one superpixel size")
    return [foreground_superpixels(frame, mask, int(s)) for s in scales]
