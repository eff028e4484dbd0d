"""Chapter 11's checks accept the references and reject the mistakes a student makes."""

import numpy as np
import pytest
import torch

from companion import exercises
from companion.tracking import exercises as ex

# ---- ch11.iou_auc: per-frame IoU of (x, y, w, h) boxes, mean over 21 thresholds of IoU > t


def _iou(pred, gt, *, corners=False, clip=True):
    a, b = np.asarray(pred, float), np.asarray(gt, float)
    if not corners:
        a = np.column_stack([a[:, :2], a[:, :2] + a[:, 2:]])
        b = np.column_stack([b[:, :2], b[:, :2] + b[:, 2:]])
    w = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    h = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(w, 0, None) * np.clip(h, 0, None) if clip else w * h
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def _auc(overlaps, thresholds=np.linspace(0, 1, 21), above=np.greater):
    return float(np.mean([above(overlaps, t).mean() for t in thresholds]))


def corner_boxes(pred, gt):  # reads (x, y, w, h) as (x0, y0, x1, y1)
    o = _iou(pred, gt, corners=True)
    return o, _auc(o)


def at_least_the_threshold(pred, gt):  # IoU >= t instead of OTB's strict >
    o = _iou(pred, gt)
    return o, _auc(o, above=np.greater_equal)


def twenty_thresholds(pred, gt):  # np.arange(0, 1, 0.05) stops before 1
    o = _iou(pred, gt)
    return o, _auc(o, thresholds=np.arange(0, 1, 0.05))


def trapezoid_auc(pred, gt):  # the area by the trapezoid rule, not the mean of the 21 points
    o = _iou(pred, gt)
    t = np.linspace(0, 1, 21)
    curve = np.array([(o > x).mean() for x in t])
    return o, float(((curve[1:] + curve[:-1]) / 2 * np.diff(t)).sum())


def unclipped_overlap(pred, gt):  # boxes apart in x and in y get a positive "overlap"
    o = _iou(pred, gt, clip=False)
    return o, _auc(o)


# ---- ch11.greedy_merge: merge the adjacent pair whose parent scores best, new nodes L, L+1, ...


def _greedy(net, leaves, adjacency, *, adjacent=True, pick=np.argmax, union=True, first_new=0, swap=False):
    n = len(leaves)
    feats = {i: leaves[i] for i in range(n)}
    spans = {i: {i} for i in range(n)}
    active, merges = list(range(n)), []
    with torch.no_grad():
        while len(active) > 1:
            pairs = [(a, c) for i, a in enumerate(active) for c in active[i + 1:]
                     if not adjacent or any(adjacency[x, y] for x in spans[a] for y in spans[c])]
            parents = [net.parent(feats[c], feats[a]) if swap else net.parent(feats[a], feats[c]) for a, c in pairs]
            k = int(pick([float(net.score(p)) for p in parents]))
            (a, c), new = pairs[k], n + first_new + len(merges)
            merges.append((a, c))
            feats[new], spans[new] = parents[k], (spans[a] | spans[c]) if union else spans[a]
            active = [x for x in active if x not in (a, c)] + [new]
    return merges


def ignores_adjacency(net, leaves, adjacency):  # any pair may merge
    return _greedy(net, leaves, adjacency, adjacent=False)


def lowest_score_first(net, leaves, adjacency):  # argmin instead of argmax
    return _greedy(net, leaves, adjacency, pick=np.argmin)


def span_of_the_left_child(net, leaves, adjacency):  # a merged node touches only what its left child touched
    return _greedy(net, leaves, adjacency, union=False)


def new_nodes_from_l_plus_one(net, leaves, adjacency):  # numbers the first merged node L + 1
    return _greedy(net, leaves, adjacency, first_new=1)


def children_swapped(net, leaves, adjacency):  # parent(right, left): the composition is not symmetric
    return _greedy(net, leaves, adjacency, swap=True)


# ---- ch11.omp_step: add the atom most correlated (in absolute value) with the residual, refit


def _omp(x, d, support, *, absolute=True, against="residual", refit=True, sort=False, old_residual=False):
    if support:
        coef = np.linalg.lstsq(d[:, support], x, rcond=None)[0]
        residual = x - d[:, support] @ coef
    else:
        coef, residual = np.zeros(0), x
    corr = d.T @ (residual if against == "residual" else x)
    corr = np.abs(corr) if absolute else corr
    corr[support] = -np.inf
    new = int(np.argmax(corr))
    support = sorted([*support, new]) if sort else [*support, new]
    if refit:
        coef = np.linalg.lstsq(d[:, support], x, rcond=None)[0]
    else:  # matching pursuit: keep the old coefficients, add the new atom's projection on the residual
        coef = np.append(coef, d[:, new] @ residual)
    return support, coef, residual if old_residual else x - d[:, support] @ coef


def signed_correlation(x, d, support):  # argmax of the correlation, not of its absolute value
    return _omp(x, d, support, absolute=False)


def correlated_with_the_signal(x, d, support):  # D^T x instead of D^T residual
    return _omp(x, d, support, against="signal")


def no_refit(x, d, support):  # matching pursuit's update instead of least squares on the support
    return _omp(x, d, support, refit=False)


def residual_before_the_step(x, d, support):
    return _omp(x, d, support, old_residual=True)


def support_sorted(x, d, support):  # the support in index order, not in the order atoms were added
    return _omp(x, d, support, sort=True)


MUTANTS = {
    "ch11.iou_auc": [corner_boxes, at_least_the_threshold, twenty_thresholds, trapezoid_auc, unclipped_overlap],
    "ch11.greedy_merge": [ignores_adjacency, lowest_score_first, span_of_the_left_child, new_nodes_from_l_plus_one,
                          children_swapped],
    "ch11.omp_step": [signed_correlation, correlated_with_the_signal, no_refit, residual_before_the_step,
                      support_sorted],
}


@pytest.mark.parametrize("key, fn", [("ch11.iou_auc", ex.iou_and_auc), ("ch11.greedy_merge", ex.greedy_merges),
                                     ("ch11.omp_step", ex.omp_one_step)])
def test_reference_passes_its_own_check(key, fn):
    assert exercises.evaluate(key, fn).passed


def test_check_rejects_a_plausible_wrong_answer(mutant, check_rejects):
    check_rejects(*mutant)
