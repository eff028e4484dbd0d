import pytest
import torch

from companion.distgnn.cache import FeatureCache, FeatureStore, degree_policy, halo_degree_policy, random_policy
from companion.distgnn.checks import fetch_rows
from companion.distgnn.comm import CommMeter
from companion.distgnn.launch import run_function
from companion.distgnn.partition import metis_partition


def _star():
    # node 0 is a hub linked to 1..6; 7-8 is a separate edge
    und = torch.tensor([[0, 0, 0, 0, 0, 0, 7], [1, 2, 3, 4, 5, 6, 8]])
    return torch.cat([und, und.flip(0)], dim=1)


def test_degree_policy_picks_remote_hubs():
    ei = _star()
    parts = torch.tensor([1, 0, 0, 0, 1, 1, 1, 1, 0])
    assert degree_policy(ei, parts, 0, 1).tolist() == [0]          # the hub, owned by worker 1
    assert degree_policy(ei, parts, 0, 3).tolist() == [0, 4, 5]    # then degree-1 nodes by id
    assert degree_policy(ei, parts, 1, 0).numel() == 0
    got = degree_policy(ei, parts, 1, 100)
    assert bool((parts[got] != 1).all()) and got.numel() == int((parts != 1).sum())
    # halo-degree ranks nodes by edges into my part first: 8 (neighbour of my 7) beats 1, 2, 3
    assert halo_degree_policy(ei, parts, 1, 1).tolist() in ([1], [2], [3], [8])
    assert random_policy(ei, parts, 0, 2).numel() == 2
    with pytest.raises(ValueError, match="capacity"):
        degree_policy(ei, parts, 0, -1)


def test_cache_counts_hits():
    cache = FeatureCache(torch.tensor([2, 5]), torch.tensor([[2.0], [5.0]]), num_nodes=8)
    hit, rows = cache.lookup(torch.tensor([5, 1, 2, 2]))
    assert hit.tolist() == [True, False, True, True] and rows.flatten().tolist() == [5.0, 2.0, 2.0]
    assert cache.hit_rate == pytest.approx(0.75) and cache.nbytes() == 8
    with pytest.raises(ValueError, match="ids but"):
        FeatureCache(torch.tensor([1]), torch.zeros(2, 1), 4)


def test_single_worker_store_returns_rows(small_sbm):
    parts = torch.zeros(small_sbm.num_nodes, dtype=torch.long)
    store = FeatureStore(small_sbm.x, torch.arange(small_sbm.num_nodes), parts, CommMeter())
    ids = torch.tensor([9, 3, 3, 100])
    assert torch.equal(store.fetch(ids), small_sbm.x[ids]) and store.remote_lookups == 0


def test_distributed_fetch_returns_true_rows_and_cache_cuts_fetches(small_sbm):
    parts = metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 2)
    ids = torch.randperm(small_sbm.num_nodes, generator=torch.Generator().manual_seed(0))[:200]
    cache_ids = ids[:50]
    plain = run_function(fetch_rows, 2, (small_sbm, parts, ids, None))
    cached = run_function(fetch_rows, 2, (small_sbm, parts, ids, cache_ids))
    f = small_sbm.x.shape[1]
    for rank, (a, b) in enumerate(zip(plain, cached)):
        assert torch.equal(a["rows"], small_sbm.x[ids]) and torch.equal(b["rows"], small_sbm.x[ids])
        remote = int((parts[ids] != rank).sum())
        assert a["fetched"] == a["remote"] == remote
        assert b["fetched"] == remote - int((parts[cache_ids] != rank).sum())
    # bytes: every worker sends the ids it asks for (8 bytes) and the rows it is asked for (4 F bytes)
    asked = [int((parts[ids] != r).sum()) for r in range(2)]
    for rank, a in enumerate(plain):
        assert a["bytes"]["fetch_ids"] == 8 * asked[rank]
        assert a["bytes"]["fetch_rows"] == 4 * f * asked[1 - rank]
    assert sum(sum(b["bytes"].values()) for b in cached) < sum(sum(a["bytes"].values()) for a in plain)
