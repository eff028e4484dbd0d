"""The controls of the ablation: the person model as an option (codebook, template, none), the
merge-label scale, the trivial baselines, the best single scale chosen on the tuning seed and the
scale-aware rows of the camera shift."""

import json
from dataclasses import replace

import numpy as np
import pytest

import companion.carried.__main__ as cli
from companion import data
from companion.carried import (DetectorConfig, analyse, detect, fit_codebooks, fit_template,
                               foreground_mask, superpixel_means)
from companion.carried.baseline import (band_detections, band_probability, template_occupancy,
                                        whole_foreground_detections)
from companion.carried.detector import FULL, NO_MODEL, SINGLE, TEMPLATE_MODEL, variants

CFG = DetectorConfig(n_words=24)


@pytest.fixture(scope="module")
def models():
    train = data.load("walkers", n_frames=40, carry_fraction=0.0, seed=101)
    books = fit_codebooks(train.frames, train.backgrounds, CFG)
    template = fit_template([foreground_mask(f, b) for f, b in zip(train.frames, train.backgrounds)])
    test = data.load("walkers", n_frames=4, carry_fraction=1.0, frames_per_walker=2, seed=3)
    return books, template, test


def test_template_person_model_scores_superpixels_by_mean_occupancy(models):
    books, template, test = models
    f, b = test.frames[0], test.backgrounds[0]
    a = analyse(f, b, None, replace(CFG, person_model="template"), template)
    occ = template_occupancy(a["mask"], template)
    for lab, human in zip(a["labels"], a["human"]):
        p_h = superpixel_means(lab, occ)
        assert np.allclose(human, np.concatenate([[0.0], p_h])[lab])
    # the template's P_h is not the codebook's, nor the constant of no person model
    c = analyse(f, b, books, CFG)
    n = analyse(f, b, None, replace(CFG, person_model="none"))
    assert not np.allclose(a["probability"], c["probability"])
    assert not np.allclose(a["probability"], n["probability"])
    assert np.all(n["probability"] <= 0.5 + 1e-12)


def test_person_model_and_merge_scale_are_checked():
    with pytest.raises(ValueError, match="person_model"):
        DetectorConfig(person_model="skeleton")
    with pytest.raises(ValueError, match="merge_scale"):
        DetectorConfig(merge_scale=7)
    f = np.zeros((40, 40, 3), np.uint8)
    with pytest.raises(ValueError, match="template"):
        detect(f, f, None, replace(CFG, person_model="template"))
    assert DetectorConfig(use_codebook=False).model == "none"


def test_merge_scale_picks_the_labels_that_are_merged(models):
    books, _, test = models
    f, b = test.frames[1], test.backgrounds[1]
    fine = analyse(f, b, books, CFG)
    coarse = analyse(f, b, books, replace(CFG, merge_scale=12))
    assert fine["merge_labels"] is fine["labels"][0] and coarse["merge_labels"] is coarse["labels"][2]
    assert np.array_equal(fine["probability"], coarse["probability"])  # only the merging differs
    assert coarse["labels"][2].max() < fine["labels"][0].max()


def test_a_shared_cache_gives_the_same_detections(models):
    books, template, test = models
    cache = {}
    f, b = test.frames[0], test.backgrounds[0]
    for name, cfg in variants(CFG).items():
        cold = detect(f, b, books, cfg, template)
        warm = detect(f, b, books, cfg, template, cache)
        assert [d.box.tolist() for d in cold] == [d.box.tolist() for d in warm], name
    # one foreground, one superpixel map per scale, one P_h per scale and person model
    assert sum(k[0] == "sp" for k in cache) == 3 and sum(k[0] == "fg" for k in cache) == 1
    assert sum(k[0] == "ph" for k in cache) == 3 * 3


