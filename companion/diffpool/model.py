"""The hierarchical DiffPool classifier and the flat GNN baselines."""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from companion.diffpool.gnn import GNNBlock
from companion.diffpool.pool import COARSE_ADJ, coarse_adjacency, coarsen, diff_pool, hard_assignment

READOUTS = ("mean", "sum", "max")
# DiffPoolNet also has "max-concat": the authors' readout (max over nodes at every level, concatenated)
DIFFPOOL_READOUTS = READOUTS + ("max-concat",)
POOL_FUNCTIONS = ("ours", "pyg")


def cluster_sizes(max_nodes: int, cluster_ratio: float, levels: int) -> list[int]:
    """Number of clusters at each level: ``ceil(ratio * n)`` of the previous level's ``n`` nodes.

    The paper uses ratio 0.25 with two levels and 0.1 with one; PyG's example rounds up, as here.
    """
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be >= 1, got {max_nodes}")
    if not 0.0 < cluster_ratio <= 1.0:
        raise ValueError(f"cluster_ratio must be in (0, 1], got {cluster_ratio}")
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    sizes, n = [], max_nodes
    for _ in range(levels):
        n = max(1, math.ceil(cluster_ratio * n))
        sizes.append(n)
    return sizes


def readout(x: Tensor, mask: Tensor | None, how: str) -> Tensor:
    """Graph embedding (B, F) from node embeddings (B, N, F), ignoring padding nodes."""
    if how not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {how!r}")
    if mask is None:
        mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    m = mask.unsqueeze(-1).to(x.dtype)
    if how == "sum":
        return (x * m).sum(1)
    if how == "mean":
        return (x * m).sum(1) / m.sum(1).clamp(min=1)
    return x.masked_fill(~mask.unsqueeze(-1).bool(), float("-inf")).max(1).values


def _pyg_diff_pool(x, adj, s, mask=None, coarse_adj="raw"):
    from torch_geometric.nn import dense_diff_pool

    out, out_adj, link, ent = dense_diff_pool(x, adj, s, mask)
    return out, coarse_adjacency(out_adj, coarse_adj), link, ent


class FlatGNN(nn.Module):
    """Baseline: a :class:`GNNBlock` followed by one global readout (mean or sum) and an MLP.

    ``aggr`` and ``normalize`` (the paper's l2 normalisation of embeddings) as in :class:`GNNBlock`.

    ``forward(x, adj, mask) -> (logits (B, classes), {})``; the empty dict keeps the interface of
    :class:`DiffPoolNet` (no auxiliary losses).
    """

    def __init__(self, in_dim: int, num_classes: int, hidden: int = 32, num_layers: int = 3,
                 readout: str = "mean", aggr: str = "sum", dropout: float = 0.0, normalize: bool = False):
        super().__init__()
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        self.readout = readout
        self.gnn = GNNBlock(in_dim, hidden, hidden, num_layers, aggr, normalize)
        self.mlp = nn.Sequential(nn.Linear(self.gnn.out_channels, hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, num_classes))

    def forward(self, x: Tensor, adj: Tensor, mask: Tensor | None = None) -> tuple[Tensor, dict]:
        h = self.gnn(x, adj, mask)
        return self.mlp(readout(h, mask, self.readout)), {}


