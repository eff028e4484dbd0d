"""Step 5: merge carried-object superpixels into object shapes, using strong edge support."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# cv2 is imported in the functions that use it: `python -m companion.carried --help` and
# `import companion.carried` must work where OpenCV (an optional package) is not installed


@dataclass
class Detection:
    """One carried-object detection: ``box`` ``[x0, y0, x1, y1)`` (end exclusive), ``mask`` (H, W)
    bool and ``score`` in [0, 1]."""

    box: np.ndarray
    mask: np.ndarray
    score: float


def _box(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=int)


def boundary_contrast(frame: np.ndarray, labels: np.ndarray) -> dict[tuple[int, int], tuple[float, int]]:
    """For every pair of 4-adjacent superpixels (a < b): the mean colour contrast across their shared
    boundary (max over RGB of the absolute difference of the two touching pixels) and the number of
    touching pixel pairs. A strong edge between two superpixels means two different surfaces."""
    if labels.shape != frame.shape[:2]:
        raise ValueError(f"labels {labels.shape} must have the frame's (H, W) {frame.shape[:2]}")
    img = frame.astype(np.float32)
    sums: dict[tuple[int, int], list[float]] = {}
    for a_lab, b_lab, a_img, b_img in ((labels[:, :-1], labels[:, 1:], img[:, :-1], img[:, 1:]),
                                       (labels[:-1], labels[1:], img[:-1], img[1:])):
        touch = (a_lab != b_lab) & (a_lab > 0) & (b_lab > 0)
        if not touch.any():
            continue
        la, lb = a_lab[touch], b_lab[touch]
        diff = np.abs(a_img[touch] - b_img[touch]).max(axis=1)
        lo, hi = np.minimum(la, lb), np.maximum(la, lb)
        key = lo.astype(np.int64) * (int(labels.max()) + 1) + hi
        uniq, inv = np.unique(key, return_inverse=True)
        tot = np.bincount(inv, diff)
        cnt = np.bincount(inv)
        for u, t, c in zip(uniq, tot, cnt):
            pair = (int(u // (labels.max() + 1)), int(u % (labels.max() + 1)))
            s = sums.setdefault(pair, [0.0, 0])
            s[0] += float(t)
            s[1] += int(c)
    return {pair: (s / c, c) for pair, (s, c) in sums.items()}


def edge_supported_merge(frame: np.ndarray, labels: np.ndarray, probability: np.ndarray,
                         threshold: float = 0.65, grow_threshold: float = 0.35,
                         edge_threshold: float = 20.0, support_weight: float = 0.5,
                         min_area: int = 50) -> list[Detection]:
    """Merge superpixels of high carried-object probability into objects (the paper's last step).

    1. Candidates: superpixels whose mean probability ``p`` is >= ``grow_threshold``.
    2. Merging: two adjacent candidates join one region when the edge between them is weak
       (mean boundary contrast < ``edge_threshold``): no edge, same surface, same object.
    3. Edge support ``e``: the fraction of the region's boundary with the rest of the person that
       lies on a strong edge (contrast >= ``edge_threshold``); a carried object is a different
       surface from the body it touches, a piece of the body is not.
    4. A region is kept when ``score = p_mean + support_weight * (e - 0.5) >= threshold`` and its
       area is >= ``min_area``: strong support lets a moderately probable region through, weak
       support vetoes a probable one. ``support_weight = 0`` is plain thresholding of regions.

    Returns the detections (score clipped to [0, 1]) sorted by score.
    """
    if labels.shape != frame.shape[:2] or probability.shape != labels.shape:
        raise ValueError(f"frame {frame.shape[:2]}, labels {labels.shape} and probability "
                         f"{probability.shape} must share one (H, W)")
    if not 0.0 <= grow_threshold <= threshold <= 1.0:
        raise ValueError(f"need 0 <= grow_threshold <= threshold <= 1, got {grow_threshold}, {threshold}")
    k = int(labels.max())
    if k == 0:
        return []
    inside = labels > 0
    lab = labels[inside] - 1
    count = np.bincount(lab, minlength=k)
    sp_prob = np.concatenate([[0.0], np.bincount(lab, probability[inside], minlength=k) / np.maximum(count, 1)])
    cand = sp_prob >= grow_threshold
    cand[0] = False
    contrast = boundary_contrast(frame, labels)
    parent = np.arange(k + 1)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (a, b), (c, _) in contrast.items():
        if c < edge_threshold and cand[a] and cand[b]:
            parent[find(a)] = find(b)
    root = np.array([find(i) for i in range(k + 1)])
    detections = []
    for r in np.unique(root[cand]):
        in_obj = (root == r) & cand
        strong = total = 0
        for (a, b), (c, n) in contrast.items():
            if in_obj[a] != in_obj[b]:  # a boundary between the region and the rest of the person
                total += n
                strong += n if c >= edge_threshold else 0
        support = strong / total if total else 1.0
        mask = in_obj[labels]
        area = int(mask.sum())
        p_mean = float(probability[mask].mean())
        score = p_mean + support_weight * (support - 0.5)
        if score < threshold or area < min_area:
            continue
        detections.append(Detection(_box(mask), mask, float(np.clip(score, 0.0, 1.0))))
    return sorted(detections, key=lambda d: -d.score)


def threshold_components(probability: np.ndarray, threshold: float = 0.65, min_area: int = 50) -> list[Detection]:
    """Without edge support: the 8-connected components of ``probability >= threshold``
    (the ablation that skips the merging step)."""
    import cv2

    if probability.ndim != 2:
        raise ValueError(f"probability must be an (H, W) map, got shape {probability.shape}")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    binary = (probability >= threshold).astype(np.uint8)
    n, comp, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    out = []
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < min_area:
            continue
        mask = comp == i
        out.append(Detection(_box(mask), mask, float(probability[mask].mean())))
    return sorted(out, key=lambda d: -d.score)
