"""Graph partitioning for distributed GNN training: random and METIS, and their quality.

A partition assigns every node to one of ``num_parts`` workers. Each worker then owns the
features (and, in full-graph training, the embeddings) of its nodes. An edge whose endpoints lie
on different workers is *cut*: training needs the far endpoint's features, so every cut edge is
potential communication. The *halo* of part :math:`p` is the set of nodes owned elsewhere that
have a neighbour in :math:`p`: exactly the rows worker :math:`p` must receive each layer.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["random_partition", "metis_partition", "partition", "edge_cut", "halo_nodes", "partition_quality",
           "empty_parts", "PARTITIONERS", "METIS_WEIGHTS"]


def _check(num_nodes: int, num_parts: int) -> None:
    if not isinstance(num_parts, (int, np.integer)) or num_parts < 1:
        raise ValueError(f"num_parts must be an int >= 1, got {num_parts!r}")
    if num_parts > num_nodes:
        raise ValueError(f"cannot split {num_nodes} nodes over {num_parts} workers: "
                         f"more workers than nodes would leave a worker without any node")


def random_partition(num_nodes: int, num_parts: int, seed: int = 0) -> torch.Tensor:
    """Balanced random partition: a seeded permutation dealt round-robin, (N,) int64 part ids.

    This is what a system does when it hashes node ids (the default of many frameworks): perfect
    balance, no locality, so an edge is cut with probability :math:`1 - 1/P`.
    """
    _check(num_nodes, num_parts)
    perm = torch.randperm(num_nodes, generator=torch.Generator().manual_seed(int(seed)))
    parts = torch.empty(num_nodes, dtype=torch.long)
    parts[perm] = torch.arange(num_nodes) % num_parts
    return parts


METIS_WEIGHTS = ("nodes", "degree")


def metis_partition(edge_index: torch.Tensor, num_nodes: int, num_parts: int, seed: int = 0,
                    weights: str = "nodes") -> torch.Tensor:
    """METIS k-way partition (pymetis): balanced parts with few cut edges, (N,) int64 part ids.

    ``edge_index`` (2, E) must hold both directions of every undirected edge (PyG convention);
    self-loops are dropped before METIS sees the graph. ``weights`` is what the parts balance:
    ``"nodes"`` (METIS's default, every node weighs 1) or ``"degree"`` (a node weighs 1 + its
    degree, so the parts balance nodes and edges together: the work of a GCN layer is per edge, and
    on a graph with many isolated nodes equal node counts can hide very unequal edge counts).
    """
    _check(num_nodes, num_parts)
    if weights not in METIS_WEIGHTS:
        raise ValueError(f"weights must be one of {METIS_WEIGHTS}, got {weights!r}")
    if num_parts == 1:
        return torch.zeros(num_nodes, dtype=torch.long)
    import pymetis

    src, dst = edge_index
    keep = src != dst
    src, dst = src[keep], dst[keep]
    order = torch.argsort(src * num_nodes + dst)
    src, dst = src[order], dst[order]
    xadj = torch.zeros(num_nodes + 1, dtype=torch.long)
    xadj[1:] = torch.cumsum(torch.bincount(src, minlength=num_nodes), 0)
    # METIS's seed option gives the same partition for 0 and 1 (measured), so seed s asks for s + 1
    opts = pymetis.Options(seed=int(seed) + 1)
    vweights = None if weights == "nodes" else (1 + torch.bincount(src, minlength=num_nodes)).numpy()
    _, membership = pymetis.part_graph(num_parts, xadj=xadj.numpy(), adjncy=dst.numpy(), vweights=vweights,
                                       options=opts)
    parts = torch.as_tensor(np.asarray(membership), dtype=torch.long)
    if parts.unique().numel() < num_parts:  # METIS may leave a part empty on tiny graphs
        raise ValueError(f"METIS left a part empty splitting {num_nodes} nodes into {num_parts}; use fewer parts")
    return parts


PARTITIONERS = {"random": random_partition, "metis": metis_partition}


def partition(method: str, edge_index: torch.Tensor, num_nodes: int, num_parts: int, seed: int = 0,
              metis_weights: str = "nodes") -> torch.Tensor:
    """Dispatch to ``random_partition`` or ``metis_partition`` (balancing ``metis_weights``) by name."""
    if method == "random":
        return random_partition(num_nodes, num_parts, seed)
    if method == "metis":
        return metis_partition(edge_index, num_nodes, num_parts, seed, weights=metis_weights)
    raise ValueError(f"unknown partitioner {method!r}; expected one of {sorted(PARTITIONERS)}")


def edge_cut(edge_index: torch.Tensor, parts: torch.Tensor) -> int:
    """Number of undirected edges whose endpoints lie in different parts.

    ``edge_index`` holds both directions of each edge, so the directed count is halved.
    """
    src, dst = edge_index
    return int((parts[src] != parts[dst]).sum()) // 2


def halo_nodes(edge_index: torch.Tensor, parts: torch.Tensor, part: int) -> torch.Tensor:
    """Sorted global ids of the nodes owned by another part with at least one neighbour in ``part``."""
    src, dst = edge_index
    into = (parts[dst] == part) & (parts[src] != part)
    return torch.unique(src[into])


def empty_parts(mask: torch.Tensor, parts: torch.Tensor, num_parts: int) -> list[int]:
    """The parts that own no node of the boolean ``mask`` (N,), e.g. no training node."""
    if mask.shape != parts.shape:
        raise ValueError(f"mask and parts must both be (N,), got {tuple(mask.shape)} and {tuple(parts.shape)}")
    owned = torch.bincount(parts[mask.bool()], minlength=int(num_parts))
    return torch.nonzero(owned == 0).flatten().tolist()


def partition_quality(edge_index: torch.Tensor, parts: torch.Tensor, num_parts: int | None = None) -> dict:
    """Edge cut, cut share, halo size of every part and the balance of a partition.

    Returns a dict with ``edge_cut`` (undirected edges cut), ``cut_fraction`` (share of edges
    cut), ``part_sizes``, ``halo_sizes`` (per part), ``total_halo`` (sum of halo sizes: the rows
    received per layer by all workers together), ``balance`` (largest part / mean part, in nodes)
    and ``edge_balance`` (the same in edges into a part's nodes: a full-graph layer's work).
    """
    if parts.ndim != 1:
        raise ValueError(f"parts must be a (N,) tensor of part ids, got shape {tuple(parts.shape)}")
    num_parts = int(parts.max()) + 1 if num_parts is None else int(num_parts)
    sizes = torch.bincount(parts, minlength=num_parts)
    src, dst = edge_index
    cross = parts[src] != parts[dst]
    # one (part, remote node) pair per halo entry: unique over dst-part * N + src
    n = parts.numel()
    key = torch.unique(parts[dst[cross]] * n + src[cross])
    halos = torch.bincount(key // n, minlength=num_parts)
    num_edges = max(edge_index.shape[1] // 2, 1)
    into = torch.bincount(parts[dst], minlength=num_parts).float()
    return {
        "edge_cut": int(cross.sum()) // 2,
        "cut_fraction": float(cross.sum()) / 2 / num_edges,
        "part_sizes": sizes.tolist(),
        "halo_sizes": halos.tolist(),
        "total_halo": int(halos.sum()),
        "balance": float(sizes.max()) / float(sizes.float().mean()),
        "edge_balance": float(into.max()) / max(float(into.mean()), 1e-12),
    }
