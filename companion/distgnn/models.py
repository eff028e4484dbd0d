"""The two models of the chapter, built from PyG layers.

- :class:`GCN` (full-graph workflow): ``GCNConv`` layers with ``normalize=False``; the caller
  supplies the symmetric normalisation as edge weights computed with *global* degrees, so the
  same module computes the single-process GCN on the whole graph or one worker's share of it.
- :class:`SAGE` (mini-batch workflow): ``SAGEConv`` (mean) layers run on a sampled subgraph.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GCNConv, SAGEConv

__all__ = ["GCN", "SAGE"]


class GCN(nn.Module):
    r""":math:`H^{(l+1)} = \sigma(\hat A H^{(l)} W^{(l)})` with :math:`\hat A = \tilde D^{-1/2}(A+I)\tilde D^{-1/2}`.

    ``forward(x, edge_index, edge_weight, halo=None)``: ``x`` holds the rows this process owns;
    ``halo(layer, h)`` (distributed training) returns the rows of the remote in-neighbours, which
    are appended below ``h`` before each layer. Without ``halo`` this is the ordinary GCN.
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int, num_layers: int = 2, dropout: float = 0.5):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        dims = [in_channels] + [hidden] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(GCNConv(a, b, normalize=False, add_self_loops=False) for a, b in zip(dims, dims[1:]))
        self.dropout = dropout

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor,
                halo: Callable[[int, torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        h = x
        n = x.shape[0]
        for i, conv in enumerate(self.convs):
            h_all = h if halo is None else torch.cat([h, halo(i, h)])
            h = conv(h_all, edge_index, edge_weight)[:n]
            if i < len(self.convs) - 1:
                h = F.dropout(F.relu(h), self.dropout, self.training)
        return h


class SAGE(nn.Module):
    """GraphSAGE-mean on a sampled subgraph; the first ``batch_size`` rows are the seeds."""

    def __init__(self, in_channels: int, hidden: int, out_channels: int, num_layers: int = 2, dropout: float = 0.5):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        dims = [in_channels] + [hidden] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(SAGEConv(a, b) for a, b in zip(dims, dims[1:]))
        self.dropout = dropout

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        h = x
        for i, conv in enumerate(self.convs):
            h = conv(h, edge_index)
            if i < len(self.convs) - 1:
                h = F.dropout(F.relu(h), self.dropout, self.training)
        return h