class DiffPoolNet(nn.Module):
    r"""Hierarchical graph classifier with ``levels`` DiffPool layers (Ying et al. 2018, Sec. 3).

    At level :math:`l`, an embedding GNN gives :math:`Z = \mathrm{GNN}_{embed}(A, X)` (Eq. 5) and a
    pooling GNN gives assignment logits :math:`\mathrm{GNN}_{pool}(A, X)` (Eq. 6) over
    :math:`C_l` clusters (:func:`cluster_sizes`); :func:`diff_pool` coarsens to
    :math:`X' = S^\top Z,\ A' = S^\top A S` (Eqs. 3, 4). After the last level one more GNN runs on
    the coarse graph, a readout over clusters gives the graph embedding, and an MLP the logits.

    ``pool="ours"`` uses :func:`diff_pool`, ``pool="pyg"`` PyG's ``dense_diff_pool`` (same maths).
    ``coarse_adj`` (:data:`~companion.diffpool.pool.COARSE_ADJ`) is what
    :func:`~companion.diffpool.pool.coarse_adjacency` does to :math:`A'` at every level:
    ``"raw"`` (default; the paper and the authors' code), ``"no-diag"``, ``"degree-norm"``.

    ``readout``: ``"mean"`` (default), ``"sum"`` or ``"max"`` over the clusters of the last level
    only; ``"max-concat"`` is the authors' readout (``SoftPoolingGcnEncoder.forward`` in
    ``RexYing/diffpool/encoders.py``): the max over nodes of the embedding GNN's output at every
    level (padding ignored) and of the final GNN's output, concatenated, so the MLP sees
    ``levels + 1`` vectors.

    ``aggr`` (``"sum"``, the authors' code, or ``"mean"``, the paper's GraphSAGE-mean) and
    ``normalize`` (the paper's l2 normalisation of the embeddings after every layer) go to every
    :class:`GNNBlock`. ``first_layers`` is the depth of the level-0 GNNs (default ``num_layers``):
    the paper applies DiffPool after two GraphSAGE layers, then runs three after each DiffPool.

    ``det``: DiffPool-DET (the paper's ablation): no pooling GNN at any level; every level's
    assignment is the fixed one-hot :math:`S` of the cluster indices passed as ``clusters`` to
    ``forward`` (:func:`~companion.diffpool.det.det_clusters`, a deterministic graph clustering);
    no auxiliary loss.

    ``oracle_clusters``: when given, level 0 has no pooling GNN: its assignment is the fixed hard
    one-hot :math:`S` of the planted communities (:func:`~companion.diffpool.pool.hard_assignment`
    with that many clusters), passed as ``community`` (B, N) to ``forward``; it adds no auxiliary
    loss. Further levels (``levels > 1``) are learned, with ``ceil(cluster_ratio * C)`` clusters.

    ``forward(x (B, N, F), adj (B, N, N), mask (B, N), community (B, N) or None, clusters or None)
    -> (logits, aux)``;
    ``aux`` holds the summed ``link_loss`` and ``entropy_loss`` over levels and the
    assignments :math:`S` of each level (softmax, or the one-hot of the oracle or DET; padding rows zero).
    """

    def __init__(self, in_dim: int, num_classes: int, max_nodes: int, hidden: int = 32, levels: int = 1,
                 cluster_ratio: float = 0.25, num_layers: int = 3, readout: str = "mean", aggr: str = "sum",
                 pool: str = "ours", dropout: float = 0.0, coarse_adj: str = "raw",
                 oracle_clusters: int | None = None, det: bool = False, first_layers: int | None = None,
                 normalize: bool = False):
        super().__init__()
        if pool not in POOL_FUNCTIONS:
            raise ValueError(f"pool must be one of {POOL_FUNCTIONS}, got {pool!r}")
        if readout not in DIFFPOOL_READOUTS:
            raise ValueError(f"readout must be one of {DIFFPOOL_READOUTS}, got {readout!r}")
        if coarse_adj not in COARSE_ADJ:
            raise ValueError(f"coarse_adj must be one of {COARSE_ADJ}, got {coarse_adj!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        if oracle_clusters is not None and oracle_clusters < 1:
            raise ValueError(f"oracle_clusters must be >= 1 or None, got {oracle_clusters}")
        if det and oracle_clusters is not None:
            raise ValueError("det (every assignment fixed by a graph clustering) and oracle_clusters "
                             "(level 0 fixed by the planted communities) exclude each other")
        if first_layers is not None and first_layers < 1:
            raise ValueError(f"first_layers must be >= 1 or None, got {first_layers}")
        self.max_nodes, self.readout, self.coarse_adj = max_nodes, readout, coarse_adj
        self.oracle_clusters, self.det = oracle_clusters, det
        if oracle_clusters is None:
            self.clusters = cluster_sizes(max_nodes, cluster_ratio, levels)
        else:
            self.clusters = [oracle_clusters] + (
                cluster_sizes(oracle_clusters, cluster_ratio, levels - 1) if levels > 1 else [])
        self.pool_fn = diff_pool if pool == "ours" else _pyg_diff_pool
        # pool / assign hold the learned levels only (all of them, or all but the oracle's level 0)
        self.embed, self.pool, self.assign = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        dim = in_dim
        for level, c in enumerate(self.clusters):
            depth = first_layers if level == 0 and first_layers is not None else num_layers
            self.embed.append(GNNBlock(dim, hidden, hidden, depth, aggr, normalize))
            if not (det or (level == 0 and self.uses_community)):
                self.pool.append(GNNBlock(dim, hidden, hidden, depth, aggr, normalize))
                self.assign.append(nn.Linear(self.pool[-1].out_channels, c))
            dim = self.embed[-1].out_channels
        self.final = GNNBlock(dim, hidden, hidden, num_layers, aggr, normalize)
        width = self.final.out_channels
        if readout == "max-concat":
            width += sum(e.out_channels for e in self.embed)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, num_classes))

    @property
    def uses_community(self) -> bool:
        """Whether ``forward`` needs the planted ``community`` of each node (the oracle)."""
        return self.oracle_clusters is not None

    @property
    def uses_clusters(self) -> bool:
        """Whether ``forward`` needs fixed ``clusters`` for every level (DiffPool-DET)."""
        return self.det

    def forward(self, x: Tensor, adj: Tensor, mask: Tensor | None = None,
                community: Tensor | None = None, clusters: Sequence[Tensor] | None = None) -> tuple[Tensor, dict]:
        if x.dim() != 3 or x.shape[1] > self.max_nodes:
            raise ValueError(f"x must be (B, N, F) with N <= max_nodes={self.max_nodes}, got {tuple(x.shape)}")
        if self.uses_community and (community is None or tuple(community.shape) != tuple(x.shape[:2])):
            raise ValueError(f"the oracle DiffPool needs community (B, N) = {tuple(x.shape[:2])}, got "
                             f"{None if community is None else tuple(community.shape)}")
        if self.det:
            want = [tuple(x.shape[:2])] + [(x.shape[0], c) for c in self.clusters[:-1]]
            got = None if clusters is None else [tuple(c.shape) for c in clusters]
            if got != want:
                raise ValueError(f"DiffPool-DET needs clusters of shapes {want} (one per level), got {got}")
        link, ent, assignments, levels_out = x.new_zeros(()), x.new_zeros(()), [], []
        learned = iter(zip(self.pool, self.assign))
        for level, embed in enumerate(self.embed):
            z = embed(x, adj, mask)
            if self.readout == "max-concat":
                levels_out.append(readout(z, mask, "max"))
            if self.det or (level == 0 and self.uses_community):
                fixed = clusters[level] if self.det else community
                s = hard_assignment(fixed, self.clusters[level]).to(z.dtype)
                if mask is not None:
                    s = s * mask.unsqueeze(-1).to(z.dtype)
                x, adj = coarsen(z, adj, s, self.coarse_adj)
                assignments.append(s)
            else:
                pool, assign = next(learned)
                logits_s = assign(pool(x, adj, mask))
                x, adj, l_loss, e_loss = self.pool_fn(z, adj, logits_s, mask, coarse_adj=self.coarse_adj)
                s = torch.softmax(logits_s, dim=-1)
                assignments.append(s if mask is None else s * mask.unsqueeze(-1))
                link, ent = link + l_loss, ent + e_loss
            mask = None
        h = self.final(x, adj)
        if self.readout == "max-concat":
            g = torch.cat(levels_out + [readout(h, None, "max")], dim=-1)
        else:
            g = readout(h, None, self.readout)
        return self.mlp(g), {"link_loss": link, "entropy_loss": ent, "assignments": assignments}
