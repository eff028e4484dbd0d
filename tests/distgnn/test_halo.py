import pytest
import torch
from torch_geometric.nn import GCNConv

from companion.distgnn.checks import gcn_forward_backward
from companion.distgnn.halo import build_halo_plan
from companion.distgnn.launch import run_function
from companion.distgnn.models import GCN
from companion.distgnn.partition import metis_partition, partition_quality, random_partition


def test_plans_are_consistent_across_workers(small_sbm):
    p = 3
    parts = random_partition(small_sbm.num_nodes, p, seed=2)
    plans = [build_halo_plan(small_sbm.edge_index, parts, r, p) for r in range(p)]
    assert sorted(torch.cat([pl.owned for pl in plans]).tolist()) == list(range(small_sbm.num_nodes))
    for r, pl in enumerate(plans):
        assert bool((parts[pl.halo] != r).all())
        offsets = torch.cumsum(pl.recv_counts, 0) - pl.recv_counts
        for q in range(p):
            # what q sends to r is, row for row, the part of r's halo that q owns
            sent = plans[q].owned[plans[q].send_index[r]]
            got = pl.halo[offsets[q]:offsets[q] + pl.recv_counts[q]]
            assert torch.equal(sent, got)
        # one self-loop per owned node, and every edge targets an owned node
        assert int((pl.edge_index[1] < pl.num_owned).sum()) == pl.edge_index.shape[1]
        assert pl.edge_index.shape[1] == int((parts[small_sbm.edge_index[1]] == r).sum()) + pl.num_owned


def test_one_worker_gcn_equals_pyg_gcnconv(small_sbm):
    torch.manual_seed(0)
    model = GCN(small_sbm.x.shape[1], 8, 7, dropout=0.0).eval()
    plan = build_halo_plan(small_sbm.edge_index, torch.zeros(small_sbm.num_nodes, dtype=torch.long), 0, 1)
    ours = model(small_sbm.x, plan.edge_index, plan.edge_weight)
    convs = [GCNConv(c.in_channels, c.out_channels) for c in model.convs]
    for ref, c in zip(convs, model.convs):
        ref.load_state_dict(c.state_dict())
    h = torch.relu(convs[0](small_sbm.x, small_sbm.edge_index))
    ref = convs[1](h, small_sbm.edge_index)
    assert torch.allclose(ours, ref, atol=1e-5)


def test_distributed_forward_and_gradients_equal_single_process(small_sbm):
    torch.manual_seed(0)
    model = GCN(small_sbm.x.shape[1], 8, 7, dropout=0.0)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    parts = metis_partition(small_sbm.edge_index, small_sbm.num_nodes, 2)
    single = gcn_forward_backward(0, 1, small_sbm, torch.zeros_like(parts), state)
    res = run_function(gcn_forward_backward, 2, (small_sbm, parts, state))
    out = torch.empty_like(single["out"])
    for r in res:
        out[r["owned"]] = r["out"]
        for k, g in r["grads"].items():
            assert torch.allclose(g, single["grads"][k], atol=1e-5), k
    assert torch.allclose(out, single["out"], atol=1e-5)
    # the meter: forward halo bytes = halo rows x width x 4, for each of the two layers
    q = partition_quality(small_sbm.edge_index, parts, 2)
    fwd = sum(r["bytes"]["halo_fwd"] for r in res)
    assert fwd == q["total_halo"] * 4 * (small_sbm.x.shape[1] + 8)
    # backward: only the hidden layer's halo has a gradient (the input features do not)
    assert sum(r["bytes"]["halo_bwd"] for r in res) == q["total_halo"] * 4 * 8


def test_plan_errors(small_sbm):
    parts = torch.zeros(small_sbm.num_nodes, dtype=torch.long)
    with pytest.raises(ValueError, match="rank"):
        build_halo_plan(small_sbm.edge_index, parts, 2, 2)
    with pytest.raises(ValueError, match="more workers"):
        build_halo_plan(small_sbm.edge_index[:, :2], torch.zeros(2, dtype=torch.long), 0, 3)
    with pytest.raises(ValueError, match="parts must hold ids"):
        build_halo_plan(small_sbm.edge_index, parts + 3, 0, 2)
