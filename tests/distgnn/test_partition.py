import pytest
import torch

from companion.distgnn.partition import (edge_cut, halo_nodes, metis_partition, partition, partition_quality,
                                         random_partition)


def _path(n=4):
    src = torch.arange(n - 1)
    und = torch.stack([src, src + 1])
    return torch.cat([und, und.flip(0)], dim=1)


@pytest.mark.parametrize("method", ["random", "metis"])
@pytest.mark.parametrize("p", [1, 2, 3, 4])
def test_partitions_cover_every_node_exactly_once(small_sbm, method, p):
    parts = partition(method, small_sbm.edge_index, small_sbm.num_nodes, p)
    assert parts.shape == (small_sbm.num_nodes,) and parts.dtype == torch.long
    assert parts.min() >= 0 and parts.max() < p
    # one id per node is "exactly once"; every worker gets something
    sizes = torch.bincount(parts, minlength=p)
    assert int(sizes.sum()) == small_sbm.num_nodes and bool((sizes > 0).all())


def test_random_partition_is_balanced_and_seeded():
    a, b = random_partition(10, 3, seed=4), random_partition(10, 3, seed=4)
    assert torch.equal(a, b)
    assert sorted(torch.bincount(a).tolist()) == [3, 3, 4]
    assert not torch.equal(a, random_partition(10, 3, seed=5))


def test_edge_cut_and_halo_by_hand():
    ei = _path(4)  # 0-1-2-3
    parts = torch.tensor([0, 0, 1, 1])
    assert edge_cut(ei, parts) == 1
    q = partition_quality(ei, parts, 2)
    assert q["edge_cut"] == 1 and q["halo_sizes"] == [1, 1] and q["total_halo"] == 2
    assert q["cut_fraction"] == pytest.approx(1 / 3) and q["balance"] == 1.0
    assert halo_nodes(ei, parts, 0).tolist() == [2] and halo_nodes(ei, parts, 1).tolist() == [1]
    alt = torch.tensor([0, 1, 0, 1])  # every edge cut; node 1 is in the halo of part 0 once
    q = partition_quality(ei, alt, 2)
    assert q["edge_cut"] == 3 and q["halo_sizes"] == [2, 2]


def test_halo_sizes_match_halo_nodes(small_sbm):
    parts = random_partition(small_sbm.num_nodes, 3)
    q = partition_quality(small_sbm.edge_index, parts, 3)
    assert q["halo_sizes"] == [halo_nodes(small_sbm.edge_index, parts, p).numel() for p in range(3)]


def test_metis_cuts_fewer_edges_than_random(small_sbm):
    m = metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 4)
    r = random_partition(small_sbm.num_nodes, 4)
    qm, qr = (partition_quality(small_sbm.edge_index, x, 4) for x in (m, r))
    assert qm["edge_cut"] < 0.6 * qr["edge_cut"]
    assert qm["total_halo"] < qr["total_halo"]
    assert qm["balance"] < 1.1


def test_clear_errors():
    with pytest.raises(ValueError, match="more workers than nodes"):
        random_partition(3, 4)
    with pytest.raises(ValueError, match="more workers than nodes"):
        metis_partition(_path(3), 3, 5)
    with pytest.raises(ValueError, match="num_parts must be an int >= 1"):
        random_partition(3, 0)
    with pytest.raises(ValueError, match="unknown partitioner"):
        partition("hash", _path(3), 3, 2)


def test_edge_balance_by_hand_and_degree_weights_balance_edges():
    # a star of 5 nodes (centre 0) plus 5 isolated nodes: equal node counts can hide all edges in one part
    src = torch.tensor([0, 0, 0, 0, 1, 2, 3, 4])
    dst = torch.tensor([1, 2, 3, 4, 0, 0, 0, 0])
    ei = torch.stack([src, dst])
    parts = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    q = partition_quality(ei, parts, 2)
    assert q["balance"] == 1.0 and q["edge_balance"] == pytest.approx(8 / 4)


def test_metis_degree_weights_balance_edges_on_a_skewed_graph():
    from companion import data

    g = data.load("powerlaw_graph", num_nodes=4000, train_per_class=10, num_val=100, num_test=200, seed=0)
    nodes = metis_partition(g.edge_index, g.num_nodes, 4)
    assert torch.equal(nodes, metis_partition(g.edge_index, g.num_nodes, 4, weights="nodes"))
    degree = metis_partition(g.edge_index, g.num_nodes, 4, weights="degree")
    qn, qd = partition_quality(g.edge_index, nodes, 4), partition_quality(g.edge_index, degree, 4)
    assert qd["edge_balance"] < qn["edge_balance"] and qn["balance"] < qd["balance"]
    with pytest.raises(ValueError, match="weights must be one of"):
        metis_partition(g.edge_index, g.num_nodes, 4, weights="edges")


def test_metis_seeds_give_different_partitions(small_sbm):
    # METIS's own seed option maps 0 and 1 to one partition; the book's seeds 0, 1, 2 must differ
    parts = [metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 4, seed=s) for s in range(3)]
    assert not torch.equal(parts[0], parts[1]) and not torch.equal(parts[1], parts[2])
    assert torch.equal(parts[0], metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 4, seed=0))
