"""Checked exercises of the DiffPool chapter (keys ``ch08.*``)."""

from __future__ import annotations

import torch

from companion.diffpool.model import cluster_sizes as _cluster_sizes
from companion.diffpool.pool import entropy_loss, link_prediction_loss
from companion.exercises import exercise


def _soft_cases():
    g = torch.Generator().manual_seed(8)
    for b, n, f, c in ((1, 4, 2, 2), (2, 6, 3, 3), (3, 9, 5, 4)):
        z = torch.randn(b, n, f, generator=g)
        a = (torch.rand(b, n, n, generator=g) < 0.4).float().triu(1)
        s = torch.softmax(torch.randn(b, n, c, generator=g), dim=-1)
        yield (z, a + a.transpose(1, 2), s), {}


@exercise("ch08.coarsen", _soft_cases)
def coarsen(z: torch.Tensor, adj: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference: X' = S^T Z (B, C, F) and A' = S^T A S (B, C, C) for a softmaxed S (B, N, C)."""
    st = s.transpose(1, 2)
    return st @ z, st @ adj @ s


@exercise("ch08.aux_losses", _soft_cases)
def aux_losses(z: torch.Tensor, adj: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference: (||A - S S^T||_F over the batch, not normalised; mean row entropy of S)."""
    return link_prediction_loss(adj, s, normalize=False), entropy_loss(s)


def _perm_cases():
    g = torch.Generator().manual_seed(9)
    for n, f in ((3, 2), (6, 4), (10, 3)):
        x = torch.randn(n, f, generator=g)
        a = (torch.rand(n, n, generator=g) < 0.5).float().triu(1)
        yield (x, a + a.T, torch.randperm(n, generator=g)), {}


@exercise("ch08.permute", _perm_cases)
def permute_graph(x: torch.Tensor, adj: torch.Tensor, perm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference: relabel the nodes so that new node i is old node perm[i]: (P X, P A P^T)."""
    return x[perm], adj[perm][:, perm]


def _cluster_cases():
    for args in ((150, 0.25, 2), (39, 0.1, 1), (39, 0.5, 3), (7, 0.1, 2), (1000, 0.1, 1)):
        yield args, {}


@exercise("ch08.clusters", _cluster_cases)
def cluster_sizes(max_nodes: int, cluster_ratio: float, levels: int) -> list[int]:
    """Reference: ceil(ratio * n) clusters per level, at least 1, n shrinking level by level."""
    return _cluster_sizes(max_nodes, cluster_ratio, levels)
