import pytest
import torch

from companion.subgraphx import (SubgraphXExplainer, graph_accuracy, motif_accuracy, random_connected_subgraph,
                                 subgraphx, top_k_nodes)



def test_gnn_learns_ba2motifs(trained):
    model, test = trained
    assert graph_accuracy(model, test) > 0.9


def test_explanation_recovers_house_motif(trained):
    model, test = trained
    houses = [g for g in test if int(g.y) == 0][:3]
    accs = []
    for g in houses:
        e = subgraphx(model, g.x, g.edge_index, max_nodes=5, rollout=10, sample_num=30, seed=0)
        assert len(e.coalition) <= 5
        accs.append(motif_accuracy(e.coalition, g.node_mask))
    assert sum(accs) / len(accs) >= 0.8  # most motif nodes recovered (seeded)
    # and a random connected subgraph of the same size does much worse
    gen = torch.Generator().manual_seed(0)
    rand = [motif_accuracy(random_connected_subgraph(g.edge_index, g.num_nodes, 5, gen), g.node_mask) for g in houses]
    assert sum(accs) / 3 > sum(rand) / 3 + 0.3


def test_size_limit_larger_than_graph_is_an_error(trained):
    model, test = trained
    g = test[0]
    with pytest.raises(ValueError, match="max_nodes"):
        subgraphx(model, g.x, g.edge_index, max_nodes=g.num_nodes + 1)
    with pytest.raises(ValueError, match="max_nodes"):
        subgraphx(model, g.x, g.edge_index, max_nodes=0)
    with pytest.raises(ValueError, match="node_idx"):
        subgraphx(model, g.x, g.edge_index, node_idx=g.num_nodes)


def test_pyg_explainer_wrapper(trained):
    from torch_geometric.explain import Explainer
    from torch_geometric.explain.metric import fidelity

    model, test = trained
    g = test[0]
    explainer = Explainer(model, algorithm=SubgraphXExplainer(max_nodes=5, rollout=3, sample_num=10),
                          explanation_type="model", node_mask_type="object", edge_mask_type="object",
                          model_config=dict(mode="multiclass_classification", task_level="graph", return_type="raw"))
    exp = explainer(g.x, g.edge_index)
    assert exp.node_mask.shape == (g.num_nodes, 1)
    assert 1 <= exp.node_mask.sum() <= 5
    inside = exp.node_mask[g.edge_index[0], 0] * exp.node_mask[g.edge_index[1], 0]
    assert torch.equal(exp.edge_mask, inside)
    fp, fm = fidelity(explainer, exp)
    assert 0.0 <= fp <= 1.0 and 0.0 <= fm <= 1.0


def test_top_k_nodes_and_errors():
    assert top_k_nodes(torch.tensor([0.1, 0.9, 0.5, 0.9]), 2) == [1, 3]
    assert top_k_nodes(torch.tensor([0.1, 0.9, 0.5, 0.9]), 1, candidates=torch.tensor([0, 2])) == [2]
    with pytest.raises(ValueError, match="k must be"):
        top_k_nodes(torch.zeros(3), 4)
    with pytest.raises(ValueError, match="SubgraphX|max_nodes"):
        SubgraphXExplainer(max_nodes=0)
