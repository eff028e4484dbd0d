"""Step 4: the carried-object probability map from all scales."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def superpixel_means(labels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean of a per-pixel map (H, W) over each superpixel 1..K of ``labels``: (K,)."""
    if labels.shape != values.shape:
        raise ValueError(f"labels and values must have the same shape, got {labels.shape} and {values.shape}")
    k = int(labels.max())
    inside = labels > 0
    lab = labels[inside] - 1
    count = np.maximum(np.bincount(lab, minlength=k), 1)
    return np.bincount(lab, values[inside].astype(float), minlength=k) / count


def carried_probability_map(label_maps: Sequence[np.ndarray], human_likeness: Sequence[np.ndarray],
                            background_info: Sequence[np.ndarray]) -> np.ndarray:
    """Per-pixel carried-object probability (H, W) in [0, 1]:

    ``P_c(x) = (1/S) sum_s (1 - P_h^s(l_s(x))) * B^s(l_s(x))``

    where ``l_s(x)`` is the superpixel of pixel x at scale s (label maps (H, W), 0 = background),
    ``P_h^s`` (K_s,) the codebook matching probability of each superpixel and ``B^s`` (K_s,) its
    background information: its mean foreground confidence, low where the "object" may only be
    background mistaken for foreground. Pixels outside every superpixel get 0.
    """
    if not (len(label_maps) == len(human_likeness) == len(background_info)) or len(label_maps) == 0:
        raise ValueError("label_maps, human_likeness and background_info must be non-empty lists of the same length")
    out = np.zeros(label_maps[0].shape, float)
    for labels, p_h, b in zip(label_maps, human_likeness, background_info):
        k = int(labels.max())
        if labels.shape != out.shape:
            raise ValueError(f"every label map must have shape {out.shape}, got {labels.shape}")
        if len(p_h) != k or len(b) != k:
            raise ValueError(f"a label map with {k} superpixels needs {k} probabilities, got {len(p_h)} and {len(b)}")
        per_sp = np.concatenate([[0.0], (1.0 - np.asarray(p_h, float)) * np.asarray(b, float)])
        out += per_sp[labels]
    return out / len(label_maps)