def test_variants_hold_every_single_scale_and_the_person_models():
    v = variants(CFG)
    assert {SINGLE.format(s) for s in CFG.scales} <= set(v)
    assert v[TEMPLATE_MODEL].model == "template" and v[NO_MODEL].model == "none"
    assert v[FULL] == CFG and v["multi-scale, merged on 12 px labels"].merge_scale == 12


def _person(with_object: bool) -> np.ndarray:
    mask = np.zeros((100, 100), bool)
    mask[10:90, 45:55] = True  # a 80-px tall, 10-px wide person
    if with_object:
        mask[50:70, 55:75] = True  # a box held out to the side
    return mask


def test_band_flags_only_what_lies_far_from_the_head_axis():
    p = band_probability(_person(True), 0.1)  # 8 px either side of the axis at column 49.5
    assert p[60, 70] == 1.0 and p[60, 50] == 0.0 and p[5, 5] == 0.0
    assert band_detections(_person(False), 0.1) == []
    dets = band_detections(_person(True), 0.1)
    assert len(dets) == 1 and dets[0].box[0] >= 55 and dets[0].box[2] == 75
    assert band_detections(_person(True), 0.3) == []  # a band wider than the object hides it
    with pytest.raises(ValueError, match="width"):
        band_probability(_person(True), -0.1)


def test_whole_foreground_makes_each_component_one_object():
    mask = _person(False)
    mask[5:8, 5:8] = True  # a 9-px speck, under min_area
    dets = whole_foreground_detections(mask, min_area=50)
    assert len(dets) == 1 and dets[0].box.tolist() == [45, 10, 55, 90]


def test_best_single_scale_is_the_best_on_the_tuning_seed():
    f1 = {SINGLE.format(5): 0.7, SINGLE.format(8): 0.6, SINGLE.format(12): 0.8, FULL: 0.9}
    assert cli.best_single_scale(f1) == SINGLE.format(12)
    assert cli.best_single_scale({FULL: 0.9}) is None


def test_scaled_config_keys_each_size_to_the_codebook_it_stands_for():
    books = {5: "c5", 8: "c8", 12: "c12"}
    cfg, scaled = cli.scaled_config(DetectorConfig(merge_scale=12), 1.5, books)
    assert cfg.scales == (8, 12, 18) and cfg.merge_scale is None
    assert scaled == {8: "c5", 12: "c8", 18: "c12"}
    with pytest.raises(ValueError, match="camera_scale"):
        cli.scaled_config(DetectorConfig(scales=(10, 11)), 0.2, {10: 1, 11: 2})


def test_cli_rows_hold_the_controls_and_the_choice_on_the_tuning_seed(tmp_path):
    cli.main(["--frames", "3", "--train-frames", "48", "--tune-frames", "3", "--seeds", "2",
              "--shift", "camera", "--no-progress", "--out", str(tmp_path)])
    payload = json.loads((tmp_path / cli.CAMERA_FILENAME).read_text())
    rows, tune_f1 = payload["rows"], payload["tune_box_f1"]
    by = {(r["setting"], r["method"]): r for r in rows}
    near = "closer camera (x1.5)"
    base = {*variants(), cli.BEST_SINGLE, cli.BASELINE, cli.BAND, cli.WHOLE}
    assert {m for s, m in by if s == "default camera"} == base
    assert {m for s, m in by if s == near} == base | set(cli.SCALED)
    singles = [SINGLE.format(s) for s in DetectorConfig().scales]
    chosen = max(singles, key=lambda n: tune_f1[n])
    for setting in ("default camera", near):
        best, same = by[setting, cli.BEST_SINGLE], by[setting, chosen]
        assert best["box_f1"] == same["box_f1"] and best["threshold"] == same["threshold"]
    assert by[near, cli.SCALED_BOTH]["threshold"] == payload["thresholds"][FULL]
    assert payload["thresholds"][cli.BAND] in cli.BAND_WIDTHS
    assert payload["thresholds"][cli.WHOLE] is None
    assert all(r["tune_box_f1"] == tune_f1[r["method"]] for r in rows)
