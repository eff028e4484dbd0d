"""Step 1: the foreground mask of a frame against a background model (background subtraction)."""

from __future__ import annotations

import numpy as np

# cv2 is imported in the functions that use it: `python -m companion.carried --help` and
# `import companion.carried` must work where OpenCV (an optional package) is not installed


def check_frame(frame: np.ndarray, name: str = "frame") -> np.ndarray:
    """Validate an RGB frame: a (H, W, 3) uint8 array; returns it unchanged."""
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ValueError(f"{name} must have dtype uint8 (an 8-bit RGB image), got {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"{name} must have shape (H, W, 3), got {frame.shape}")
    if frame.shape[0] < 8 or frame.shape[1] < 8:
        raise ValueError(f"{name} must be at least 8x8 pixels, got {frame.shape[:2]}")
    return frame


def check_mask(mask: np.ndarray, shape: tuple[int, int], name: str = "mask") -> np.ndarray:
    """Validate a 2-D boolean mask of the given (H, W) shape."""
    if not isinstance(mask, np.ndarray) or mask.dtype != bool:
        raise ValueError(f"{name} must be a boolean numpy array, got {getattr(mask, 'dtype', type(mask).__name__)}")
    if mask.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {mask.shape}")
    return mask


def foreground_confidence(frame: np.ndarray, background: np.ndarray, threshold: float = 25.0,
                          shadow_removal: bool = True) -> np.ndarray:
    """Per-pixel foreground confidence in [0, 1], shape (H, W).

    The frame is first divided by its global gain relative to the background (the median ratio,
    robust because a walker covers a minority of the frame), which undoes illumination drift.
    The difference ``D(x) = max_c |I_c(x) - B_c(x)|`` gives ``min(1, D / (2 * threshold))``, so a
    pixel at the threshold has confidence 0.5. With ``shadow_removal``, pixels darker than the
    background by a factor in [0.35, 0.95] with the same chromaticity and the same local texture
    (normalised cross-correlation of 5x5 patches >= 0.5: a cast shadow darkens the ground but
    keeps its pattern, as in MOG2's shadow test plus a texture check) get confidence 0.
    """
    check_frame(frame)
    check_frame(background, "background")
    if frame.shape != background.shape:
        raise ValueError(f"frame and background must have the same shape, got {frame.shape} and {background.shape}")
    if threshold <= 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    f = frame.astype(np.float32)
    b = background.astype(np.float32)
    gain = float(np.median(f.sum(2) + 1.0) / np.median(b.sum(2) + 1.0))
    f = f / gain
    diff = np.abs(f - b).max(axis=2)
    conf = np.clip(diff / (2.0 * threshold), 0.0, 1.0)
    if shadow_removal:
        ratio = (f.sum(2) + 1.0) / (b.sum(2) + 1.0)
        chroma_f = f / (f.sum(2, keepdims=True) + 1.0)
        chroma_b = b / (b.sum(2, keepdims=True) + 1.0)
        same_colour = np.abs(chroma_f - chroma_b).max(axis=2) < 0.04
        conf[(ratio > 0.35) & (ratio < 0.95) & same_colour & (_local_ncc(f.sum(2), b.sum(2)) >= 0.5)] = 0.0
    return conf


def _local_ncc(a: np.ndarray, b: np.ndarray, size: int = 5) -> np.ndarray:
    """Normalised cross-correlation of the size x size patches around every pixel of a and b."""
    import cv2

    box = lambda x: cv2.boxFilter(x, -1, (size, size))  # noqa: E731
    ma, mb = box(a), box(b)
    cov = box(a * b) - ma * mb
    va = np.maximum(box(a * a) - ma * ma, 0.0)
    vb = np.maximum(box(b * b) - mb * mb, 0.0)
    # flat patches have no texture to compare: a flat background under a flat darker patch counts as shadow
    flat = (va < 9.0) & (vb < 9.0)
    return np.where(flat, 1.0, cov / np.sqrt(va * vb + 1e-6))


def foreground_mask(frame: np.ndarray, background: np.ndarray, threshold: float = 25.0,
                    min_area: int = 80, shadow_removal: bool = True) -> np.ndarray:
    """The cleaned foreground mask (H, W) bool: confidence >= 0.5, opened, closed, holes filled,
    and only the connected components of at least ``min_area`` pixels kept."""
    if min_area < 1:
        raise ValueError(f"min_area must be >= 1, got {min_area}")
    conf = foreground_confidence(frame, background, threshold, shadow_removal)
    return mask_from_confidence(conf, min_area)


def mask_from_confidence(conf: np.ndarray, min_area: int = 80) -> np.ndarray:
    """Clean ``conf >= 0.5`` into the foreground mask (see :func:`foreground_mask`)."""
    import cv2

    raw = (conf >= 0.5).astype(np.uint8)
    # opening removes isolated noise pixels; closing reconnects thin limbs split by noise
    raw = cv2.morphologyEx(raw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)))
    raw = cv2.morphologyEx(raw, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(raw, connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area
    mask = keep[labels]
    # fill holes: background pixels not connected to the image border
    inv = (~mask).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    hole = np.ones(n, bool)
    hole[border] = False
    hole[0] = False
    return mask | (hole[labels] & (inv > 0))
