"""Carried-object detection from a single frame with multi-scale superpixels (arXiv 1801.03551).

Steps, one module each: ``foreground`` (background subtraction), ``superpixels`` (SLIC inside
the foreground at several scales), ``features`` and ``codebook`` (human-likeness of each
superpixel), ``probability`` (the carried-object map), ``merging`` (edge-supported merging),
``detector`` (end to end, with the person model as an option: codebook, template or none),
``baseline`` (a person-template baseline and two trivial ones) and ``evaluate``.
"""

from companion.carried.baseline import (ShapeTemplate, band_detections, band_probability, fit_template,
                                        template_detect, template_detections, template_occupancy,
                                        template_probability, whole_foreground_detections)
from companion.carried.codebook import Codebook, human_likeness, learn_codebook
from companion.carried.detector import (DetectorConfig, analyse, detect, fit_codebooks,
                                        merge_detections, variants)
from companion.carried.evaluate import box_iou, evaluate_detections, match_detections, prf
from companion.carried.features import FEATURE_NAMES, person_frame, superpixel_features
from companion.carried.foreground import foreground_confidence, foreground_mask
from companion.carried.merging import Detection, boundary_contrast, edge_supported_merge, threshold_components
from companion.carried.probability import carried_probability_map, superpixel_means
from companion.carried.superpixels import DEFAULT_SCALES, foreground_superpixels, multiscale_superpixels

__all__ = [
    "Codebook", "DEFAULT_SCALES", "band_detections", "band_probability", "template_occupancy",
    "whole_foreground_detections", "Detection", "DetectorConfig", "FEATURE_NAMES", "ShapeTemplate", "analyse",
    "boundary_contrast", "box_iou", "carried_probability_map", "detect", "edge_supported_merge",
    "evaluate_detections", "fit_codebooks", "fit_template", "foreground_confidence", "foreground_mask",
    "foreground_superpixels", "human_likeness", "learn_codebook", "match_detections",
    "merge_detections", "multiscale_superpixels", "person_frame", "prf",
    "superpixel_features", "superpixel_means", "template_detect", "template_detections",
    "template_probability", "threshold_components", "variants",
]
