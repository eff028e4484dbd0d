import pytest
import torch

from companion import data
from companion.utils import torch_threads
from companion.diffpool import (DiffPoolNet, FlatGNN, GNNBlock, cluster_sizes, hard_assignment, readout,
                                to_dense)


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


@pytest.mark.parametrize("coarse_adj", ["raw", "no-diag", "degree-norm"])
def test_ours_and_pyg_pooling_give_identical_models(dense, coarse_adj):
    torch.manual_seed(0)
    ours = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes, hidden=8, pool="ours", coarse_adj=coarse_adj).eval()
    pyg = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes, hidden=8, pool="pyg", coarse_adj=coarse_adj).eval()
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


def oracle(dense, **kw):
    torch.manual_seed(0)
    k = int(dense.community.max()) + 1
    return DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes, hidden=8, oracle_clusters=k, **kw).eval()


def test_oracle_assignment_is_the_planted_communities(dense):
    graphs = data.load("hier_graphs", num_graphs=8, seed=1)
    model = oracle(dense)
    assert len(model.pool) == 0 and len(model.assign) == 0  # no pooling GNN at the oracle's level
    logits, aux = model(dense.x, dense.adj, dense.mask, community=dense.community)
    s = aux["assignments"][0]
    assert logits.shape == (len(dense), 4) and s.shape == (len(dense), dense.max_nodes, model.clusters[0])
    for i, g in enumerate(graphs):
        n = g.num_nodes
        torch.testing.assert_close(s[i, :n], torch.nn.functional.one_hot(g.community, s.shape[-1]).float())
        assert (s[i, n:] == 0).all()
    assert aux["link_loss"] == 0 and aux["entropy_loss"] == 0  # a fixed S adds no auxiliary loss
    with pytest.raises(ValueError, match="needs community"):
        model(dense.x, dense.adj, dense.mask)


@pytest.mark.parametrize("coarse_adj", ["raw", "no-diag", "degree-norm"])
def test_oracle_coarse_graph_is_the_community_graph(dense, coarse_adj):
    # what the final GNN sees: S^T A S of the planted S, after the coarse_adj option
    model = oracle(dense, coarse_adj=coarse_adj)
    seen = {}
    model.final.register_forward_pre_hook(lambda m, args: seen.update(adj=args[1]))
    model(dense.x, dense.adj, dense.mask, community=dense.community)
    s = hard_assignment(dense.community, model.clusters[0])
    raw = s.transpose(1, 2) @ dense.adj @ s
    if coarse_adj == "raw":
        torch.testing.assert_close(seen["adj"], raw)
        # each planted community (>= 4 nodes on a spanning path) puts >= 6 on its diagonal entry,
        # while two linked communities share 1 or 2 bridges: the diagonal swamps the coarse links
        diag, nonempty = torch.diagonal(raw, dim1=1, dim2=2), s.sum(1) > 0
        assert diag[nonempty].min() >= 6 and (raw - torch.diag_embed(diag)).max() <= 2
    else:
        assert torch.diagonal(seen["adj"], dim1=1, dim2=2).abs().max() == 0
        off = ~torch.eye(raw.shape[-1], dtype=torch.bool)
        assert torch.equal(seen["adj"][:, off] > 0, raw[:, off] > 0)  # the same community-level links


@pytest.mark.parametrize("levels", [1, 2])
def test_max_concat_readout_is_max_over_nodes_at_every_level(dense, levels):
    torch.manual_seed(0)
    model = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes, hidden=8, levels=levels, readout="max-concat").eval()
    seen = {}
    model.mlp.register_forward_pre_hook(lambda m, args: seen.update(g=args[0]))
    model(dense.x, dense.adj, dense.mask)
    widths = [e.out_channels for e in model.embed] + [model.final.out_channels]
    assert model.mlp[0].in_features == sum(widths) and seen["g"].shape == (len(dense), sum(widths))
    # the first block: the max over the real nodes of the level-0 embedding GNN's output
    z0 = model.embed[0](dense.x, dense.adj, dense.mask)
    torch.testing.assert_close(seen["g"][:, :widths[0]], readout(z0, dense.mask, "max"))
    mean = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes, hidden=8, levels=levels)
    assert mean.mlp[0].in_features == widths[-1]  # the default reads the last level only


@pytest.mark.parametrize("kw", [{"readout": "max-concat"}, {"coarse_adj": "degree-norm"}, {"coarse_adj": "no-diag"}])
def test_variants_stay_permutation_invariant_and_ignore_padding(dense, kw):
    torch.manual_seed(0)
    model = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes + 5, hidden=8, levels=2, **kw).eval()
    perm = torch.randperm(dense.max_nodes, generator=torch.Generator().manual_seed(3))
    out = model(dense.x, dense.adj, dense.mask)[0]
    torch.testing.assert_close(model(*permute(dense.x, dense.adj, dense.mask, perm))[0], out, rtol=1e-4, atol=1e-5)
    wide = to_dense(data.load("hier_graphs", num_graphs=8, seed=1), max_nodes=dense.max_nodes + 5)
    torch.testing.assert_close(model(wide.x, wide.adj, wide.mask)[0], out, rtol=1e-4, atol=1e-5)


def test_oracle_ignores_padding_and_node_order(dense):
    model = oracle(dense, readout="max-concat", coarse_adj="no-diag")
    out = model(dense.x, dense.adj, dense.mask, community=dense.community)[0]
    perm = torch.randperm(dense.max_nodes, generator=torch.Generator().manual_seed(5))
    x, adj, mask = permute(dense.x, dense.adj, dense.mask, perm)
    torch.testing.assert_close(model(x, adj, mask, community=dense.community[:, perm])[0], out, rtol=1e-4, atol=1e-5)
    wide = to_dense(data.load("hier_graphs", num_graphs=8, seed=1), max_nodes=dense.max_nodes + 5)
    big = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes + 5, hidden=8, oracle_clusters=model.clusters[0],
                      readout="max-concat", coarse_adj="no-diag").eval()
    big.load_state_dict(model.state_dict())
    torch.testing.assert_close(big(wide.x, wide.adj, wide.mask, community=wide.community)[0], out,
                               rtol=1e-4, atol=1e-5)


def test_variant_errors():
    with pytest.raises(ValueError, match="coarse_adj must be one of"):
        DiffPoolNet(6, 4, 10, coarse_adj="sym")
    with pytest.raises(ValueError, match="readout must be one of"):
        DiffPoolNet(6, 4, 10, readout="concat")
    with pytest.raises(ValueError, match="oracle_clusters must be >= 1"):
        DiffPoolNet(6, 4, 10, oracle_clusters=0)
    assert DiffPoolNet(6, 4, 10, levels=2, oracle_clusters=6).clusters == [6, 2]  # later levels are learned
