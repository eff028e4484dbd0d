"""The graph-statistics baseline: the statistics themselves, and CV on the GNNs' folds."""

import numpy as np
import pytest
import torch

from companion.diffpool.baselines import graph_statistics, statistics_cv
from companion.diffpool.train import stratified_folds


class G:
    def __init__(self, n, edges, y=0):
        self.num_nodes, self.y = n, torch.tensor(y)
        self.edge_index = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)


def test_statistics_of_a_path_a_triangle_and_a_disconnected_graph():
    assert np.allclose(graph_statistics(G(4, [(0, 1), (1, 2), (2, 3)])), [4, 3, 3, 10 / 6, 0])
    assert np.allclose(graph_statistics(G(3, [(0, 1), (1, 2), (2, 0)])), [3, 3, 1, 1, 1])
    # an isolated node: diameter and path length of the largest component (the triangle)
    assert np.allclose(graph_statistics(G(4, [(0, 1), (1, 2), (2, 0)])), [4, 3, 1, 1, 1])
    with pytest.raises(ValueError, match="at least one node"):
        graph_statistics(G(0, []))


def test_cv_uses_the_gnn_folds_and_separates_what_the_statistics_separate():
    rng = np.random.default_rng(0)
    # class 0: paths, class 1: cycles of the same sizes: only transitivity / path length differ
    graphs = [G(n, [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if y else []), y)
              for y in (0, 1) for n in rng.integers(5, 12, size=20)]
    r = statistics_cv(graphs, folds=5, seed=3)
    assert len(r["fold_acc"]) == 5 and r["mean"] > 0.9
    labels = [int(g.y) for g in graphs]
    assert [len(t) for t in stratified_folds(labels, 5, 3)] == [8] * 5
    with pytest.raises(ValueError, match="at least folds=5"):
        statistics_cv(graphs[:6] + graphs[-3:], folds=5)


def test_max_folds_runs_the_first_folds_of_the_full_cv():
    graphs = [G(n, [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if y else []), y)
              for y in (0, 1) for n in range(4, 14)]
    full, first = statistics_cv(graphs, folds=5, seed=1), statistics_cv(graphs, folds=5, seed=1, max_folds=2)
    assert first["fold_acc"] == full["fold_acc"][:2]
    with pytest.raises(ValueError, match="max_folds"):
        statistics_cv(graphs, folds=5, max_folds=6)
