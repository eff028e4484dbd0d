"""The carried-object detector end to end: fit the codebooks, then ``detect(frame, background)``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from companion.carried.codebook import Codebook, human_likeness, learn_codebook
from companion.carried.features import superpixel_features
from companion.carried.foreground import check_frame, foreground_confidence, foreground_mask, mask_from_confidence
from companion.carried.merging import Detection, edge_supported_merge, threshold_components
from companion.carried.probability import carried_probability_map, superpixel_means
from companion.carried.superpixels import DEFAULT_SCALES, foreground_superpixels
from companion.utils import progress


@dataclass(frozen=True)
class DetectorConfig:
    """Every knob of the detector (values are our choices, tuned on walkers seed 1, not the paper's).

    ``use_codebook=False`` replaces the matching probability by a constant 0.5 (every superpixel
    equally human-like); ``use_edges=False`` replaces edge-supported merging by thresholding the
    probability map into connected components.
    """

    scales: tuple[int, ...] = DEFAULT_SCALES
    fg_threshold: float = 25.0
    n_words: int = 48
    match_quantile: float = 0.99
    threshold: float = 0.65
    grow_threshold: float = 0.35
    edge_threshold: float = 20.0
    support_weight: float = 0.5
    min_area: int = 50
    use_codebook: bool = True
    use_edges: bool = True

    def __post_init__(self) -> None:
        if len(self.scales) == 0 or any(int(s) < 2 for s in self.scales):
            raise ValueError(f"scales must be superpixel sizes >= 2, got {self.scales}")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")


def _check_pair(frame: np.ndarray, background: np.ndarray) -> None:
    check_frame(frame)
    check_frame(background, "background")
    if frame.shape != background.shape:
        raise ValueError(f"frame and background must have the same shape, got {frame.shape} and {background.shape}")


def fit_codebooks(frames: Sequence[np.ndarray], backgrounds: Sequence[np.ndarray],
                  config: DetectorConfig = DetectorConfig(), seed: int = 0,
                  desc: str = "codebook features") -> dict[int, Codebook]:
    """Learn one codebook per superpixel scale from frames of people who carry nothing.

    The same pipeline as at test time (foreground mask, superpixels, features) runs on every
    training frame, so the codebook sees the same kind of superpixels it will be matched against.
    """
    if len(frames) == 0 or len(frames) != len(backgrounds):
        raise ValueError(f"need as many backgrounds as frames (>= 1), got {len(frames)} and {len(backgrounds)}")
    feats: dict[int, list[np.ndarray]] = {int(s): [] for s in config.scales}
    for frame, bg in progress(list(zip(frames, backgrounds)), desc=desc):
        _check_pair(frame, bg)
        mask = foreground_mask(frame, bg, config.fg_threshold)
        if not mask.any():
            continue
        for s in config.scales:
            feats[int(s)].append(superpixel_features(foreground_superpixels(frame, mask, int(s)), mask))
    out = {}
    for s, rows in feats.items():
        x = np.concatenate(rows) if rows else np.zeros((0, 6))
        if len(x) < config.n_words:
            raise ValueError(f"scale {s}: only {len(x)} training superpixels for {config.n_words} codewords")
        out[s] = learn_codebook(x, config.n_words, config.match_quantile, seed)
    return out


def analyse(frame: np.ndarray, background: np.ndarray, codebooks: dict[int, Codebook] | None,
            config: DetectorConfig = DetectorConfig()) -> dict:
    """Every intermediate of the detector on one frame (for pictures and for :func:`detect`).

    Returns a dict with ``confidence`` and ``mask`` (H, W), ``labels`` (list of (H, W) label
    maps, one per scale), ``human`` (list of (H, W) maps of the matching probability),
    ``probability`` (H, W) the carried-object map, and ``detections``.
    """
    _check_pair(frame, background)
    if config.use_codebook:
        if codebooks is None or any(int(s) not in codebooks for s in config.scales):
            raise ValueError(f"codebooks for scales {config.scales} are needed (fit_codebooks), got "
                             f"{None if codebooks is None else sorted(codebooks)}")
    conf = foreground_confidence(frame, background, config.fg_threshold)
    mask = mask_from_confidence(conf)
    labels, human, p_h_list, b_list = [], [], [], []
    for s in config.scales:
        lab = foreground_superpixels(frame, mask, int(s))
        k = int(lab.max())
        if config.use_codebook and k:
            p_h = human_likeness(superpixel_features(lab, mask), codebooks[int(s)])
        else:
            p_h = np.full(k, 0.5)
        b = superpixel_means(lab, conf) if k else np.zeros(0)
        labels.append(lab)
        p_h_list.append(p_h)
        b_list.append(b)
        human.append(np.concatenate([[0.0], p_h])[lab])
    prob = carried_probability_map(labels, p_h_list, b_list)
    dets = merge_detections(frame, mask, labels[0], prob, config)
    return {"confidence": conf, "mask": mask, "labels": labels, "human": human, "probability": prob,
            "detections": dets}


def merge_detections(frame: np.ndarray, mask: np.ndarray, labels: np.ndarray,
                     probability: np.ndarray,
                     config: DetectorConfig = DetectorConfig()) -> list[Detection]:
    """The detector's last step on one frame's intermediates (from :func:`analyse`): the
    foreground ``mask``, the finest scale's ``labels`` and the ``probability`` map, all
    (H, W). Only this step reads ``threshold`` and ``grow_threshold``, so tuning them
    reuses the rest."""
    if not mask.any():
        return []
    if config.use_edges:
        return edge_supported_merge(frame, labels, probability, config.threshold,
                                    config.grow_threshold, config.edge_threshold,
                                    config.support_weight, config.min_area)
    return threshold_components(probability, config.threshold, config.min_area)


def detect(frame: np.ndarray, background: np.ndarray, codebooks: dict[int, Codebook] | None,
           config: DetectorConfig = DetectorConfig()) -> list[Detection]:
    """Carried objects in one RGB frame (H, W, 3) uint8 given its background (H, W, 3) uint8:
    a list of :class:`Detection` (box, mask, score), best first. Assumes one walker per frame."""
    return analyse(frame, background, codebooks, config)["detections"]


def variants(base: DetectorConfig = DetectorConfig(), single_scale: int = 8) -> dict[str, DetectorConfig]:
    """The ablations of the chapter's table: the full detector and each step removed."""
    return {
        "full (multi-scale, codebook, edges)": base,
        f"single scale ({single_scale} px)": replace(base, scales=(single_scale,)),
        "no codebook": replace(base, use_codebook=False),
        "no edge support": replace(base, use_edges=False),
    }
