"""Node scores from masks, seeded tie-breaks, the motif oracle, per-class summaries and baseline tuning."""

import pytest
import torch

from companion import data
from companion.subgraphx import GNNGraphClassifier, motif_accuracy, node_scores, top_k_nodes
from companion.subgraphx.__main__ import alternate_classes
from companion.subgraphx.compare import PG_COEFFS, make_pgexplainer, summarize
from companion.subgraphx.evaluate import motif_oracle
from companion.subgraphx.mcts import adjacency_list, connected_components
from companion.subgraphx.tune import GNNEXPLAINER_GRID, random_motif_accuracy, tune_gnnexplainer
from companion.utils import seed_everything

# path 0-1-2-3 and a pendant 4 on node 1, both directions
EDGES = torch.tensor([[0, 1, 1, 2, 2, 3, 1, 4], [1, 0, 2, 1, 3, 2, 4, 1]])


def test_node_scores_rules():
    w = torch.tensor([0.1, 0.1, 0.5, 0.5, 0.9, 0.9, 0.2, 0.2])
    assert torch.allclose(node_scores(None, w, EDGES, 5, "edge_sum"), torch.tensor([0.2, 1.6, 2.8, 1.8, 0.4]))
    assert torch.allclose(node_scores(None, w, EDGES, 5, "edge_max"), torch.tensor([0.1, 0.5, 0.9, 0.9, 0.2]))
    feat = torch.tensor([[1.0, 2.0], [0.0, 0.0], [3.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    assert torch.allclose(node_scores(feat, w, EDGES, 5, "node"), torch.tensor([3.0, 0.0, 3.0, 1.0, 1.0]))
    # without a node mask the "node" rule falls back to the edge mask
    assert torch.allclose(node_scores(None, w, EDGES, 5, "node"), node_scores(None, w, EDGES, 5, "edge_max"))
    with pytest.raises(ValueError, match="rule"):
        node_scores(None, w, EDGES, 5, "mean")
    with pytest.raises(ValueError, match="node_mask or an edge_mask"):
        node_scores(None, None, EDGES, 5, "edge_sum")


def test_top_k_ties_are_seeded_not_by_id():
    flat = torch.zeros(30)
    assert top_k_nodes(flat, 3) == [0, 1, 2]
    picks = {tuple(top_k_nodes(flat, 3, generator=torch.Generator().manual_seed(s))) for s in range(5)}
    assert len(picks) > 1  # ties broken at random ...
    again = top_k_nodes(flat, 3, generator=torch.Generator().manual_seed(0))
    assert again == top_k_nodes(flat, 3, generator=torch.Generator().manual_seed(0))  # ... but seeded
    s = torch.zeros(30)
    s[7] = 1.0
    assert 7 in top_k_nodes(s, 1, generator=torch.Generator().manual_seed(3))  # scores still come first


def test_motif_oracle_takes_the_motif_first():
    g = data.load("ba2motifs", num_graphs=4, seed=0)[0]
    motif = set(torch.nonzero(g.node_mask).flatten().tolist())
    adj = adjacency_list(g.edge_index, g.num_nodes)
    gen = torch.Generator().manual_seed(0)
    for k in (3, 5, 8):
        nodes = motif_oracle(g.node_mask, g.edge_index, k, gen)
        assert len(nodes) == k
        assert len(connected_components(nodes, adj)) == 1
        if k <= 5:
            assert set(nodes) <= motif
        else:
            assert motif <= set(nodes)
    assert motif_accuracy(motif_oracle(g.node_mask, g.edge_index, 5, gen), g.node_mask) == 1.0
    with pytest.raises(ValueError, match="k must be"):
        motif_oracle(g.node_mask, g.edge_index, 0, gen)


def _row(method, label, value, k=5):
    return {"method": method, "k": k, "label": label, "sparsity": 0.8, "fid_plus": value, "fid_minus": 0.0,
            "prob_fid_plus": value, "prob_fid_minus": 1.0 - value, "motif_acc": value, "seconds": 0.1}


def test_summarize_reports_each_class_and_the_balanced_mean():
    # three house graphs explained perfectly, one cycle graph not at all
    rows = [_row("SubgraphX", 0, 1.0)] * 3 + [_row("SubgraphX", 1, 0.0)]
    (s,) = summarize(rows, 5)
    assert s["n"] == 4
    assert s["prob_fid_plus"] == pytest.approx(0.75)  # the plain mean follows the class shares
    assert s["prob_fid_plus_y0"] == 1.0 and s["prob_fid_plus_y1"] == 0.0
    assert s["prob_fid_plus_bal"] == pytest.approx(0.5)  # each class counts once
    assert s["prob_fid_minus_bal"] == pytest.approx(0.5)
    assert 0.0 <= s["characterization_bal"] <= 1.0
    (plain,) = summarize([{**r, "label": None} for r in rows], 5)
    assert "prob_fid_plus_bal" not in plain


def test_pgexplainer_settings_stay_per_instance():
    model = GNNGraphClassifier(10, 2)
    a = make_pgexplainer(model, "graph", epochs=1, edge_size=0.05)
    b = make_pgexplainer(model, "graph", epochs=1, edge_size=0.005)
    assert a.algorithm.coeffs["edge_size"] == 0.05 and b.algorithm.coeffs["edge_size"] == 0.005
    assert a.algorithm.coeffs["temp"] == PG_COEFFS["temp"]


def test_alternate_classes():
    assert alternate_classes("abcdef", [0, 0, 0, 1, 1, 0]) == list("adbecf")



def test_tuning_gnnexplainer_scores_every_grid_point(trained):
    model, val = trained
    val = alternate_classes(val, [int(g.y) for g in val])[:6]
    best, table = tune_gnnexplainer(model, "graph", val, epochs=30, seed=0)
    assert len(table) == len(GNNEXPLAINER_GRID)
    key = ("node_mask_type", "lr", "edge_size", "edge_ent", "score")
    assert {tuple(r[c] for c in key) for r in table} == {tuple(g[c] for c in key) for g in GNNEXPLAINER_GRID}
    top = max(r["val_motif_acc"] for r in table)
    assert all(0.0 <= r["val_motif_acc"] <= 1.0 for r in table)
    chosen = next(r for r in table if all(r[c] == best[c] for c in key))
    assert chosen["val_motif_acc"] == top and best["epochs"] == 30
    rand = random_motif_accuracy(model, val, seed=0)
    assert 0.0 <= rand < 0.6  # 5 random connected nodes of 25 rarely sit on the 5 motif nodes
    with pytest.raises(ValueError, match="validation"):
        tune_gnnexplainer(model, "graph", [], epochs=1)


def test_tuning_by_fidelity_scores_the_sets_as_the_test_does(trained):
    """Each grid point also gets a validation Fidelity; with metric="fidelity" the choice follows
    it (the first best, as by motif accuracy), and the runs and scores are the same either way."""
    model, val = trained
    val = alternate_classes(val, [int(g.y) for g in val])[:4]
    grid = [g for g in GNNEXPLAINER_GRID if g["lr"] == 0.1 and g["node_mask_type"] == "attributes"
            and g["edge_ent"] == 1.0]
    by_motif, table = tune_gnnexplainer(model, "graph", val, epochs=20, seed=0, grid=grid)
    by_fid, table_f = tune_gnnexplainer(model, "graph", val, epochs=20, seed=0, grid=grid, metric="fidelity")
    assert table_f == table  # the same runs and scores; only the choice differs
    assert all(-1.0 <= r["val_fidelity"] <= 1.0 for r in table)
    assert len({round(r["val_fidelity"], 9) for r in table}) > 1  # the grid's points differ in Fidelity
    key = ("edge_size", "score")
    first_best = lambda col: max(table, key=lambda r: r[col])  # noqa: E731
    assert tuple(by_fid[c] for c in key) == tuple(first_best("val_fidelity")[c] for c in key)
    assert tuple(by_motif[c] for c in key) == tuple(first_best("val_motif_acc")[c] for c in key)
    with pytest.raises(ValueError, match="metric"):
        tune_gnnexplainer(model, "graph", val, epochs=1, metric="accuracy")


def test_pgexplainer_trains_the_same_after_a_gnnexplainer_run():
    """PyG's GNNExplainer leaves ``_edge_mask`` registered as a parameter; without
    ``clear_explain_state`` a later PGExplainer training loses its prediction-loss gradient."""
    from companion.subgraphx.compare import clear_explain_state, make_gnnexplainer, train_pgexplainer

    graphs = data.load("ba2motifs", num_graphs=6, seed=0)
    seed_everything(0)
    model = GNNGraphClassifier(10, 2)

    def trained_weights():
        torch.manual_seed(0)
        pg = make_pgexplainer(model, "graph", epochs=2)
        train_pgexplainer(pg, model, graphs[:3], desc="")
        return [p.detach().clone() for p in pg.algorithm.mlp.parameters()]

    alone = trained_weights()
    torch.manual_seed(1)
    make_gnnexplainer(model, "graph", epochs=3, node_mask_type=None)(graphs[4].x, graphs[4].edge_index)
    conv = model.convs[0]
    assert "_edge_mask" in conv._parameters  # the state PyG leaves behind
    after = trained_weights()
    assert all(torch.equal(a, b) for a, b in zip(alone, after))
    clear_explain_state(model)
    assert "_edge_mask" not in conv._parameters


def test_gnnexplainer_size_and_entropy_coefficients_reach_the_algorithm_and_the_mask(trained):
    from companion.subgraphx.compare import make_gnnexplainer

    model, val = trained
    g = val[0]
    masks = {}
    for size in (0.0, 0.05):
        torch.manual_seed(0)
        exp = make_gnnexplainer(model, "graph", epochs=40, node_mask_type=None, edge_size=size, edge_ent=0.1)
        assert exp.algorithm.coeffs["edge_size"] == size and exp.algorithm.coeffs["edge_ent"] == 0.1
        masks[size] = exp(g.x, g.edge_index).edge_mask
    assert masks[0.05].sum() < 0.9 * masks[0.0].sum()  # a size penalty gives a smaller mask
    with pytest.raises(ValueError, match="edge_size"):
        make_gnnexplainer(model, "graph", edge_size=-1.0)


def test_top_k_keeps_the_explained_node():
    s = torch.tensor([0.9, 0.8, 0.7, 0.0, 0.6])
    assert top_k_nodes(s, 2) == [0, 1]
    assert top_k_nodes(s, 2, include=3) == [0, 3]  # the node and the k - 1 best others
    assert top_k_nodes(s, 1, include=3) == [3]
    with pytest.raises(ValueError, match="include"):
        top_k_nodes(s, 2, candidates=torch.tensor([0, 1, 2]), include=3)


def test_node_task_sets_all_hold_the_explained_node():
    from companion.subgraphx import GNNNodeClassifier
    from companion.subgraphx.compare import compare_on_item, make_explainers, train_pgexplainer

    g = data.load("ba_shapes", seed=0)
    seed_everything(0)
    model = GNNNodeClassifier(g.num_features, 4)  # untrained: its masks say nothing, the rule must hold anyway
    explainers = make_explainers(model, "node", gnnexplainer=dict(epochs=2), pgexplainer=dict(epochs=1))
    train_pgexplainer(explainers.pg, model, [int(torch.nonzero(g.node_mask)[0])], node_data=g, desc="")
    v = int(torch.nonzero(g.node_mask & g.test_mask)[0])
    rows = compare_on_item(model, g.x, g.edge_index, motif_mask=g.node_mask, ks=[5], explainers=explainers,
                           node_idx=v, subgraphx_kwargs=dict(rollout=1, sample_num=2, min_atoms=5), label=int(g.y[v]))
    assert {r["method"] for r in rows} == {"SubgraphX", "GNNExplainer", "PGExplainer", "Random", "Oracle"}
    assert all(v in r["nodes"] and r["holds_node"] for r in rows)


class _WeightedSum(torch.nn.Module):
    """A graph 'model' whose class-0 logit is a weighted sum of node features: removing node v
    (zero-filling it) lowers p(class 0) by more the larger its weight."""

    def __init__(self, weights):
        super().__init__()
        self.w = torch.tensor(weights)

    def forward(self, x, edge_index):
        s = (x[:, 0] * self.w).sum()
        return torch.stack([s, -s]).expand(x.shape[0], 2)  # every node (and the graph) reads the sum


def test_greedy_occlusion_adds_the_node_that_lowers_the_prediction_most():
    from companion.subgraphx.evaluate import greedy_occlusion

    model = _WeightedSum([0.1, 2.0, 0.3, 0.2, 5.0])  # node 4 (the pendant on 1) matters most, then node 1
    x = torch.ones(5, 1)
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    # unconstrained: the two heaviest nodes, heaviest first
    assert greedy_occlusion(model, x, EDGES, 2, 0, gen(), connected=False) == [4, 1]
    # connected: after 4 only its neighbour 1 may follow, then 1's heavier neighbour 2
    assert greedy_occlusion(model, x, EDGES, 3, 0, gen()) == [4, 1, 2]
    # a node task starts from the explained node; the candidates bound the search
    assert greedy_occlusion(model, x, EDGES, 2, 0, gen(), node_idx=3, candidates=[0, 1, 2, 3]) == [3, 2]
    with pytest.raises(ValueError, match="size"):
        greedy_occlusion(model, x, EDGES, 6, 0, gen())
    with pytest.raises(ValueError, match="not among the candidates"):
        greedy_occlusion(model, x, EDGES, 2, 0, gen(), node_idx=4, candidates=[0, 1])


def test_greedy_control_rows_leave_the_other_methods_unchanged():
    from companion.subgraphx.compare import compare_on_item, make_explainers, train_pgexplainer

    graphs = data.load("ba2motifs", num_graphs=20, seed=0)
    seed_everything(0)
    model = GNNGraphClassifier(graphs[0].num_features, 2)  # untrained: the rule must hold anyway
    g = graphs[0]

    def run(controls):
        seed_everything(0)
        explainers = make_explainers(model, "graph", gnnexplainer=dict(epochs=2), pgexplainer=dict(epochs=1))
        train_pgexplainer(explainers.pg, model, graphs[1:3], desc="")
        return compare_on_item(model, g.x, g.edge_index, motif_mask=g.node_mask, ks=[3, 5], explainers=explainers,
                               subgraphx_kwargs=dict(rollout=1, sample_num=2, min_atoms=3), label=int(g.y),
                               controls=controls)

    plain, with_greedy = run(()), run(("Greedy",))
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip([r for r in with_greedy if r["method"] != "Greedy"]) == strip(plain)
    greedy = {r["k"]: r for r in with_greedy if r["method"] == "Greedy"}
    sx = {r["k"]: r for r in with_greedy if r["method"] == "SubgraphX"}
    assert set(greedy) == {3, 5} and all(greedy[k]["size"] == sx[k]["size"] for k in greedy)
    assert set(greedy[3]["nodes"]) <= set(greedy[5]["nodes"])  # prefixes of one greedy order
    assert [s["method"] for s in summarize(with_greedy, 5)][-1] == "Greedy"
    with pytest.raises(ValueError, match="controls"):
        compare_on_item(model, g.x, g.edge_index, motif_mask=g.node_mask, ks=[3], explainers=None,
                        controls=("Occlusion",))
