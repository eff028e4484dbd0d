"""DiffPool-DET: cluster assignments from a deterministic graph clustering, not a pooling GNN.

The paper's ablation DiffPool-DET (Ying et al. 2018, Sec. 4.2) takes each level's assignment
from Graclus (Dhillon, Guan and Kulis 2007, multilevel normalised-cut clustering). Graclus is
not available offline here, so we use METIS (Karypis and Kumar; ``pymetis``), the multilevel
k-way partitioner on whose framework Graclus is built: it minimises the (weighted) edge cut under
a balance constraint, where Graclus minimises the normalised cut without one. METIS runs with a
fixed seed, so the partition is a function of the graph alone.

Level 0 partitions each graph into ``min(C_0, n)`` parts (``n`` its nodes, ``C_0`` the model's
clusters); level ``l > 0`` partitions the coarse graph :math:`S^\\top A S` of the level before
(edge weights: the number of edges between two clusters; its non-empty clusters only) into
``min(C_l, non-empty clusters)`` parts. METIS may leave a part empty on a tiny graph: that
cluster is then empty, as a learned assignment's may be.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from companion.diffpool.dense import DenseGraphs

METIS_SEED = 0  # METIS's own random choices (matching, initial partition) are seeded: deterministic


def metis_clusters(adj: np.ndarray, num_parts: int) -> np.ndarray:
    """A deterministic METIS partition of one undirected graph into at most ``num_parts`` parts.

    ``adj`` (n, n): symmetric, non-negative edge weights (the diagonal is ignored; weights are
    rounded to integers, as METIS takes integer weights: a 0/1 adjacency or edge counts).
    Returns (n,) int64 part ids in ``[0, num_parts)``. With ``num_parts >= n`` every node is its
    own part; with one part, or no node, no METIS call is made.
    """
    adj = np.asarray(adj)
    if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
        raise ValueError(f"adj must be a square (n, n) array, got shape {adj.shape}")
    if num_parts < 1:
        raise ValueError(f"num_parts must be >= 1, got {num_parts}")
    if not np.allclose(adj, adj.T) or (adj < 0).any():
        raise ValueError("adj must be symmetric with non-negative weights (an undirected graph)")
    n = adj.shape[0]
    if num_parts >= n:
        return np.arange(n, dtype=np.int64)
    if num_parts == 1:
        return np.zeros(n, dtype=np.int64)
    import pymetis

    w = np.rint(adj).astype(np.int64)
    np.fill_diagonal(w, 0)
    rows, cols = np.nonzero(w)  # row-major: each node's neighbours are contiguous, as CSR needs
    starts = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    _, parts = pymetis.part_graph(num_parts, pymetis.CSRAdjacency(starts.tolist(), cols.tolist()),
                                  eweights=w[rows, cols].tolist(), options=pymetis.Options(seed=METIS_SEED))
    return np.asarray(parts, dtype=np.int64)


def det_clusters(graphs: DenseGraphs, clusters: Sequence[int]) -> tuple[Tensor, ...]:
    """Every level's fixed cluster indices for DiffPool-DET (see the module docstring).

    ``clusters``: the model's clusters per level (:func:`companion.diffpool.model.cluster_sizes`).
    Returns one long tensor per level: level 0 (B, N), level ``l`` (B, C_{l-1}); entry ``-1``
    for a padding node, or an empty cluster of the level before, which belongs to no cluster.
    Store it as ``graphs.clusters`` for :class:`~companion.diffpool.model.DiffPoolNet` with ``det=True``.
    """
    if not clusters or any(c < 1 for c in clusters):
        raise ValueError(f"clusters must be a non-empty list of counts >= 1, got {list(clusters)}")
    adj, mask = graphs.adj.numpy(), graphs.mask.numpy()
    b, n = mask.shape
    out = [np.full((b, size), -1, dtype=np.int64) for size in [n, *clusters[:-1]]]
    for g in range(b):
        nodes = np.flatnonzero(mask[g])
        a = adj[g][np.ix_(nodes, nodes)]
        for level, c in enumerate(clusters):
            parts = metis_clusters(a, min(c, len(nodes)))
            out[level][g, nodes] = parts
            s = np.zeros((len(nodes), c))
            s[np.arange(len(nodes)), parts] = 1.0
            coarse = s.T @ a @ s  # the next level's graph: edge counts between clusters
            nodes = np.flatnonzero(s.sum(0) > 0)  # empty clusters take no part in the next level
            a = coarse[np.ix_(nodes, nodes)]
    return tuple(torch.from_numpy(c) for c in out)
