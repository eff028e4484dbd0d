"""Chapter 2's checks accept the references and reject the mistakes a student makes."""

import pytest
import torch

from companion import exercises
from companion.distgnn import exercises as ex


@pytest.mark.parametrize("key,fn", [("ch02.edge_cut_halo", ex.edge_cut_and_halo), ("ch02.cache_policy", ex.cache_policy),
                                    ("ch02.halo_bytes", ex.halo_bytes_per_layer)])
def test_reference_solutions_pass(key, fn):
    assert exercises.check(key, fn, verbose=False)


def test_a_wrong_answer_fails():
    assert not exercises.check("ch02.halo_bytes", lambda ei, parts, p, dim: 0, verbose=False)


# ---- ch02.edge_cut_halo: (undirected edges cut, halo size of every part)


def _halos(edge_index, parts, num_parts):
    return ex.edge_cut_and_halo(edge_index, parts, num_parts)[1]


def directed_cut(edge_index, parts, num_parts):  # counts each undirected edge twice
    src, dst = edge_index
    return int((parts[src] != parts[dst]).sum()), _halos(edge_index, parts, num_parts)


def halo_counts_edges(edge_index, parts, num_parts):  # a remote node with two edges into a part counts twice
    src, dst = edge_index
    cross = parts[src] != parts[dst]
    halos = torch.bincount(parts[dst[cross]], minlength=num_parts).tolist()
    return ex.edge_cut_and_halo(edge_index, parts, num_parts)[0], halos


def halo_of_own_boundary_nodes(edge_index, parts, num_parts):  # the part's nodes with a remote neighbour
    src, dst = edge_index
    cross = parts[src] != parts[dst]
    halos = torch.bincount(parts[torch.unique(dst[cross])], minlength=num_parts).tolist()
    return ex.edge_cut_and_halo(edge_index, parts, num_parts)[0], halos


def halo_unique_per_node_not_per_part(edge_index, parts, num_parts):  # a node in two halos counted once
    src, dst = edge_index
    cross = parts[src] != parts[dst]
    nodes, first = torch.unique(src[cross], return_inverse=True)
    owner = torch.full((len(nodes),), num_parts, dtype=torch.long)
    owner.scatter_reduce_(0, first, parts[dst[cross]], reduce="amin")  # the first part it is sent to
    return ex.edge_cut_and_halo(edge_index, parts, num_parts)[0], torch.bincount(owner, minlength=num_parts).tolist()


# ---- ch02.cache_policy: the capacity remote nodes of highest degree, ties to the smaller id


def _degree_and_remote(edge_index, parts, rank):
    return torch.bincount(edge_index[1], minlength=parts.numel()), torch.nonzero(parts != rank).flatten()


def ties_to_the_larger_id(edge_index, parts, rank, capacity):
    deg, cand = _degree_and_remote(edge_index, parts, rank)
    order = torch.argsort(-deg[cand].flip(0), stable=True)  # reversed ids: a tie keeps the larger
    return torch.sort(cand.flip(0)[order[:capacity]]).values


def includes_own_nodes(edge_index, parts, rank, capacity):  # forgets that a worker never caches its own
    deg = torch.bincount(edge_index[1], minlength=parts.numel())
    order = torch.argsort(-deg, stable=True)
    return torch.sort(order[:capacity]).values


def lowest_degree(edge_index, parts, rank, capacity):  # argsort(deg) instead of argsort(-deg)
    deg, cand = _degree_and_remote(edge_index, parts, rank)
    return torch.sort(cand[torch.argsort(deg[cand], stable=True)[:capacity]]).values


def in_degree_order(edge_index, parts, rank, capacity):  # not sorted by id
    deg, cand = _degree_and_remote(edge_index, parts, rank)
    return cand[torch.argsort(-deg[cand], stable=True)[:capacity]]


# ---- ch02.halo_bytes: every halo row sent once, 4 * dim bytes


def _quality(edge_index, parts, num_parts):
    from companion.distgnn.partition import partition_quality
    return partition_quality(edge_index, parts, num_parts)


def one_row_per_cut_edge(edge_index, parts, num_parts, dim):  # sends a row per directed cut edge
    src, dst = edge_index
    return int((parts[src] != parts[dst]).sum()) * dim * 4


def forgets_bytes_per_float(edge_index, parts, num_parts, dim):
    return _quality(edge_index, parts, num_parts)["total_halo"] * dim


def undirected_cut_rows(edge_index, parts, num_parts, dim):  # one row per undirected cut edge
    return _quality(edge_index, parts, num_parts)["edge_cut"] * dim * 4


def one_row_per_remote_node(edge_index, parts, num_parts, dim):  # a node needed by two parts sent once
    src, dst = edge_index
    cross = parts[src] != parts[dst]
    return len(torch.unique(src[cross])) * dim * 4


MUTANTS = {
    "ch02.edge_cut_halo": [directed_cut, halo_counts_edges, halo_of_own_boundary_nodes,
                           halo_unique_per_node_not_per_part],
    "ch02.cache_policy": [ties_to_the_larger_id, includes_own_nodes, lowest_degree, in_degree_order],
    "ch02.halo_bytes": [one_row_per_cut_edge, forgets_bytes_per_float, undirected_cut_rows, one_row_per_remote_node],
}


def test_check_rejects_a_plausible_wrong_answer(mutant, check_rejects):
    check_rejects(*mutant)
