"""A two-layer graph convolutional network (Kipf & Welling, ICLR 2017) on a dense adjacency."""

from __future__ import annotations

import torch
from torch import nn


def normalized_adjacency(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    r"""Dense :math:`\hat A = D^{-1/2}(A + I)D^{-1/2}` from an edge list (made symmetric).

    Args:
        edge_index: (2, E) long tensor of node pairs.
        num_nodes: N, the number of nodes.
    Returns:
        (N, N) float tensor.
    """
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    if edge_index.numel() and (edge_index.min() < 0 or edge_index.max() >= num_nodes):
        raise ValueError(f"edge_index names nodes outside 0..{num_nodes - 1}")
    a = torch.zeros(num_nodes, num_nodes)
    a[edge_index[0], edge_index[1]] = 1.0
    a = ((a + a.t()) > 0).float()
    a.fill_diagonal_(1.0)
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


class GCN(nn.Module):
    r"""Two GCN layers: :math:`\mathrm{softmax}(\hat A\,\mathrm{ReLU}(\hat A X W_0) W_1)` (logits out)."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, dropout: float = 0.5):
        super().__init__()
        self.lin0 = nn.Linear(in_dim, hidden)
        self.lin1 = nn.Linear(hidden, out_dim)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, a_hat: torch.Tensor) -> torch.Tensor:
        if a_hat.shape != (x.shape[0], x.shape[0]):
            raise ValueError(f"a_hat must be ({x.shape[0]}, {x.shape[0]}), got {tuple(a_hat.shape)}")
        h = torch.relu(a_hat @ self.lin0(x))
        h = nn.functional.dropout(h, self.dropout, self.training)
        return a_hat @ self.lin1(h)
