"""Partition-local workers, the cached input halo, PipeGCN's stale gradients, the device path."""

import pytest
import torch

from companion.distgnn.checks import stale_grad_rounds
from companion.distgnn.launch import check_backend, run_function, run_workers
from companion.distgnn.local import load_partition, make_partition, write_partitions
from companion.distgnn.partition import metis_partition
from companion.distgnn.sampler import NeighborSampler
from companion.distgnn.train import DistConfig, summarise, train_full_graph_local, train_minibatch_local


def test_a_partition_folder_holds_only_its_share(small_sbm, tmp_path):
    g, n = small_sbm, small_sbm.num_nodes
    parts = metis_partition(g.edge_index, n, 3)
    write_partitions(g, parts, tmp_path, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part0", "part1", "part2"]
    for r in range(3):
        owned = torch.nonzero(parts == r).flatten()
        full = load_partition(tmp_path, r, 3, "full")
        assert torch.equal(full.owned, owned) and full.x.shape == (owned.numel(), g.x.shape[1])
        assert full.sample_edges is None and full.parts is None  # full-graph workers load no sampling data
        # its local graph: edges into its own nodes only, local ids of owned and halo rows
        ei = full.plan.edge_index
        assert int(ei[1].max()) < owned.numel() and int(ei.max()) < owned.numel() + full.plan.halo.numel()
        assert ei.shape[1] == full.plan.edge_weight.numel() < g.edge_index.shape[1]
        assert torch.equal(full.x, g.x[owned]) and torch.equal(full.y, g.y[owned])
        mb = load_partition(tmp_path, r, 3, "minibatch")
        assert mb.plan is None and mb.sample_edges.shape[1] < g.edge_index.shape[1]
        # only the partition book and the degrees are N long
        assert {k for k, t in mb.tensors().items() if t.shape[0] == n} == {"parts", "in_degree"}
        assert mb.nbytes() < 0.6 * (g.x.numel() * 4 + g.edge_index.numel() * 8)
    with pytest.raises(ValueError, match="holds part 1 of 3, but this worker is rank 1 of 2"):
        load_partition(tmp_path, 1, 2, "full")
    with pytest.raises(FileNotFoundError, match="part5"):
        load_partition(tmp_path, 5, 6, "full")


def test_sampling_a_partition_draws_what_sampling_the_whole_graph_draws(small_sbm):
    g = small_sbm
    parts = metis_partition(g.edge_index, g.num_nodes, 2)
    part = make_partition(g, parts, 1, 2, "minibatch", hops=1)
    seeds = part.owned[part.train_mask]
    a = NeighborSampler(g.edge_index, g.num_nodes, [4, 3]).sample(seeds, torch.Generator().manual_seed(5))
    b = NeighborSampler(part.sample_edges, g.num_nodes, [4, 3]).sample(seeds, torch.Generator().manual_seed(5))
    assert torch.equal(a.n_id, b.n_id) and torch.equal(a.edge_index, b.edge_index)


def test_workers_load_only_their_partition_and_report_memory(small_sbm):
    parts = metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 2)
    res = run_workers(2, small_sbm, parts, DistConfig(mode="minibatch", epochs=1, batch_size=32))
    for r in res:
        shapes = r["loaded_tensors"]
        assert shapes["x"] == (r["owned"], small_sbm.x.shape[1])  # the worker's process loaded its rows only
        assert shapes["sample_edges"][1] < small_sbm.edge_index.shape[1]
        assert r["rss_loaded_mb"] >= r["rss_base_mb"] > 50 and r["peak_rss_mb"] >= r["rss_loaded_mb"] - 1
    row = summarise(res)
    assert row["rss_graph_mb"] >= 0 and row["rss_train_mb"] >= row["rss_graph_mb"]
    assert 0 < row["max_partition_mb"] < row["max_data_mb_per_worker"]


def test_the_fresh_baseline_sends_the_input_halo_once(small_sbm):
    parts = metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 2)
    cfg = DistConfig(mode="full", epochs=3, hidden=8)
    res = run_workers(2, small_sbm, parts, cfg)
    feats = small_sbm.x.shape[1]
    for r in res:
        rows = r["rows_sent_per_layer"]
        assert r["setup_bytes"] == rows * feats * 4  # the 140-wide input halo: once, before training
        for e in r["epoch_bytes"]:  # every epoch: the hidden layer's halo only, forward and backward
            assert e["halo_fwd"] == rows * cfg.hidden * 4 and e["halo_bwd"] == rows * cfg.hidden * 4
        assert r["bytes_by_kind"]["halo_fwd"] == cfg.epochs * rows * cfg.hidden * 4
    assert summarise(res)["setup_bytes"] == sum(r["setup_bytes"] for r in res)


