"""The shifted-bodies test: walkers with other body shapes and clothes, and its CLI."""

import json

import numpy as np
import pytest

import companion.carried.__main__ as cli
from companion import data


def test_shifted_walkers_keep_the_scenes_and_change_the_people():
    a = data.load("walkers", n_frames=12, seed=5)
    b = data.load("walkers", n_frames=12, seed=5, body="shifted")
    assert np.array_equal(a.backgrounds, b.backgrounds) and a.kinds == b.kinds
    assert np.array_equal(a.walker, b.walker)
    # heavier builds and coats: the people cover more pixels
    assert b.person_masks.sum() > 1.2 * a.person_masks.sum()
    assert b.meta["body"] == "shifted" and a.meta["body"] == "default"


def test_default_body_is_the_unchanged_generator():
    a = data.load("walkers", n_frames=8, seed=3)
    b = data.load("walkers", n_frames=8, seed=3, body="default")
    assert np.array_equal(a.frames, b.frames)
    assert np.array_equal(a.object_masks, b.object_masks)


def test_unknown_body_is_refused():
    with pytest.raises(ValueError, match="body must be one of"):
        data.load("walkers", n_frames=4, body="tall")


def test_shift_cli_scores_both_bodies_tuned_on_default_ones(tmp_path, monkeypatch):
    bodies = []
    real = cli.datasets.load

    def load(name, **kw):
        bodies.append((kw["seed"], kw.get("body", "default")))
        return real(name, **kw)

    monkeypatch.setattr(cli.datasets, "load", load)
    cli.main(["--frames", "3", "--train-frames", "48", "--tune-frames", "3",
              "--seeds", "2", "--shift", "--no-progress", "--out", str(tmp_path)])
    payload = json.loads((tmp_path / cli.SHIFT_FILENAME).read_text())
    assert not (tmp_path / cli.FILENAME).exists()
    assert {r["setting"] for r in payload["rows"]} == set(cli.SHIFT_SETTINGS)
    assert len(payload["rows"]) == 2 * (len(cli.variants()) + 4)
    assert payload["command"].endswith("--shift")
    # only test frames are shifted: codebooks, template and thresholds see default ones
    assert {s for s, body in bodies if body == "shifted"} == {2}
    assert all(body == "default" for s, body in bodies if s != 2)
