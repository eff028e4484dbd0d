"""The carried-object detector end to end: fit the codebooks, then ``detect(frame, background)``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from companion.carried.baseline import ShapeTemplate, template_occupancy
from companion.carried.codebook import Codebook, human_likeness, learn_codebook
from companion.carried.features import superpixel_features
from companion.carried.foreground import check_frame, foreground_confidence, foreground_mask, mask_from_confidence
from companion.carried.merging import Detection, edge_supported_merge, threshold_components
from companion.carried.probability import carried_probability_map, superpixel_means
from companion.carried.superpixels import DEFAULT_SCALES, foreground_superpixels
from companion.utils import progress


PERSON_MODELS = ("codebook", "template", "none")


@dataclass(frozen=True)
class DetectorConfig:
    """Every knob of the detector (values are our choices, tuned on walkers seed 1, not the paper's).

    ``person_model`` is what gives each superpixel its person-likeness ``P_h``: ``"codebook"``
    (the paper's matching probability), ``"template"`` (the mean occupancy of a fitted
    person-shape template over the superpixel, same pipeline otherwise) or ``"none"`` (a
    constant 0.5: every superpixel equally human-like); ``use_codebook=False`` is the same as
    ``"none"``. ``use_edges=False`` replaces edge-supported merging by thresholding the
    probability map into connected components. ``merge_scale``: the superpixel size whose labels
    the merging step joins (default the finest of ``scales``).
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
    person_model: str = "codebook"
    merge_scale: int | None = None

    @property
    def model(self) -> str:
        """The person model in use: ``person_model``, or ``"none"`` without the codebook."""
        return self.person_model if self.use_codebook else "none"

    @property
    def merge_index(self) -> int:
        """Index in ``scales`` of the labels the merging step joins."""
        return 0 if self.merge_scale is None else [int(s) for s in self.scales].index(int(self.merge_scale))

    def __post_init__(self) -> None:
        if self.person_model not in PERSON_MODELS:
            raise ValueError(f"person_model must be one of {PERSON_MODELS}, got {self.person_model!r}")
        if self.merge_scale is not None and int(self.merge_scale) not in [int(s) for s in self.scales]:
            raise ValueError(f"merge_scale {self.merge_scale} must be one of the scales {self.scales}")
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
            config: DetectorConfig = DetectorConfig(), template: ShapeTemplate | None = None,
            cache: dict | None = None) -> dict:
    """Every intermediate of the detector on one frame (for pictures and for :func:`detect`).

    ``codebooks`` (one per scale of ``config``) serve ``person_model="codebook"``, ``template``
    serves ``"template"``. ``cache``: a dict kept for one frame across several configs, so
    variants that share the foreground, a scale's superpixels or a person model's ``P_h``
    compute them once (SLIC dominates the cost).

    Returns a dict with ``confidence`` and ``mask`` (H, W), ``labels`` (list of (H, W) label
    maps, one per scale), ``merge_labels`` (the labels the merging step joins), ``human`` (list
    of (H, W) maps of the person-likeness), ``probability`` (H, W) the carried-object map, and
    ``detections``.
    """
    _check_pair(frame, background)
    model = config.model
    if model == "codebook":
        if codebooks is None or any(int(s) not in codebooks for s in config.scales):
            raise ValueError(f"codebooks for scales {config.scales} are needed (fit_codebooks), got "
                             f"{None if codebooks is None else sorted(codebooks)}")
    if model == "template" and template is None:
        raise ValueError("person_model='template' needs a template (fit_template)")
    cache = {} if cache is None else cache
    key = ("fg", config.fg_threshold)
    if key not in cache:
        conf = foreground_confidence(frame, background, config.fg_threshold)
        cache[key] = conf, mask_from_confidence(conf)
    conf, mask = cache[key]
    labels, human, p_h_list, b_list = [], [], [], []
    for s in config.scales:
        lab = cache.get(("sp", config.fg_threshold, int(s)))
        if lab is None:
            lab = cache[("sp", config.fg_threshold, int(s))] = foreground_superpixels(frame, mask, int(s))
        k = int(lab.max())
        # the person model's P_h depends on the superpixels and on which model (which codebook) scores them
        pkey = ("ph", config.fg_threshold, int(s), model,
                id(codebooks[int(s)]) if model == "codebook" else id(template) if model == "template" else 0)
        p_h = cache.get(pkey)
        if p_h is None:
            if model == "codebook" and k:
                p_h = human_likeness(superpixel_features(lab, mask), codebooks[int(s)])
            elif model == "template" and k:
                p_h = superpixel_means(lab, template_occupancy(mask, template))
            else:
                p_h = np.full(k, 0.5)
            cache[pkey] = p_h
        b = superpixel_means(lab, conf) if k else np.zeros(0)
        labels.append(lab)
        p_h_list.append(p_h)
        b_list.append(b)
        human.append(np.concatenate([[0.0], p_h])[lab])
    prob = carried_probability_map(labels, p_h_list, b_list)
    merge_labels = labels[config.merge_index]
    dets = merge_detections(frame, mask, merge_labels, prob, config)
    return {"confidence": conf, "mask": mask, "labels": labels, "merge_labels": merge_labels,
            "human": human, "probability": prob, "detections": dets}


def merge_detections(frame: np.ndarray, mask: np.ndarray, labels: np.ndarray,
                     probability: np.ndarray,
                     config: DetectorConfig = DetectorConfig()) -> list[Detection]:
    """The detector's last step on one frame's intermediates (from :func:`analyse`): the
    foreground ``mask``, the ``labels`` to merge (``analyse(...)["merge_labels"]``) and the ``probability`` map, all
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
           config: DetectorConfig = DetectorConfig(), template: ShapeTemplate | None = None,
           cache: dict | None = None) -> list[Detection]:
    """Carried objects in one RGB frame (H, W, 3) uint8 given its background (H, W, 3) uint8:
    a list of :class:`Detection` (box, mask, score), best first. Assumes one walker per frame.
    ``template`` serves ``person_model="template"``; ``cache`` see :func:`analyse`."""
    return analyse(frame, background, codebooks, config, template, cache)["detections"]


FULL = "full (multi-scale, codebook, edges)"
SINGLE = "single scale ({} px)"
NO_MODEL = "no person model"
TEMPLATE_MODEL = "template person model (superpixels, edges)"
MERGE_COARSE = "multi-scale, merged on {} px labels"


def variants(base: DetectorConfig = DetectorConfig()) -> dict[str, DetectorConfig]:
    """The ablations of the chapter's table: the full detector, each of its scales alone,
    merging on the coarsest labels, the template's person-likeness in place of the codebook's
    (same superpixels, map and merging), no person model at all, and no edge support."""
    out = {FULL: base}
    out.update({SINGLE.format(int(s)): replace(base, scales=(int(s),), merge_scale=None)
                for s in base.scales})
    if len(base.scales) > 1:
        out[MERGE_COARSE.format(max(int(s) for s in base.scales))] = replace(
            base, merge_scale=max(int(s) for s in base.scales))
    out[TEMPLATE_MODEL] = replace(base, person_model="template")
    out[NO_MODEL] = replace(base, person_model="none")
    out["no edge support"] = replace(base, use_edges=False)
    return out
