"""Dense batching: variable-size graphs padded to one (B, N, ...) tensor with a node mask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor


@dataclass
class DenseGraphs:
    """Graphs padded to ``N`` nodes: ``x`` (B, N, F), ``adj`` (B, N, N), ``mask`` (B, N), ``y`` (B,),
    and ``community`` (B, N) long, the planted community of each node (``-1`` on padding), when
    the graphs carry one (``hier_graphs``), else ``None``.

    ``clusters``: fixed cluster indices of every pooling level for DiffPool-DET (``-1`` where a
    node, or an empty cluster of the level before, has none): level ``l`` is (B, N_l) with
    ``N_0 = N`` and ``N_l`` the clusters of level ``l - 1``
    (:func:`companion.diffpool.det.det_clusters`); ``None`` unless set."""

    x: Tensor
    adj: Tensor
    mask: Tensor
    y: Tensor
    community: Tensor | None = None
    clusters: tuple[Tensor, ...] | None = None

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, index) -> "DenseGraphs":
        community = None if self.community is None else self.community[index]
        clusters = None if self.clusters is None else tuple(c[index] for c in self.clusters)
        return DenseGraphs(self.x[index], self.adj[index], self.mask[index], self.y[index], community, clusters)

    @property
    def max_nodes(self) -> int:
        return self.x.shape[1]

    def to(self, device: torch.device | str) -> "DenseGraphs":
        """The same graphs with every tensor on ``device`` (the same tensors on the CPU)."""
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        clusters = None if self.clusters is None else tuple(move(c) for c in self.clusters)
        return DenseGraphs(move(self.x), move(self.adj), move(self.mask), move(self.y), move(self.community), clusters)


def to_dense(graphs: Sequence, max_nodes: int | None = None) -> DenseGraphs:
    """Pad a list of PyG ``Data`` graphs (``x``, ``edge_index``, ``y``) into one :class:`DenseGraphs`.

    ``max_nodes`` (default: the largest graph) is the padded size N; a larger graph is an error
    (filter them first, as the DiffPool code does with ``--max-nodes``). Node ``i`` of graph ``b``
    is row ``i`` of ``x[b]``; rows ``>= num_nodes`` are zero and ``mask`` is False there. When
    every graph has a ``community`` attribute (one index per node), it is padded with ``-1`` into
    ``community``; otherwise ``community`` is ``None``.
    """
    if len(graphs) == 0:
        raise ValueError("to_dense needs at least one graph, got an empty list")
    sizes = [int(g.num_nodes) for g in graphs]
    n = max(sizes) if max_nodes is None else int(max_nodes)
    if n < max(sizes):
        raise ValueError(f"max_nodes={n} is smaller than the largest graph ({max(sizes)} nodes): filter it out first")
    feats = {g.x.shape[1] for g in graphs}
    if len(feats) != 1:
        raise ValueError(f"all graphs must have the same number of node features, got {sorted(feats)}")
    b, f = len(graphs), feats.pop()
    x = torch.zeros(b, n, f)
    adj = torch.zeros(b, n, n)
    mask = torch.zeros(b, n, dtype=torch.bool)
    for i, (g, size) in enumerate(zip(graphs, sizes)):
        x[i, :size] = g.x.float()
        adj[i, g.edge_index[0], g.edge_index[1]] = 1.0
        mask[i, :size] = True
    y = torch.cat([g.y.view(-1)[:1] for g in graphs]).long()
    community = None
    if all(getattr(g, "community", None) is not None for g in graphs):
        community = torch.full((b, n), -1, dtype=torch.long)
        for i, (g, size) in enumerate(zip(graphs, sizes)):
            if g.community.numel() != size:
                raise ValueError(f"graph {i}: community has {g.community.numel()} entries for {size} nodes")
            community[i, :size] = g.community.long()
    return DenseGraphs(x, adj, mask, y, community)
