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


def joint_edges(pair: KGPair, enhance: bool = True, seeds: torch.Tensor | None = None) -> torch.Tensor:
    """Undirected entity edges of both KGs in one id space (KG2 ids shifted by ``num_entities1``).

    With ``enhance`` (AliNet's ``enhance_triples``), an edge between two linked entities in one KG
    is copied to their counterparts in the other, so links bring their known neighbourhoods along.
    The links are ``seeds`` ((K, 2) per-KG ids; default ``pair.seed_pairs``): the training seeds,
    plus the pairs found by iterative neighbourhood augmentation.
    Returns a (2, E) long tensor, each undirected edge once per direction, no self-loops.
    """
    n1 = pair.num_entities1
    seeds = check_pairs(pair.seed_pairs if seeds is None else seeds, pair.num_entities1, pair.num_entities2,
                        "seed_pairs")
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


def gcn_align_adjacency(triples: torch.Tensor, num_nodes: int) -> torch.Tensor:
    r"""GCN-Align's adjacency (``get_sparse_tensor`` in its code): edges weighted by relation functionality.

    For a triple :math:`(h, r, t)`, :math:`a_{th} \mathrel{+}= \mathrm{ifun}(r)^{1/4}` and
    :math:`a_{ht} \mathrel{+}= \mathrm{fun}(r)^{1/4}`, where :math:`\mathrm{fun}(r)` = #distinct heads / #triples
    of :math:`r` and :math:`\mathrm{ifun}(r)` = #distinct tails / #triples; :math:`a_{ii} = 1`; then
    :math:`\hat a_{ij} = a_{ij} / \sqrt{d_i d_j}` with :math:`d_i` = 1 + the number of triples at :math:`i`.
    Self-loop triples are skipped. ``triples``: (M, 3) joint ids; returns a sparse (N, N) tensor.
    """
    if triples.ndim != 2 or triples.shape[1] != 3:
        raise ValueError(f"triples must be (M, 3), got {tuple(triples.shape)}")
    t = triples.numpy()
    t = t[t[:, 0] != t[:, 2]]
    h, r, tl = t[:, 0], t[:, 1], t[:, 2]
    n_rel = int(r.max()) + 1 if len(r) else 1
    count = np.bincount(r, minlength=n_rel).astype(np.float64)
    heads = np.bincount(np.unique(np.stack([r, h], 1), axis=0)[:, 0], minlength=n_rel)
    tails = np.bincount(np.unique(np.stack([r, tl], 1), axis=0)[:, 0], minlength=n_rel)
    fun = np.divide(heads, count, out=np.zeros(n_rel), where=count > 0)
    ifun = np.divide(tails, count, out=np.zeros(n_rel), where=count > 0)
    deg = 1.0 + np.bincount(h, minlength=num_nodes) + np.bincount(tl, minlength=num_nodes)
    rows = np.concatenate([tl, h, np.arange(num_nodes)])
    cols = np.concatenate([h, tl, np.arange(num_nodes)])
    vals = np.concatenate([ifun[r] ** 0.25, fun[r] ** 0.25, np.ones(num_nodes)])
    a = sp.coo_matrix((vals, (rows, cols)), shape=(num_nodes, num_nodes)).tocsr().tocoo()  # sums duplicates
    d = deg ** -0.5
    v = a.data * d[a.row] * d[a.col]
    idx = torch.from_numpy(np.stack([a.row, a.col]).astype(np.int64))
    return torch.sparse_coo_tensor(idx, torch.from_numpy(v).float(), (num_nodes, num_nodes),
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


def _path_pairs(triples: np.ndarray, drop_top_patterns: int) -> np.ndarray:
    """Directed two-step pairs ``(h, t)`` of one KG (``generate_2hop_triples`` in the official code)."""
    import pandas as pd

    df = pd.DataFrame(triples, columns=["h", "r", "t"])
    m = pd.merge(df, df, left_on="t", right_on="h")  # h_x -r_x-> t_x = h_y -r_y-> t_y
    direct = set(zip(triples[:, 0].tolist(), triples[:, 2].tolist()))
    quads = m[["h_x", "r_x", "r_y", "t_y"]].drop_duplicates().to_numpy()
    if len(quads) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    keep = np.fromiter(((h, t) not in direct for h, t in zip(quads[:, 0].tolist(), quads[:, 3].tolist())),
                       dtype=bool, count=len(quads))
    quads = quads[keep]
    if drop_top_patterns > 0 and len(quads):
        pats, counts = np.unique(quads[:, 1:3], axis=0, return_counts=True)
        order = np.lexsort((pats[:, 1], pats[:, 0], -counts))  # most frequent first, ties by pattern
        dropped = {tuple(p) for p in pats[order[:drop_top_patterns]].tolist()}
        quads = quads[np.fromiter(((a, b) not in dropped for a, b in quads[:, 1:3].tolist()), dtype=bool,
                                  count=len(quads))]
    return np.unique(quads[:, [0, 3]], axis=0)


def distant_neighbours(pair: KGPair, drop_top_patterns: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    r"""AliNet's two-hop graph as the official code builds it (``generate_2hop_triples`` + ``no_weighted_adj``).

    In each KG, entity ``t`` is a distant neighbour of ``h`` when a *directed* path ``h -r_x-> m -r_y-> t``
    exists and no direct triple ``h -> t`` does (cycles back to ``h`` count); the pairs of the
    ``drop_top_patterns`` most frequent relation patterns ``(r_x, r_y)`` are dropped (5 in the official
    code: they are the hub-made, uninformative ones). The pairs are made symmetric, every entity with a
    distant neighbour gets a self-loop, and the matrix is normalised as a GCN's:
    :math:`\hat A_2 = D^{-1/2}(A_2 + I)D^{-1/2}`. The attention multiplies its scores by these values.
    Returns ``(edge_index (2, E2), weight (E2,))`` in joint ids (KG2 shifted by ``num_entities1``), sorted by row.
    Unlike the official code, entities outside the alignment (our views' intermediate entities) are kept.
    """
    if drop_top_patterns < 0:
        raise ValueError(f"drop_top_patterns must be >= 0, got {drop_top_patterns}")
    n1, n = pair.num_entities1, pair.num_entities1 + pair.num_entities2
    p1 = _path_pairs(pair.triples1.numpy(), drop_top_patterns)
    p2 = _path_pairs(pair.triples2.numpy(), drop_top_patterns) + n1
    p = np.concatenate([p1, p2])
    heads = np.unique(p[:, 0]) if len(p) else np.zeros(0, dtype=np.int64)
    rows = np.concatenate([p[:, 0], p[:, 1], heads, np.arange(n)])
    cols = np.concatenate([p[:, 1], p[:, 0], heads, np.arange(n)])
    a = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    a.data[:] = np.minimum(a.data, 1.0)  # a set of pairs (duplicates once) ...
    a = a + sp.diags(np.bincount(heads, minlength=n).clip(max=1).astype(float))  # ... head self-loops count twice
    a = a.tocoo()
    d = np.asarray(a.sum(1)).flatten() ** -0.5
    order = np.lexsort((a.col, a.row))
    r, c = a.row[order].astype(np.int64), a.col[order].astype(np.int64)
    w = a.data[order] * d[r] * d[c]
    return torch.from_numpy(np.stack([r, c])), torch.from_numpy(w).float()
