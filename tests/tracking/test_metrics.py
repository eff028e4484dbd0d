import numpy as np
import pytest

from companion.tracking import metrics


def test_iou_hand_cases():
    # identical, disjoint, and half-overlapping boxes
    a = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]
    b = [[0, 0, 10, 10], [20, 20, 5, 5], [5, 0, 10, 10]]
    np.testing.assert_allclose(metrics.iou(a, b), [1.0, 0.0, 50 / 150])


def test_center_error_and_precision():
    gt = np.array([[0, 0, 10, 10]] * 4, float)
    pred = gt + np.array([[0, 0, 0, 0], [3, 4, 0, 0], [30, 0, 0, 0], [12, 16, 0, 0]])
    np.testing.assert_allclose(metrics.center_error(pred, gt), [0, 5, 30, 20])
    assert metrics.precision_at(pred, gt, 20) == 0.75  # 0, 5 and 20 px are within 20 px


def test_success_auc_matches_hand_computation():
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], float)
    pred = np.array([[0, 0, 10, 10], [5, 0, 10, 10]], float)  # IoU 1 and 1/3
    # thresholds 0, .05, ..., 1: IoU 1 passes every threshold but 1 (strict); 1/3 passes 0..0.3 (7 of 21)
    expected = (20 / 21 + 7 / 21) / 2
    assert metrics.success_auc(pred, gt) == pytest.approx(expected)
    assert metrics.success_curve(gt, gt)[0] == 1.0


def test_metric_errors_are_clear():
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        metrics.iou([[0, 0, 1]], [[0, 0, 1]])
    with pytest.raises(ValueError, match="same number"):
        metrics.iou([[0, 0, 1, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]])
    with pytest.raises(ValueError, match="negative"):
        metrics.center_error([[0, 0, -1, 1]], [[0, 0, 1, 1]])
