"""Checked exercises of the tracking chapter."""

from __future__ import annotations

import numpy as np
import torch

from companion.exercises import exercise
from companion.tracking.metrics import iou, success_auc
from companion.tracking.rnn import RecursiveNet, greedy_tree, grid_adjacency
from companion.tracking.sparse import omp_step


def _box_cases():
    rng = np.random.default_rng(0)
    for n in (3, 10, 40):
        gt = np.column_stack([rng.uniform(0, 50, (n, 2)), rng.uniform(5, 30, (n, 2))])
        pred = gt + np.column_stack([rng.normal(0, 6, (n, 2)), rng.normal(0, 3, (n, 2))])
        pred[:, 2:] = np.abs(pred[:, 2:])
        yield (pred, gt), {}


@exercise("ch11.iou_auc", _box_cases, atol=1e-9)
def iou_and_auc(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, float]:
    """Reference: per-frame IoU and the success-plot AUC (21 thresholds, strict >)."""
    return iou(pred, gt), success_auc(pred, gt)


def _tree_cases():
    torch.manual_seed(0)
    for grid in (2, 3, 4):
        net = RecursiveNet(6, hidden=5)
        leaves = net.encode_leaves(torch.randn(1, grid * grid, 6))[0].detach()
        yield (net, leaves, grid_adjacency(grid)), {}


@exercise("ch11.greedy_merge", _tree_cases)
def greedy_merges(net: RecursiveNet, leaves: torch.Tensor, adjacency: np.ndarray) -> list[tuple[int, int]]:
    """Reference: the merges of the deterministic greedy tree (best-scoring adjacent pair first)."""
    return list(greedy_tree(net, leaves, adjacency).merges)


def _omp_cases():
    rng = np.random.default_rng(1)
    for k in (0, 1, 2):
        d = rng.normal(size=(12, 7))
        d /= np.linalg.norm(d, axis=0)
        x = d[:, [1, 4]] @ np.array([2.0, -1.0]) + 0.01 * rng.normal(size=12)
        support = [] if k == 0 else [int(i) for i in rng.choice(7, k, replace=False)]
        yield (x, d, support), {}
    # x = -2 d_1 + d_4: the best atom is anti-correlated with x (argmax of the signed correlation
    # picks another), and once d_1 is in the support another atom correlates more with x than d_4
    # does, but less with the residual
    rng = np.random.default_rng(3)
    d = rng.normal(size=(12, 7))
    d /= np.linalg.norm(d, axis=0)
    x = d[:, [1, 4]] @ np.array([-2.0, 1.0]) + 0.01 * rng.normal(size=12)
    yield (x, d, []), {}
    yield (x, d, [1]), {}


@exercise("ch11.omp_step", _omp_cases, atol=1e-8)
def omp_one_step(x: np.ndarray, d: np.ndarray, support: list[int]):
    """Reference: one OMP iteration (new support, its coefficients, the residual)."""
    return omp_step(x, d, support)
