"""Checked exercises of chapter 4 (AliNet)."""

from __future__ import annotations

import torch

from companion.alinet.graph import two_hop_edges
from companion.alinet.layers import gate as gate_reference
from companion.alinet.metrics import ranking_metrics
from companion.exercises import exercise


def _sim_cases():
    g = torch.Generator().manual_seed(4)
    for n, m in ((5, 5), (8, 12), (20, 20)):
        sim = torch.randn(n, m, generator=g)
        sim[: n // 2].diagonal().add_(1.5)  # some rows right, some wrong
        yield (sim,), {}
    # ties: rounded similarities, so some matches share their score with other columns (a tie is
    # broken at random: the metrics are expectations over the tie-break, see ranking_metrics)
    for n, m in ((6, 6), (10, 14)):
        sim = torch.randint(0, 3, (n, m), generator=g).float()
        yield (sim,), {}


@exercise("ch04.hits_mrr", _sim_cases)
def hits_mrr(sim: torch.Tensor) -> dict[str, float]:
    """Reference: Hits@1, Hits@10 and MRR when the match of row i is column i."""
    return ranking_metrics(sim, ks=(1, 10))


def _graph_cases():
    g = torch.Generator().manual_seed(5)
    for n, e in ((5, 5), (9, 12), (15, 25)):
        edges = torch.randint(0, n, (2, e), generator=g)
        edges = edges[:, edges[0] != edges[1]]
        edges = torch.cat([edges, edges.flip(0)], 1)
        yield (edges, n), {}
    # a 4-cycle with the chord 0-2, a tail 3-4 and a lone node 5: 0 and 2 are neighbours with two
    # common neighbours, so A^2 - A > 0 (instead of "A^2 > 0 and not A") keeps them
    edges = torch.tensor([[0, 1, 2, 3, 0, 3], [1, 2, 3, 0, 2, 4]])
    yield (torch.cat([edges, edges.flip(0)], 1), 6), {}


@exercise("ch04.two_hop", _graph_cases)
def two_hop_dense(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Reference: the dense (N, N) 0/1 matrix of distant neighbours (two hops, not one hop, not self)."""
    out = torch.zeros(num_nodes, num_nodes)
    e = two_hop_edges(edge_index, num_nodes)
    out[e[0], e[1]] = 1.0
    return out


def _gate_cases():
    g = torch.Generator().manual_seed(6)
    for n, d in ((3, 4), (10, 8)):
        yield (torch.randn(n, d, generator=g), torch.randn(n, d, generator=g), torch.randn(d, d, generator=g),
               torch.randn(d, generator=g)), {}


@exercise("ch04.gate", _gate_cases)
def gate(h1: torch.Tensor, h2: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Reference: AliNet's gate, tanh(g * h2 + (1 - g) * h1) with g = relu(tanh(h2 K + b))."""
    return gate_reference(h1, h2, kernel, bias)
