"""The camera-scale shift: the same walkers' scenes on a finer pixel grid, and its CLI."""

import hashlib
import json

import numpy as np
import pytest

import companion.carried.__main__ as cli
from companion import data


def _digest(frames):
    return hashlib.sha256(frames.frames.tobytes()).hexdigest()


def test_camera_scale_is_deterministic_for_a_seed_and_differs_across_seeds():
    a = data.load("walkers", n_frames=8, seed=11, camera_scale=1.5)
    b = data.load("walkers", n_frames=8, seed=11, camera_scale=1.5)
    c = data.load("walkers", n_frames=8, seed=12, camera_scale=1.5)
    assert _digest(a) == _digest(b) and _digest(a) != _digest(c)
    assert np.array_equal(a.object_masks, b.object_masks)


def test_closer_camera_keeps_the_scenes_and_scales_every_length():
    a = data.load("walkers", n_frames=12, seed=5)
    b = data.load("walkers", n_frames=12, seed=5, camera_scale=1.5)
    assert a.frames.shape == (12, 120, 160, 3) and b.frames.shape == (12, 180, 240, 3)
    assert b.backgrounds.shape == b.frames.shape
    assert a.kinds == b.kinds and np.array_equal(a.walker, b.walker)
    # the same people, objects and paths, 1.5 times as many pixels along each length
    assert np.abs(b.person_boxes / 1.5 - a.person_boxes).max() <= 2.0
    for ob_a, ob_b in zip(a.object_boxes, b.object_boxes):
        assert len(ob_a) == len(ob_b)
        assert np.abs(ob_b / 1.5 - ob_a).max(initial=0) <= 2.0
    # areas grow by about 1.5^2 (lines are drawn whole pixels thick, so not exactly)
    for masks_a, masks_b in ((a.person_masks, b.person_masks), (a.object_masks, b.object_masks)):
        ratio = masks_b.sum() / masks_a.sum()
        assert 1.8 < ratio < 2.7, ratio
    assert b.meta["camera_scale"] == 1.5 and a.meta["camera_scale"] == 1.0


def test_scale_one_is_the_unchanged_generator():
    a = data.load("walkers", n_frames=8, seed=3)
    b = data.load("walkers", n_frames=8, seed=3, camera_scale=1.0)
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.object_masks, b.object_masks)


@pytest.mark.parametrize("scale", [0.2, 2.5, float("nan"), "1.5", True])
def test_bad_camera_scale_is_refused(scale):
    with pytest.raises(ValueError, match="camera_scale must be a number in"):
        data.load("walkers", n_frames=4, camera_scale=scale)


def test_camera_shift_cli_scores_both_scales_tuned_on_default_ones(tmp_path, monkeypatch):
    loads = []
    real = cli.datasets.load

    def load(name, **kw):
        loads.append((kw["seed"], kw.get("camera_scale", 1.0), kw.get("body", "default")))
        return real(name, **kw)

    monkeypatch.setattr(cli.datasets, "load", load)
    cli.main(["--frames", "3", "--train-frames", "48", "--tune-frames", "3",
              "--seeds", "2", "--shift", "camera", "--no-progress", "--out", str(tmp_path)])
    payload = json.loads((tmp_path / cli.CAMERA_FILENAME).read_text())
    assert not (tmp_path / cli.FILENAME).exists() and not (tmp_path / cli.SHIFT_FILENAME).exists()
    rows = payload["rows"]
    assert {r["setting"] for r in rows} == set(cli.CAMERA_SETTINGS)
    base = {*cli.variants(), cli.BEST_SINGLE, cli.BASELINE, cli.BAND, cli.WHOLE}
    assert len(rows) == 2 * len(base) + len(cli.SCALED)
    for setting, shift in cli.CAMERA_SETTINGS.items():
        assert {r["method"] for r in rows if r["setting"] == setting} == (
            base | set(cli.SCALED) if shift else base)
    assert payload["command"].endswith("--shift camera")
    assert payload["test_settings"] == {k: v for k, v in cli.CAMERA_SETTINGS.items()}
    # only test frames of the test seed are scaled, and only the camera: codebooks, template
    # and thresholds see default frames
    assert {(s, scale) for s, scale, _ in loads if scale != 1.0} == {(2, cli.CAMERA_SCALE)}
    assert all(body == "default" for _, _, body in loads)
