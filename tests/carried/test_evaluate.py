import numpy as np
import pytest

from companion.carried import box_iou, evaluate_detections, match_detections, prf


def test_box_iou_hand_computed():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 5, 15, 15], [20, 20, 30, 30], [0, 0, 5, 10]])
    # overlap 5x5 = 25, union 100 + 100 - 25 = 175; half box: 50 / 100
    np.testing.assert_allclose(box_iou(a, b), [[1.0, 25 / 175, 0.0, 0.5]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 4)


def test_box_iou_rejects_inverted_boxes():
    with pytest.raises(ValueError, match="x1 >= x0"):
        box_iou(np.array([[10, 0, 0, 10]]), np.array([[0, 0, 1, 1]]))


def test_matching_is_one_to_one_and_uses_scores():
    gt = np.array([[0, 0, 10, 10], [50, 50, 60, 60]])
    pred = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [100, 100, 110, 110]])
    # two predictions on the first object: only one can match it, the other is a false positive
    assert match_detections(pred, gt, scores=np.array([0.9, 0.8, 0.7])) == (1, 2, 1)
    assert match_detections(np.zeros((0, 4)), gt) == (0, 0, 2)
    assert match_detections(pred, np.zeros((0, 4))) == (0, 3, 0)
    # IoU 0.81 of the second box passes at 0.5 but not at 0.9
    assert match_detections(pred[1:2], gt[:1], iou_threshold=0.5) == (1, 0, 0)
    assert match_detections(pred[1:2], gt[:1], iou_threshold=0.9) == (0, 1, 1)
    with pytest.raises(ValueError, match="iou_threshold"):
        match_detections(pred, gt, iou_threshold=0.0)


def test_prf_and_pixel_scores():
    assert prf(3, 1, 2) == pytest.approx((0.75, 0.6, 2 * 0.75 * 0.6 / 1.35))
    assert prf(0, 0, 0) == (0.0, 0.0, 0.0)
    gm = np.zeros((10, 10), bool)
    gm[2:6, 2:6] = True
    pm = np.zeros((10, 10), bool)
    pm[2:6, 2:4] = True
    out = evaluate_detections([np.array([[2, 2, 4, 6]])], [np.array([1.0])], [pm], [np.array([[2, 2, 6, 6]])], [gm])
    assert out["pixel_precision"] == 1.0 and out["pixel_recall"] == 0.5
    assert out["box_recall"] == 1.0  # IoU 8/16 = 0.5 counts
    with pytest.raises(ValueError, match="same number of frames"):
        evaluate_detections([], [], [], [np.zeros((0, 4))], [gm])
