import pytest
import torch

from companion.distgnn.launch import run_workers
from companion.distgnn.partition import metis_partition
from companion.distgnn.train import DistConfig, summarise, train_full_graph, train_minibatch


def test_single_process_full_graph_learns(small_sbm):
    parts = torch.zeros(small_sbm.num_nodes, dtype=torch.long)
    r = train_full_graph(0, 1, small_sbm, parts, DistConfig(epochs=40, hidden=16))
    assert r["losses"][-1] < 0.5 * r["losses"][0]
    assert r["test_acc"] > 0.7
    row = summarise([r])
    assert row["bytes_per_epoch"] == 0 and row["workers"] == 1


def test_single_process_minibatch_learns(small_sbm):
    parts = torch.zeros(small_sbm.num_nodes, dtype=torch.long)
    r = train_minibatch(0, 1, small_sbm, parts, DistConfig(mode="minibatch", epochs=8, hidden=16, batch_size=16))
    assert r["test_acc"] > 0.6 and r["remote_lookups"] == 0


def test_two_workers_reach_single_process_accuracy_and_count_bytes(small_sbm):
    parts = metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 2)
    cfg = DistConfig(epochs=40, hidden=16)
    one = summarise(run_workers(1, small_sbm, torch.zeros_like(parts), cfg))
    two_res = run_workers(2, small_sbm, parts, cfg)
    two = summarise(two_res)
    assert abs(two["test_acc"] - one["test_acc"]) < 0.05
    # every epoch moves the same bytes: the hidden layer's halo rows (forward and backward) + gradients;
    # the input halo is constant and crosses once, before training
    halo = sum(r["halo"] for r in two_res)
    f, h, c = small_sbm.x.shape[1], 16, 7
    params = f * h + h + h * c + c
    want = 4 * (halo * h + halo * h + 2 * params)
    assert two["bytes_per_epoch"] == want
    assert two["setup_bytes"] == 4 * halo * f
    assert all(e == two_res[0]["epoch_bytes"][0] for e in two_res[0]["epoch_bytes"])


def test_stale_halo_bytes(small_sbm):
    # PipeGCN's stale halo hides the exchange but sends as much; dropping the halo gradients
    # (no PipeGCN) saves their half of the halo traffic
    parts = metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 2)
    exact = summarise(run_workers(2, small_sbm, parts, DistConfig(epochs=6, hidden=16)))
    stale = summarise(run_workers(2, small_sbm, parts, DistConfig(epochs=6, hidden=16, stale=True)))
    nograd = summarise(run_workers(2, small_sbm, parts, DistConfig(epochs=6, hidden=16, stale=True,
                                                                   stale_grads=False)))
    assert stale["bytes_per_epoch"] == exact["bytes_per_epoch"]
    assert set(stale["bytes_by_kind"]) == {"stale_fwd", "stale_bwd", "grad"}
    assert nograd["bytes_per_epoch"] < exact["bytes_per_epoch"]
    assert set(nograd["bytes_by_kind"]) == {"stale_fwd", "grad"}


def test_config_and_launcher_errors(small_sbm):
    with pytest.raises(ValueError, match="mode"):
        DistConfig(mode="pipeline")
    with pytest.raises(ValueError, match="cache_policy"):
        DistConfig(cache_policy="lru")
    with pytest.raises(ValueError, match="more workers"):
        run_workers(5, small_sbm, torch.zeros(3, dtype=torch.long), DistConfig())
    with pytest.raises(ValueError, match="world_size"):
        run_workers(0, small_sbm, torch.zeros(3, dtype=torch.long), DistConfig())
    with pytest.raises(ValueError, match="more workers"):
        train_full_graph(0, 1000, small_sbm, torch.zeros(small_sbm.num_nodes, dtype=torch.long), DistConfig())


def test_minibatch_two_workers_meter_ddp_and_fetches(small_sbm):
    parts = metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 2)
    cfg = DistConfig(mode="minibatch", epochs=2, hidden=16, batch_size=16, cache_fraction=0.2)
    res = run_workers(2, small_sbm, parts, cfg)
    f, h, c = small_sbm.x.shape[1], 16, 7
    params = (f * h + h + f * h) + (h * c + c + h * c)  # SAGEConv: lin_l (with bias) + lin_r
    for r in res:
        # DDP hook: one all-reduce of every gradient per step, counted at its payload size
        assert all(e["grad"] == r["steps_per_epoch"] * params * 4 for e in r["epoch_bytes"])
        # fetches: 4 F bytes per row sent to the other worker; the partner's misses are our replies
        assert r["cache_hits"] > 0 and r["fetched_rows"] + r["cache_hits"] == r["remote_lookups"]
    rows_sent = sum(sum(e.get("fetch_rows", 0) for e in r["epoch_bytes"]) for r in res)
    assert rows_sent == 4 * f * sum(r["fetched_rows"] for r in res)
    assert abs(res[0]["test_acc"] - res[1]["test_acc"]) < 1e-9  # one global evaluation


def test_the_zero_halo_control_sends_only_gradients_in_training(small_sbm):
    # the control a halo claim needs: same partition and training, halo rows set to zero
    parts = metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 2)
    cfg = DistConfig(epochs=6, hidden=16)
    exact = run_workers(2, small_sbm, parts, cfg)
    none = run_workers(2, small_sbm, parts, DistConfig(epochs=6, hidden=16, zero_halo=True))
    row = summarise(none)
    fresh = summarise(exact)
    # per epoch only the gradients; the input halo once, as in fresh training; exact halos at evaluation
    assert set(row["bytes_by_kind"]) == {"grad"} and row["zero_halo"]
    assert row["bytes_by_kind"]["grad"] == fresh["bytes_by_kind"]["grad"]
    assert row["setup_bytes"] == fresh["setup_bytes"] > 0
    assert none[0]["bytes_by_kind"]["eval_halo_fwd"] == exact[0]["bytes_by_kind"]["eval_halo_fwd"] > 0
    # the first epoch's loss (same weights, same dropout masks) differs: the hidden halo carried signal
    assert none[0]["losses"][0] != pytest.approx(exact[0]["losses"][0], abs=1e-6)
    # one worker has no halo: the control is then the ordinary run, bit for bit
    one = torch.zeros_like(parts)
    a = train_full_graph(0, 1, small_sbm, one, cfg)
    b = train_full_graph(0, 1, small_sbm, one, DistConfig(epochs=6, hidden=16, zero_halo=True))
    assert a["losses"] == b["losses"] and a["test_acc"] == b["test_acc"]
    with pytest.raises(ValueError, match="zero_halo"):
        DistConfig(mode="minibatch", zero_halo=True)
    with pytest.raises(ValueError, match="zero_halo"):
        DistConfig(stale=True, zero_halo=True)