def test_stale_modes_send_what_they_should(small_sbm):
    parts = metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 2)
    base = dict(mode="full", epochs=3, hidden=8, stale=True)
    pipe = summarise(run_workers(2, small_sbm, parts, DistConfig(**base)))
    nograd = summarise(run_workers(2, small_sbm, parts, DistConfig(**base, stale_grads=False)))
    fresh = summarise(run_workers(2, small_sbm, parts, DistConfig(**{**base, "stale": False})))
    k = pipe["bytes_by_kind"]
    assert k["stale_fwd"] == k["stale_bwd"] == fresh["bytes_by_kind"]["halo_fwd"]
    assert pipe["bytes_per_epoch"] == fresh["bytes_per_epoch"]  # PipeGCN hides the exchange, sends as much
    assert "stale_bwd" not in nograd["bytes_by_kind"] and nograd["bytes_per_epoch"] < pipe["bytes_per_epoch"]
    assert pipe["setup_bytes"] == nograd["setup_bytes"] == fresh["setup_bytes"] > 0


def test_stale_gradients_are_the_previous_iterations(small_sbm):
    g, p = small_sbm, 3
    parts = metis_partition(g.edge_index, g.num_nodes, p)
    out = run_function(stale_grad_rounds, p, (g, parts, 3))
    src, dst = g.edge_index
    for res in out:
        for t, got in enumerate(res["received"]):
            want = torch.zeros_like(got)
            for i, v in enumerate(res["owned"].tolist()):
                # the other parts that hold v in their halo each send back the gradient of iteration t - 1
                k = len(set(parts[dst[src == v]].tolist()) - {int(parts[v])})
                if t > 0:
                    want[i] = k * (v * t + torch.arange(got.shape[1]).float())
            assert torch.allclose(got, want), f"iteration {t}"


def test_the_device_path_keeps_every_tensor_on_the_device(small_sbm):
    fake = pytest.importorskip("tests.core.fake_cuda")
    parts = torch.zeros(small_sbm.num_nodes, dtype=torch.long)
    for mode, fn in (("full", train_full_graph_local), ("minibatch", train_minibatch_local)):
        part = make_partition(small_sbm, parts, 0, 1, mode)
        with fake.fake_cuda() as mixups:
            out = fn(part, DistConfig(mode=mode, epochs=1, batch_size=64), "cuda")
        assert mixups == [], (mode, mixups[:3])
        assert 0 <= out["test_acc"] <= 1


def test_nccl_without_cuda_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="--backend nccl needs CUDA"):
        check_backend("nccl")
    with pytest.raises(ValueError, match="backend must be one of"):
        check_backend("mpi")
    check_backend("gloo")


@pytest.mark.gpu
def test_nccl_workers_on_gpus_match_gloo(small_sbm):
    p = min(2, torch.cuda.device_count())
    parts = metis_partition(small_sbm.edge_index, small_sbm.num_nodes, p) if p > 1 else \
        torch.zeros(small_sbm.num_nodes, dtype=torch.long)
    for mode in ("full", "minibatch"):
        cfg = DistConfig(mode=mode, epochs=3, batch_size=64, dropout=0.0)
        gpu = summarise(run_workers(p, small_sbm, parts, cfg, backend="nccl"))
        cpu = summarise(run_workers(p, small_sbm, parts, cfg))
        assert gpu["bytes_per_epoch"] == cpu["bytes_per_epoch"]  # the same exchanges, on another wire
        assert gpu["test_acc"] == pytest.approx(cpu["test_acc"], abs=0.05)


def test_structure_bytes_and_edge_share(small_sbm):
    parts = metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 2)
    edges = int((small_sbm.edge_index[0] != small_sbm.edge_index[1]).sum())
    full = [make_partition(small_sbm, parts, r, 2, "full") for r in range(2)]
    # full-graph: each worker holds the in-edges of its own nodes, so the shares add up to one
    assert sum(p.edge_share() for p in full) == pytest.approx(1.0)
    mini = make_partition(small_sbm, parts, 0, 2, "minibatch")
    want = sum(t.numel() * t.element_size() for t in (mini.sample_edges, mini.parts, mini.in_degree))
    assert mini.nbytes(structure_only=True) == want < mini.nbytes()
    # a 2-hop sampler reaches beyond its partition's in-edges
    assert mini.edge_share() == mini.sample_edges.shape[1] / edges > full[0].edge_share()
    one = make_partition(small_sbm, torch.zeros_like(parts), 0, 1, "full")
    assert one.edge_share() == pytest.approx(1.0)
