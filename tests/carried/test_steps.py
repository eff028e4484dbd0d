import numpy as np
import pytest

from companion import data
from companion.carried import (carried_probability_map, foreground_mask, foreground_superpixels, human_likeness,
                               learn_codebook, multiscale_superpixels, person_frame, superpixel_features,
                               superpixel_means)


@pytest.fixture(scope="module")
def walkers():
    return data.load("walkers", n_frames=8, frames_per_walker=2, seed=7)


def test_walkers_generator_is_seeded_and_consistent(walkers):
    again = data.load("walkers", n_frames=8, frames_per_walker=2, seed=7)
    assert np.array_equal(walkers.frames, again.frames)
    assert walkers.frames.shape == (8, 120, 160, 3) and walkers.frames.dtype == np.uint8
    assert not (walkers.person_masks & walkers.object_masks).any()
    for m, boxes, kind in zip(walkers.object_masks, walkers.object_boxes, walkers.kinds):
        assert (kind is None) == (len(boxes) == 0) == (not m.any())
    none = data.load("walkers", n_frames=6, carry_fraction=0.0, seed=1)
    assert not none.object_masks.any() and not none.carrying.any()
    with pytest.raises(ValueError, match="carry_fraction"):
        data.load("walkers", carry_fraction=1.5)
    with pytest.raises(ValueError, match="kinds"):
        data.load("walkers", kinds=("umbrella",))


def test_foreground_mask_finds_the_walker(walkers):
    for i in range(len(walkers)):
        m = foreground_mask(walkers.frames[i], walkers.backgrounds[i])
        gt = walkers.person_masks[i] | walkers.object_masks[i]
        iou = (m & gt).sum() / (m | gt).sum()
        assert iou > 0.6, f"frame {i}: foreground IoU {iou:.2f}"


def test_superpixels_stay_inside_the_foreground(walkers):
    f, b = walkers.frames[0], walkers.backgrounds[0]
    mask = foreground_mask(f, b)
    maps = multiscale_superpixels(f, mask, scales=(4, 8, 12))
    counts = [int(lab.max()) for lab in maps]
    assert counts[0] > counts[1] > counts[2] >= 1  # finer scale, more superpixels
    for lab in maps:
        assert not (lab[~mask] > 0).any()
        assert (lab[mask] > 0).all()
        assert set(np.unique(lab[mask])) == set(range(1, int(lab.max()) + 1))


def test_features_hand_computed_case():
    mask = np.zeros((20, 20), bool)
    mask[0:20, 8:12] = True  # a 20-pixel-tall, 4-wide pole: head axis at x = 9.5
    labels = np.zeros((20, 20), np.int64)
    labels[0:10, 8:12] = 1
    labels[10:20, 8:12] = 2
    top, axis_x, h = person_frame(mask)
    assert (top, axis_x, h) == (0.0, 9.5, 20.0)
    f = superpixel_features(labels, mask)
    assert f.shape == (2, 6)
    np.testing.assert_allclose(f[:, 0], 0.0)  # centred on the axis
    np.testing.assert_allclose(f[:, 1], [4.5 / 20, 14.5 / 20])
    np.testing.assert_allclose(f[:, 2], np.sqrt(40) / 20)
    np.testing.assert_allclose(f[:, 3:5], [[4 / 20, 10 / 20]] * 2)
    # contour pixels of the top half: the two side columns and the top row: 10 + 10 + 2 of 40
    np.testing.assert_allclose(f[0, 5], 22 / 40)
    with pytest.raises(ValueError, match="empty"):
        person_frame(np.zeros((5, 5), bool))


def test_codebook_matches_training_like_rows_better():
    rng = np.random.default_rng(0)
    train = rng.normal(0, 1, (300, 6))
    book = learn_codebook(train, n_words=10, match_quantile=0.9, seed=0)
    near = human_likeness(train[:50], book)
    far = human_likeness(train[:50] + 6.0, book)
    assert np.all((near > 0) & (near <= 1))
    assert near.mean() > 0.5 > far.max()
    # by construction 90 % of the training rows match with probability >= 0.5
    assert np.mean(human_likeness(train, book) >= 0.5) == pytest.approx(0.9, abs=0.01)
    with pytest.raises(ValueError, match="n_words"):
        learn_codebook(train, n_words=0)
    with pytest.raises(ValueError, match="shape"):
        human_likeness(train[:, :3], book)


def test_probability_map_formula():
    labels = np.array([[0, 1, 1], [2, 2, 0]])
    coarse = np.array([[0, 1, 1], [1, 1, 0]])
    p = carried_probability_map([labels, coarse], [np.array([0.2, 1.0]), np.array([0.5])],
                                [np.array([1.0, 0.5]), np.array([0.8])])
    # pixel (0,1): ((1-0.2)*1 + (1-0.5)*0.8) / 2 ; pixel (1,0): ((1-1)*0.5 + 0.4) / 2
    np.testing.assert_allclose(p, [[0, 0.6, 0.6], [0.2, 0.2, 0]])
    np.testing.assert_allclose(superpixel_means(labels, np.arange(6.0).reshape(2, 3)), [1.5, 3.5])
    with pytest.raises(ValueError, match="probabilities"):
        carried_probability_map([labels], [np.array([0.1])], [np.array([0.1, 0.2])])


def test_superpixels_reject_bad_input(walkers):
    f = walkers.frames[0]
    mask = np.ones(f.shape[:2], bool)
    with pytest.raises(ValueError, match="uint8"):
        foreground_superpixels(f.astype(np.float32), mask, 8)
    with pytest.raises(ValueError, match="shape"):
        foreground_superpixels(f, mask[:10], 8)
    with pytest.raises(ValueError, match="region_size"):
        foreground_superpixels(f, mask, 1)
