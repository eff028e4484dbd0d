import pytest
import torch

from companion import data
from companion.utils import torch_threads
from companion.diffpool import (DiffPoolNet, FlatGNN, GNNBlock, cluster_sizes, readout, to_dense)


@pytest.fixture(scope="module")
def dense():
    return to_dense(data.load("hier_graphs", num_graphs=8, seed=1))


@pytest.fixture(autouse=True)
def one_thread():
    # small dense batches: one thread avoids OpenMP spin-waiting on a busy machine
    with torch_threads(1):
        yield


def permute(x, adj, mask, perm):
    return x[:, perm], adj[:, perm][:, :, perm], mask[:, perm]


def test_cluster_sizes_round_up_per_level():
    assert cluster_sizes(150, 0.25, 2) == [38, 10]  # PyG's proteins example
    assert cluster_sizes(39, 0.1, 1) == [4]
    assert cluster_sizes(3, 0.1, 3) == [1, 1, 1]


@pytest.mark.parametrize("kw, match", [({"max_nodes": 0}, "max_nodes"), ({"cluster_ratio": 0.0}, "cluster_ratio"),
                                       ({"cluster_ratio": 1.5}, "cluster_ratio"), ({"levels": 0}, "levels")])
def test_cluster_sizes_errors(kw, match):
    args = {"max_nodes": 10, "cluster_ratio": 0.25, "levels": 1, **kw}
    with pytest.raises(ValueError, match=match):
        cluster_sizes(**args)


@pytest.mark.parametrize("levels", [1, 2])
def test_diffpool_shapes_and_assignment_rows(dense, levels):
    torch.manual_seed(0)
    model = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes, hidden=8, levels=levels).eval()
    logits, aux = model(dense.x, dense.adj, dense.mask)
    assert logits.shape == (len(dense), 4)
    assert len(aux["assignments"]) == levels
    s0 = aux["assignments"][0]
    assert s0.shape == (len(dense), dense.max_nodes, model.clusters[0])
    rows = s0.sum(-1)
    torch.testing.assert_close(rows[dense.mask], torch.ones(int(dense.mask.sum())))
    assert rows[~dense.mask].abs().max() == 0  # padding nodes belong to no cluster
    assert aux["link_loss"] > 0 and aux["entropy_loss"] > 0


@pytest.mark.parametrize("kind", ["diffpool", "flat"])
def test_graph_output_is_permutation_invariant(dense, kind):
    torch.manual_seed(0)
    f = dense.x.shape[-1]
    model = (DiffPoolNet(f, 4, dense.max_nodes, hidden=8) if kind == "diffpool" else FlatGNN(f, 4, hidden=8)).eval()
    perm = torch.randperm(dense.max_nodes, generator=torch.Generator().manual_seed(3))
    out = model(dense.x, dense.adj, dense.mask)[0]
    out_p = model(*permute(dense.x, dense.adj, dense.mask, perm))[0]
    torch.testing.assert_close(out_p, out, rtol=1e-4, atol=1e-5)


def test_assignment_is_permutation_equivariant(dense):
    torch.manual_seed(0)
    model = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes, hidden=8).eval()
    perm = torch.randperm(dense.max_nodes, generator=torch.Generator().manual_seed(4))
    s = model(dense.x, dense.adj, dense.mask)[1]["assignments"][0]
    s_p = model(*permute(dense.x, dense.adj, dense.mask, perm))[1]["assignments"][0]
    torch.testing.assert_close(s_p, s[:, perm], rtol=1e-4, atol=1e-5)


def test_padding_does_not_change_predictions(dense):
    torch.manual_seed(0)
    model = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes + 5, hidden=8).eval()
    graphs = data.load("hier_graphs", num_graphs=8, seed=1)
    wide = to_dense(graphs, max_nodes=dense.max_nodes + 5)
    torch.testing.assert_close(model(wide.x, wide.adj, wide.mask)[0], model(dense.x, dense.adj, dense.mask)[0],
                               rtol=1e-4, atol=1e-5)


def test_ours_and_pyg_pooling_give_identical_models(dense):
    torch.manual_seed(0)
    ours = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes, hidden=8, pool="ours").eval()
    pyg = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes, hidden=8, pool="pyg").eval()
    pyg.load_state_dict(ours.state_dict())
    a, aux_a = ours(dense.x, dense.adj, dense.mask)
    b, aux_b = pyg(dense.x, dense.adj, dense.mask)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(aux_a["link_loss"], aux_b["link_loss"])
    torch.testing.assert_close(aux_a["entropy_loss"], aux_b["entropy_loss"])


def test_readout_ignores_padding():
    x = torch.tensor([[[1.0], [3.0], [100.0]]])
    mask = torch.tensor([[True, True, False]])
    assert readout(x, mask, "mean").item() == 2.0
    assert readout(x, mask, "sum").item() == 4.0
    assert readout(x, mask, "max").item() == 3.0
    with pytest.raises(ValueError, match="readout must be one of"):
        readout(x, mask, "median")


def test_gnn_block_output_width_and_zero_padding(dense):
    block = GNNBlock(dense.x.shape[-1], 8, 5, num_layers=3).eval()
    h = block(dense.x, dense.adj, dense.mask)
    assert h.shape == (len(dense), dense.max_nodes, 8 + 8 + 5) and block.out_channels == 21
    assert h[~dense.mask].abs().max() == 0


def test_model_errors(dense):
    with pytest.raises(ValueError, match="pool must be one of"):
        DiffPoolNet(6, 4, 10, pool="nope")
    with pytest.raises(ValueError, match="num_classes"):
        FlatGNN(6, 1)
    with pytest.raises(ValueError, match="aggr must be one of"):
        GNNBlock(6, 8, 8, aggr="max")
    model = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes - 1)
    with pytest.raises(ValueError, match="max_nodes"):
        model(dense.x, dense.adj, dense.mask)
