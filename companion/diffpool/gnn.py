"""GraphSAGE-style dense GNN blocks: the embedding GNN and the pooling GNN of DiffPool."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

AGGREGATIONS = ("sum", "mean")


class DenseSAGELayer(nn.Module):
    r"""One GraphSAGE-style layer on a dense batch: :math:`h_i' = W_1 h_i + W_2\,\mathrm{agg}_{j\in N(i)} h_j`.

    ``aggr="sum"`` uses :math:`A H` (the official DiffPool code's ``GraphConv`` on the
    un-normalised adjacency); ``aggr="mean"`` divides by the degree (GraphSAGE-mean, the paper's
    text). On graphs whose node features are constant, the mean of neighbours is constant too, so
    only the sum sees degrees. ``normalize`` applies the paper's l2 normalisation of embeddings.
    Shapes: ``x`` (B, N, F), ``adj`` (B, N, N) -> (B, N, out_dim).
    """

    def __init__(self, in_dim: int, out_dim: int, aggr: str = "sum", normalize: bool = False):
        super().__init__()
        if aggr not in AGGREGATIONS:
            raise ValueError(f"aggr must be one of {AGGREGATIONS}, got {aggr!r}")
        if in_dim < 1 or out_dim < 1:
            raise ValueError(f"in_dim and out_dim must be >= 1, got {in_dim} and {out_dim}")
        self.aggr, self.normalize = aggr, normalize
        self.lin_root = nn.Linear(in_dim, out_dim)
        self.lin_rel = nn.Linear(in_dim, out_dim, bias=False)

    def forward(self, x: Tensor, adj: Tensor) -> Tensor:
        agg = adj @ x
        if self.aggr == "mean":
            agg = agg / adj.sum(dim=-1, keepdim=True).clamp(min=1)
        out = self.lin_root(x) + self.lin_rel(agg)
        return F.normalize(out, p=2.0, dim=-1) if self.normalize else out


def masked_batch_norm(bn: nn.BatchNorm1d, x: Tensor, mask: Tensor | None) -> Tensor:
    """Batch norm over the valid nodes only, so padding rows do not shift the statistics."""
    if mask is None:
        return bn(x.reshape(-1, x.shape[-1])).reshape(x.shape)
    out = torch.zeros_like(x)
    out[mask] = bn(x[mask])
    return out


class GNNBlock(nn.Module):
    """``num_layers`` :class:`DenseSAGELayer` s with ReLU and batch norm; the outputs of all layers
    are concatenated (as in the DiffPool code, ``concat=True``).

    ``forward(x (B, N, F), adj (B, N, N), mask (B, N) or None) -> (B, N, out_channels)`` with
    ``out_channels = hidden * (num_layers - 1) + out_dim``; padding rows are zero.
    """

    def __init__(self, in_dim: int, hidden: int, out_dim: int, num_layers: int = 3, aggr: str = "sum",
                 normalize: bool = False):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        dims = [in_dim] + [hidden] * (num_layers - 1) + [out_dim]
        self.convs = nn.ModuleList(DenseSAGELayer(a, b, aggr, normalize) for a, b in zip(dims[:-1], dims[1:]))
        self.bns = nn.ModuleList(nn.BatchNorm1d(b) for b in dims[1:])
        self.out_channels = sum(dims[1:])

    def forward(self, x: Tensor, adj: Tensor, mask: Tensor | None = None) -> Tensor:
        outs = []
        for conv, bn in zip(self.convs, self.bns):
            x = masked_batch_norm(bn, F.relu(conv(x, adj)), mask)
            outs.append(x)
        return torch.cat(outs, dim=-1)
