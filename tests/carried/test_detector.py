import numpy as np
import pytest

from companion import data
from companion.carried import DetectorConfig, box_iou, detect, fit_codebooks, foreground_mask


@pytest.fixture(scope="module")
def codebooks():
    train = data.load("walkers", n_frames=40, carry_fraction=0.0, seed=101)
    return fit_codebooks(train.frames, train.backgrounds, DetectorConfig(n_words=24))


def test_detector_finds_a_carried_box(codebooks):
    frames = data.load("walkers", n_frames=8, carry_fraction=1.0, kinds=("box",), frames_per_walker=2, seed=3)
    ious = []
    for f, b, gt in zip(frames.frames, frames.backgrounds, frames.object_boxes):
        dets = detect(f, b, codebooks, DetectorConfig(n_words=24))
        ious.append(box_iou(np.array([d.box for d in dets]).reshape(-1, 4), gt).max() if dets else 0.0)
    assert np.mean(np.array(ious) >= 0.5) >= 0.75, ious


def test_detector_fires_less_on_people_without_objects(codebooks):
    cfg = DetectorConfig(n_words=24)
    empty = data.load("walkers", n_frames=8, carry_fraction=0.0, frames_per_walker=2, seed=4)
    full = data.load("walkers", n_frames=8, carry_fraction=1.0, frames_per_walker=2, seed=4)
    n_empty = sum(len(detect(f, b, codebooks, cfg)) for f, b in zip(empty.frames, empty.backgrounds))
    n_full = sum(len(detect(f, b, codebooks, cfg)) for f, b in zip(full.frames, full.backgrounds))
    assert n_empty <= 8 and n_empty < n_full, (n_empty, n_full)


def test_detect_rejects_wrong_dtype_and_shape(codebooks):
    f = np.zeros((60, 80, 3), np.uint8)
    with pytest.raises(ValueError, match="uint8"):
        detect(f.astype(float), f, codebooks)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        detect(f[..., 0], f[..., 0], codebooks)
    with pytest.raises(ValueError, match="same shape"):
        detect(f, f[:30], codebooks)
    with pytest.raises(ValueError, match="codebooks"):
        detect(f, f, None)
    with pytest.raises(ValueError, match="scales"):
        DetectorConfig(scales=())
    assert detect(f, f, codebooks) == []  # an empty scene has nothing to carry
    assert not foreground_mask(f, f).any()

