"""Checked exercises of the SubgraphX chapter (``exercises.check("ch03.<key>", fn)``)."""

from __future__ import annotations

import math
from itertools import combinations

import torch

from companion.exercises import exercise
from companion.subgraphx.mcts import adjacency_list, prune as _prune


def _shapley_cases():
    g = torch.Generator().manual_seed(3)
    for coalition, others in (((0,), (1, 2, 3)), ((0, 1), (2, 3)), ((1, 2), (0, 3))):
        w = torch.randn(4, generator=g).tolist()
        pair = float(torch.randn(1, generator=g))

        def v(present, w=w, pair=pair):  # a non-additive game: nodes 0 and 1 interact
            s = sum(w[i] for i in present) + (pair if {0, 1} <= set(present) else 0.0)
            return 1.0 / (1.0 + math.exp(-s))

        yield (v, coalition, others), {}


@exercise("ch03.exact_shapley", _shapley_cases)
def exact_shapley_small(v, coalition, others) -> float:
    """Shapley value of ``coalition`` (one player) among the players ``others``; ``v(set) -> float``."""
    m = len(others)
    total = 0.0
    for size in range(m + 1):
        w = math.factorial(size) * math.factorial(m - size) / math.factorial(m + 1)
        for s in combinations(others, size):
            total += w * (v(set(s) | set(coalition)) - v(set(s)))
    return total


def _prune_cases():
    # cases where dropping the node splits the coalition: the component rule must be applied
    path = [(i, i + 1) for i in range(6)]
    yield (tuple(range(7)), 2, path), {}           # components {0, 1} and {3..6}: keep the larger
    yield (tuple(range(7)), 4, path), {}           # {0..3} and {5, 6}
    yield (tuple(range(7)), 3, path), {}           # a tie, {0, 1, 2} and {4, 5, 6}: the smallest node's
    star = [(0, i) for i in range(1, 5)] + [(3, 4)]
    yield ((0, 1, 2, 3, 4), 0, star), {}           # the centre: {1}, {2}, {3, 4}
    g = torch.Generator().manual_seed(5)
    for n in (5, 7, 9, 12):
        edges = [(i, i + 1) for i in range(n - 1)]  # a path, so pruning can split it
        extra = torch.randint(0, n, (2, n // 3), generator=g).t().tolist()
        edges += [(a, b) for a, b in extra if a != b]
        node = int(torch.randint(0, n, (1,), generator=g))
        yield (tuple(range(n)), node, edges), {}


@exercise("ch03.prune", _prune_cases)
def prune_action(coalition, node, edges) -> tuple:
    """Drop ``node`` and keep the largest connected component (ties: the one with the smallest node)."""
    n = 1 + max(max(e) for e in edges)
    return _prune(list(coalition), node, adjacency_list(torch.tensor(edges).t(), n))


def _select_cases():
    g = torch.Generator().manual_seed(7)
    for k in (3, 5, 8):
        W = (torch.rand(k, generator=g) * 3).tolist()
        N = torch.randint(0, 4, (k,), generator=g).tolist()
        P = torch.rand(k, generator=g).tolist()
        yield (W, N, P), {"c_puct": 10.0}
    yield ([0.0, 0.0, 0.0], [0, 0, 0], [0.2, 0.5, 0.1]), {"c_puct": 10.0}
    # more visits and c_puct near 1, so that Q and U both count (with c_puct = 10 and few visits U
    # decides alone): Q must be the mean W / N, U must have the square root and the 1 + N
    for k, c_puct in ((4, 0.5), (6, 1.0), (10, 2.0)):
        N = torch.randint(0, 20, (k,), generator=g).tolist()
        W = [n * q for n, q in zip(N, torch.rand(k, generator=g).tolist())]
        P = torch.rand(k, generator=g)
        yield (W, N, (P / P.sum()).tolist()), {"c_puct": c_puct}
    # one visit against nine: U divided by N instead of 1 + N doubles the first child's U and picks it
    yield ([0.1, 7.2], [1, 9], [0.5, 0.5]), {"c_puct": 1.0}


@exercise("ch03.select", _select_cases)
def select_child(W, N, P, c_puct: float = 10.0) -> int:
    """Index of the child maximising Q + U (first one on ties)."""
    n_sum = sum(N)
    scores = [(w / n if n > 0 else 0.0) + c_puct * p * math.sqrt(n_sum) / (1 + n) for w, n, p in zip(W, N, P)]
    return max(range(len(scores)), key=lambda i: scores[i])
