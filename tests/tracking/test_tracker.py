import numpy as np
import pytest

from companion import data
from companion.data.tracking_sequences import make_sequence
from companion.tracking import TrackerConfig, TreeRNNTracker, run_tracker
from companion.tracking.baselines import run_opencv_tracker
from companion.tracking.candidates import crop_regions, frame_tensor, region_cells, sample_candidates
from companion.tracking.metrics import iou


def _textured_sequence(n=25, seed=0):
    """A textured square moving 3 px a frame over a differently textured background."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(0, 120, (120, 160, 3)).astype(np.uint8)
    obj = np.kron(rng.integers(120, 255, (6, 6, 3)), np.ones((4, 4, 1))).astype(np.uint8)  # 24 x 24 blocks
    frames, boxes = [], []
    for t in range(n):
        x, y = 20 + 3 * t, 30 + int(10 * np.sin(t / 4))
        f = bg.copy()
        f[y:y + 24, x:x + 24] = obj
        frames.append(f)
        boxes.append((x, y, 24, 24))
    return np.stack(frames), np.array(boxes, float)


def test_tracker_keeps_a_textured_object():
    frames, gt = _textured_sequence()
    out = run_tracker(frames, gt[0], TrackerConfig(seed=0, n_candidates=150, train_steps=40))
    overlaps = iou(out["boxes"], gt)
    assert out["boxes"].shape == gt.shape
    assert (overlaps > 0.5).mean() > 0.8


def test_first_box_outside_the_frame_is_a_clear_error():
    frames, gt = _textured_sequence(3)
    with pytest.raises(ValueError, match="outside"):
        TreeRNNTracker().init(frames[0], (150, 100, 30, 30))
    with pytest.raises(ValueError, match="uint8"):
        TreeRNNTracker().init(frames[0].astype(float), gt[0])
    with pytest.raises(ValueError, match="init"):
        TreeRNNTracker().update(frames[1])
    with pytest.raises(ValueError, match="features"):
        TrackerConfig(features="hog")


def test_candidates_and_crops():
    rng = np.random.default_rng(0)
    c = sample_candidates((10, 10, 20, 10), 50, rng, frame_shape=(100, 100))
    assert c.shape == (50, 4) and np.allclose(c[0], (10, 10, 20, 10))
    assert np.allclose(c[:, 2] / c[:, 3], 2.0)  # aspect ratio kept
    frame = np.zeros((40, 40, 3), np.uint8)
    frame[10:20, 10:20] = 255
    crop = crop_regions(frame_tensor(frame), np.array([[10, 10, 10, 10]]), 8)
    assert crop.shape == (1, 3, 8, 8) and crop[0, :, 2:6, 2:6].min() > 0.99
    cells = region_cells(crop_regions(frame_tensor(frame), np.array([[5, 5, 20, 20]]), 8), 4)
    assert cells.shape == (1, 16, 12)


def test_generated_sequence_and_opencv_runner():
    seq = make_sequence("cup_scale", n_frames=6)
    assert seq["frames"].shape == (6, 180, 240, 3) and seq["frames"].dtype == np.uint8
    assert seq["boxes"][:, 2].max() > seq["boxes"][0, 2]  # the cup grows
    out = run_opencv_tracker("CSRT", seq["frames"], seq["boxes"][0])
    assert out["boxes"].shape == (6, 4)
    with pytest.raises(ValueError, match="unknown OpenCV tracker"):
        run_opencv_tracker("FOO", seq["frames"], seq["boxes"][0])
    with pytest.raises(ValueError, match="unknown sequence"):
        make_sequence("nope")


def test_otb_loader_reads_a_tiny_local_sequence(tmp_path):
    import cv2

    folder = tmp_path / "Tiny" / "img"
    folder.mkdir(parents=True)
    for i in range(3):
        cv2.imwrite(str(folder / f"{i + 1:04d}.jpg"), np.full((20, 30, 3), 40 * i, np.uint8))
    (tmp_path / "Tiny" / "groundtruth_rect.txt").write_text("1,2,5,6\n2\t3\t5\t6\n3 4 5 6\n")
    seq = data.load("otb", sequence="Tiny", root=tmp_path)
    assert seq["frames"].shape == (3, 20, 30, 3)
    np.testing.assert_allclose(seq["boxes"][1], [2, 3, 5, 6])
    with pytest.raises(FileNotFoundError, match="groundtruth_rect"):
        data.load("otb", sequence="Missing", root=tmp_path)


def test_aspect_sampler_spreads_along_the_long_axis_and_searches_scale():
    rng = np.random.default_rng(0)
    tall = (100.0, 50.0, 10.0, 50.0)  # 10 px wide, 50 px high: the rocket's shape
    c = sample_candidates(tall, 4000, rng, sigma_xy=0.5, sigma_scale=0.05, sampler="aspect", scale_search=True)
    cx, cy = c[:, 0] + c[:, 2] / 2, c[:, 1] + c[:, 3] / 2
    assert cy.std() > 3 * cx.std()  # spread 0.5 * h = 25 px vertically, 0.5 * w = 5 px sideways
    assert cx.std() == pytest.approx(5.0, rel=0.1) and cy.std() == pytest.approx(25.0, rel=0.1)
    # the scale search: candidates 1..4 keep the centre and scale the box by exp(k * sigma_scale)
    assert np.allclose(c[0], tall)
    assert np.allclose(cx[1:5], 105.0) and np.allclose(cy[1:5], 75.0)
    np.testing.assert_allclose(c[1:5, 2], 10.0 * np.exp(0.05 * np.array([-2, -1, 1, 2])))
    assert np.allclose(c[:, 2] / c[:, 3], 0.2)  # aspect ratio kept
    # the isotropic sampler (the first version) spreads both axes alike: sqrt(w h) = 22.4 px
    iso = sample_candidates(tall, 4000, np.random.default_rng(0), sigma_xy=0.5, sigma_scale=0.05)
    icx, icy = iso[:, 0] + iso[:, 2] / 2, iso[:, 1] + iso[:, 3] / 2
    assert icx.std() == pytest.approx(icy.std(), rel=0.1)
    assert not np.allclose(icx[1:5], 105.0)  # no scale search there
    with pytest.raises(ValueError, match="sampler"):
        sample_candidates(tall, 10, rng, sampler="affine")
    with pytest.raises(ValueError, match="sampler"):
        TrackerConfig(sampler="affine")
    # tiny n: the scale search never overruns the candidates
    assert sample_candidates(tall, 2, rng, sampler="aspect", scale_search=True).shape == (2, 4)


def test_cpu_fps_is_reported_beside_wall_fps():
    frames, gt = _textured_sequence(4)
    out = run_tracker(frames, gt[0], TrackerConfig(seed=0, n_candidates=50, train_steps=4, sampler="aspect"))
    assert out["fps"] > 0 and out["cpu_fps"] > 0
    cv = run_opencv_tracker("KCF", frames, gt[0])
    assert cv["fps"] > 0 and cv["cpu_fps"] > 0
