import pytest
import torch

from companion.distgnn.sampler import NeighborSampler


def test_fanouts_are_respected_and_edges_exist(small_sbm):
    ei, n = small_sbm.edge_index, small_sbm.num_nodes
    s = NeighborSampler(ei, n, [3, 2])
    seeds = torch.arange(0, 600, 7)
    sub = s.sample(seeds, torch.Generator().manual_seed(0))
    assert torch.equal(sub.n_id[:sub.batch_size], seeds)
    assert sub.n_id.unique().numel() == sub.n_id.numel()
    g_src, g_dst = sub.n_id[sub.edge_index[0]], sub.n_id[sub.edge_index[1]]
    existing = set((ei[0] * n + ei[1]).tolist())
    assert all(k in existing for k in (g_src * n + g_dst).tolist())
    # hop 1: at most 3 distinct sampled in-neighbours per seed
    first = sub.edge_index[:, sub.edge_index[1] < sub.batch_size]
    per_seed = torch.bincount(first[1], minlength=sub.batch_size)
    assert int(per_seed.max()) <= 3
    deg = torch.bincount(ei[1], minlength=n)
    assert torch.equal(per_seed, deg[seeds].clamp(max=3))
    assert (first[0] * n + first[1]).unique().numel() == first.shape[1]  # without replacement


def test_large_fanout_takes_all_neighbours(small_sbm):
    ei, n = small_sbm.edge_index, small_sbm.num_nodes
    sub = NeighborSampler(ei, n, [10_000]).sample(torch.tensor([5]))
    want = set(ei[0][ei[1] == 5].tolist())
    assert set(sub.n_id[1:].tolist()) == want and sub.edge_index.shape[1] == len(want)


def test_sampling_is_uniform():
    # star: centre 0 with 10 leaves; fan-out 2 picks each leaf with probability 1/5
    leaves = torch.arange(1, 11)
    ei = torch.stack([leaves, torch.zeros(10, dtype=torch.long)])
    s = NeighborSampler(ei, 11, [2])
    g = torch.Generator().manual_seed(0)
    counts = torch.zeros(11)
    for _ in range(2000):
        counts[s.sample(torch.tensor([0]), g).n_id[1:]] += 1
    assert torch.allclose(counts[1:] / 2000, torch.full((10,), 0.2), atol=0.04)


def test_sampler_errors(small_sbm):
    with pytest.raises(ValueError, match="fanouts"):
        NeighborSampler(small_sbm.edge_index, small_sbm.num_nodes, [])
    with pytest.raises(ValueError, match="fanouts"):
        NeighborSampler(small_sbm.edge_index, small_sbm.num_nodes, [0])
    with pytest.raises(ValueError, match="seed ids"):
        NeighborSampler(small_sbm.edge_index, small_sbm.num_nodes, [2]).sample(torch.tensor([10_000]))
