"""Graphs for alignment: the joint entity graph of two KGs, its GCN normalisation and two-hop edges."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from companion.data.kg_pair import KGPair


def check_pairs(pairs: torch.Tensor, num_entities1: int, num_entities2: int, what: str = "pairs") -> torch.Tensor:
    """Validate (K, 2) alignment pairs against the two KGs' sizes; a ``ValueError`` names the bad entity."""
    pairs = torch.as_tensor(pairs, dtype=torch.long)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"{what} must have shape (K, 2), got {tuple(pairs.shape)}")
    if len(pairs) == 0:
        raise ValueError(f"{what} is empty: need at least one (KG1 entity, KG2 entity) pair")
    for col, n, kg in ((0, num_entities1, "KG1"), (1, num_entities2, "KG2")):
        bad = (pairs[:, col] < 0) | (pairs[:, col] >= n)
        if bad.any():
            i = int(bad.nonzero()[0, 0])
            raise ValueError(f"{what}[{i}] names entity {int(pairs[i, col])} unknown to {kg}, "
                             f"which has entities 0..{n - 1}")
    return pairs


def joint_edges(pair: KGPair, enhance: bool = True) -> torch.Tensor:
    """Undirected entity edges of both KGs in one id space (KG2 ids shifted by ``num_entities1``).

    With ``enhance`` (AliNet's ``enhance_triples``), an edge between two seed entities in one KG
    is copied to their counterparts in the other, so seeds bring their known neighbourhoods along.
    Returns a (2, E) long tensor, each undirected edge once per direction, no self-loops.
    """
    n1 = pair.num_entities1
    seeds = check_pairs(pair.seed_pairs, pair.num_entities1, pair.num_entities2, "seed_pairs")
    e1 = pair.triples1[:, [0, 2]].numpy()
    e2 = pair.triples2[:, [0, 2]].numpy() + n1
    edges = [e1, e2]
    if enhance:
        to2 = np.full(n1, -1); to2[seeds[:, 0].numpy()] = seeds[:, 1].numpy() + n1
        to1 = np.full(n1 + pair.num_entities2, -1); to1[seeds[:, 1].numpy() + n1] = seeds[:, 0].numpy()
        m1 = to2[e1]; edges.append(m1[(m1 >= 0).all(1)])
        m2 = to1[e2]; edges.append(m2[(m2 >= 0).all(1)])
    e = np.concatenate(edges)
    e = e[e[:, 0] != e[:, 1]]
    e = np.unique(np.concatenate([e, e[:, ::-1]]), axis=0)
    return torch.from_numpy(np.ascontiguousarray(e.T))


def gcn_adjacency(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    r"""Sparse :math:`\hat A = D^{-1/2}(A + I)D^{-1/2}` (Kipf & Welling), shape (N, N), for the one-hop GCN."""
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    loops = torch.arange(num_nodes).repeat(2, 1)
    idx = torch.cat([edge_index, loops], 1)
    val = torch.ones(idx.shape[1])
    a = torch.sparse_coo_tensor(idx, val, (num_nodes, num_nodes), check_invariants=False).coalesce()
    idx, val = a.indices(), (a.values() > 0).float()
    deg = torch.zeros(num_nodes).index_add_(0, idx[0], val)
    d = deg.pow(-0.5)
    return torch.sparse_coo_tensor(idx, d[idx[0]] * val * d[idx[1]], (num_nodes, num_nodes),
                                   check_invariants=False).coalesce()


def two_hop_edges(edge_index: torch.Tensor, num_nodes: int, max_per_node: int | None = None,
                  seed: int = 0) -> torch.Tensor:
    """Distant neighbours: pairs ``(i, j)`` joined by a path of length 2 but not by an edge, ``i != j``.

    :math:`A_2 = \\mathbb 1[A A > 0] \\wedge \\neg A \\wedge \\neg I`. With ``max_per_node`` each row keeps a
    seeded random sample of at most that many distant neighbours (hubs make :math:`A^2` dense).
    Returns (2, E2), sorted by row.
    """
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    if max_per_node is not None and max_per_node < 1:
        raise ValueError(f"max_per_node must be >= 1 or None, got {max_per_node}")
    ei = edge_index.numpy()
    a = sp.csr_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(num_nodes, num_nodes))
    a = ((a + a.T) > 0).astype(np.float64)
    a.setdiag(0); a.eliminate_zeros()
    a2 = (a @ a) > 0
    a2 = a2.astype(np.int8) - a2.multiply(a > 0).astype(np.int8)  # drop one-hop neighbours
    a2.setdiag(0); a2.eliminate_zeros()
    a2 = a2.tocoo()
    rows, cols = a2.row.astype(np.int64), a2.col.astype(np.int64)
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    if max_per_node is not None and len(rows):
        rng = np.random.default_rng(seed)
        order = np.lexsort((rng.random(len(rows)), rows))
        rows, cols = rows[order], cols[order]
        starts = np.searchsorted(rows, rows, side="left")
        keep = (np.arange(len(rows)) - starts) < max_per_node
        rows, cols = rows[keep], cols[keep]
        order = np.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
    return torch.from_numpy(np.stack([rows, cols]))


def joint_triples(pair: KGPair) -> torch.Tensor:
    """Both KGs' triples in the joint id space (KG2 entities shifted by ``num_entities1``, relations by ``num_relations1``)."""
    t2 = pair.triples2 + torch.tensor([pair.num_entities1, pair.num_relations1, pair.num_entities1])
    return torch.cat([pair.triples1, t2])
