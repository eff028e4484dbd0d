"""Checked exercises of chapter 6 (KGCN-LS)."""

from __future__ import annotations

import numpy as np
import torch

from companion.exercises import exercise
from companion.kgcn.aggregators import mix_neighbors, user_relation_scores
from companion.kgcn.metrics import auc_score


def _sampler_cases():
    rng = np.random.default_rng(0)
    for n, k in ((5, 3), (8, 4), (12, 6)):
        neighbors = [sorted(rng.choice(n, size=int(rng.integers(1, n)), replace=False).tolist()) for _ in range(n)]
        yield (neighbors, k, 7), {}


@exercise("ch06.sampler", _sampler_cases)
def sample_neighbors(neighbors: list[list[int]], k: int, seed: int) -> np.ndarray:
    """Reference: a (n, k) table; row ``e`` holds ``k`` of ``neighbors[e]``, drawn by
    ``rng.choice(len, size=k, replace=len < k)`` with one ``np.random.default_rng(seed)`` used for
    the entities in order (distinct when there are enough, with replacement otherwise)."""
    rng = np.random.default_rng(seed)
    table = np.empty((len(neighbors), k), dtype=np.int64)
    for e, nbrs in enumerate(neighbors):
        pick = rng.choice(len(nbrs), size=k, replace=len(nbrs) < k)
        table[e] = np.asarray(nbrs)[pick]
    return table


def _aggregator_cases():
    g = torch.Generator().manual_seed(0)
    for b, n, k, d in ((2, 1, 3, 4), (3, 4, 2, 5), (4, 2, 8, 8)):
        yield (torch.randn(b, n, d, generator=g), torch.randn(b, n, k, d, generator=g),
               torch.randn(b, n, k, d, generator=g), torch.randn(b, d, generator=g),
               torch.randn(d, d, generator=g), torch.randn(d, generator=g)), {}


@exercise("ch06.sum_aggregator", _aggregator_cases)
def sum_aggregator(self_vectors: torch.Tensor, neighbor_vectors: torch.Tensor, neighbor_relations: torch.Tensor,
                   user: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Reference: ``tanh((v + sum_k pi_u(r_k) e_k) W^T + b)`` with ``pi = softmax_k mean_d(u * r_k)``."""
    v_n = mix_neighbors(user_relation_scores(user, neighbor_relations), neighbor_vectors)
    return torch.tanh((self_vectors + v_n) @ weight.T + bias)


def _auc_cases():
    rng = np.random.default_rng(0)
    yield ([1, 0, 1, 0, 1], [0.9, 0.8, 0.7, 0.3, 0.2]), {}
    yield ([0, 1, 1, 0], [0.5, 0.5, 0.9, 0.1]), {}
    for n in (10, 40):
        y = rng.integers(0, 2, n)
        y[:2] = (0, 1)
        yield (y.tolist(), rng.integers(0, 5, n).astype(float).tolist()), {}


@exercise("ch06.auc", _auc_cases)
def auc(labels: list[int], scores: list[float]) -> float:
    """Reference: the share of (positive, negative) pairs ranked correctly, ties counting 1/2."""
    return auc_score(labels, scores)
