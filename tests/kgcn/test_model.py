import numpy as np
import pytest
import torch

from companion.kgcn import (KGCN, InteractionTable, KGCNAggregator, build_adjacency, label_propagation,
                            label_smoothness_loss, user_relation_scores)
from companion import data
from companion.kgcn.exercises import sum_aggregator


def _model(n_iter=2, aggregator="sum", kg=None, n_entities=7):
    kg = np.array([[0, 0, 4], [1, 0, 4], [2, 1, 5], [0, 1, 5], [3, 2, 6], [0, 2, 6]]) if kg is None else kg
    torch.manual_seed(0)
    adj = build_adjacency(kg, n_entities, 3, seed=0)
    return KGCN(n_users=3, n_entities=n_entities, n_relations=3, adj_entity=adj[0], adj_relation=adj[1],
                dim=8, n_iter=n_iter, aggregator=aggregator)


@pytest.mark.parametrize("aggregator", ["sum", "concat", "neighbor"])
@pytest.mark.parametrize("n_iter", [1, 2])
def test_forward_shapes(aggregator, n_iter):
    m = _model(n_iter, aggregator)
    out = m(torch.tensor([0, 1, 2, 0]), torch.tensor([0, 1, 2, 3]))
    assert out.shape == (4,) and torch.isfinite(out).all()
    assert m.item_representation(torch.tensor([0]), torch.tensor([0])).abs().max() <= 1  # tanh last layer


def test_user_relation_scores_are_a_softmax_over_neighbours():
    u, r = torch.randn(2, 4), torch.randn(2, 3, 5, 4)
    pi = user_relation_scores(u, r)
    assert pi.shape == (2, 3, 5)
    assert torch.allclose(pi.sum(-1), torch.ones(2, 3))
    manual = torch.softmax((u[1] * r[1, 2]).mean(-1), dim=0)
    assert torch.allclose(pi[1, 2], manual)


def test_sum_aggregator_matches_the_exercise_reference():
    torch.manual_seed(1)
    agg = KGCNAggregator(4, "sum", last=True)
    args = (torch.randn(2, 3, 4), torch.randn(2, 3, 5, 4), torch.randn(2, 3, 5, 4), torch.randn(2, 4))
    want = sum_aggregator(*args, agg.linear.weight, agg.linear.bias)
    assert torch.allclose(agg(*args), want, atol=1e-6)


def test_out_of_range_ids_raise():
    m = _model()
    with pytest.raises(ValueError, match="user ids must be in"):
        m(torch.tensor([3]), torch.tensor([0]))
    with pytest.raises(ValueError, match="item ids must be in"):
        m(torch.tensor([0]), torch.tensor([7]))
    with pytest.raises(ValueError, match="aggregator must be one of"):
        KGCNAggregator(4, "max")


def test_ls_term_is_zero_when_all_labels_agree():
    # items only, linked to each other: every neighbour of the target is a labelled item
    kg = np.array([[0, 0, 1], [0, 1, 2], [1, 2, 2], [2, 0, 3], [3, 1, 0], [1, 0, 3]])
    m = _model(n_iter=2, kg=kg, n_entities=4)
    ratings = np.array([[0, i, 1] for i in range(4)])
    table = InteractionTable(ratings, 4)
    users, items = torch.zeros(4, dtype=torch.long), torch.arange(4)
    pred = label_propagation(m, users, items, table)
    assert torch.allclose(pred, torch.ones(4))
    assert label_smoothness_loss(m, users, items, torch.ones(4), table).item() < 1e-5


def test_label_propagation_hand_case():
    # target item 0 has attributes 4 (shared with item 1, label 1) and 5 (shared with item 2, label 0)
    kg = np.array([[0, 0, 4], [1, 0, 4], [0, 1, 5], [2, 1, 5]])
    adj_e = torch.tensor([[4, 5], [4, 4], [5, 5], [3, 3], [0, 1], [0, 2]])
    adj_r = torch.tensor([[0, 1], [0, 0], [1, 1], [0, 0], [0, 0], [1, 1]])
    m = KGCN(1, 6, 2, adj_e, adj_r, dim=2, n_iter=2)
    with torch.no_grad():
        m.user_emb.weight[:] = torch.tensor([[1.0, 0.0]])
        m.relation_emb.weight[:] = torch.tensor([[2.0, 0.0], [0.0, 0.0]])  # g(u, r0) = 1, g(u, r1) = 0
    table = InteractionTable(np.array([[0, 1, 1], [0, 2, 0], [0, 0, 1]]), 6)
    pred = label_propagation(m, torch.tensor([0]), torch.tensor([0]), table)
    # entity 4: mean of (held-out 0 -> 0.5, item 1 -> 1) = 0.75; entity 5: (0.5 + 0) / 2 = 0.25
    w = torch.softmax(torch.tensor([1.0, 0.0]), 0)
    assert torch.allclose(pred, w[0] * 0.75 + w[1] * 0.25)
    assert kg.shape == (4, 3)


def test_interaction_table_lookup_defaults_to_half():
    t = InteractionTable(np.array([[0, 2, 1], [1, 2, 0]]), 5)
    got = t.lookup(torch.tensor([[0], [1]]), torch.tensor([[2, 3], [2, 0]]))
    assert torch.equal(got, torch.tensor([[1.0, 0.5], [0.0, 0.5]]))


def test_l2_penalises_each_touched_row_once():
    # the same item twice in a batch touches the same rows: the penalty per example halves
    torch.manual_seed(0)
    m = _model(2, "sum")
    items = torch.tensor([3, 3])
    users = torch.tensor([1, 1])
    ents, rels = m.neighborhood(items[:1])
    ent, rel = torch.unique(torch.cat([e.reshape(-1) for e in ents])), torch.unique(torch.cat([r.reshape(-1) for r in rels]))
    rows = (m.user_emb.weight[1] ** 2).sum() + (m.entity_emb.weight[ent] ** 2).sum() + (m.relation_emb.weight[rel] ** 2).sum()
    weights = sum((a.linear.weight ** 2).sum() for a in m.aggregators)
    assert torch.allclose(m.l2_loss(users, items), (rows / 2 + weights) / 2)
    assert torch.allclose(m.l2_loss(users[:1], items[:1]), (rows + weights) / 2)


def test_label_smoothness_is_inert_with_one_hop_on_an_item_attribute_graph():
    # H = 1: an item's neighbours are attributes, which carry no label, so LS predicts 0.5 always
    d = data.load("kg_recsys", n_users=20, n_items=30)
    adj = build_adjacency(d.kg, d.n_entities, 4, seed=0)
    m = KGCN(d.n_users, d.n_entities, d.n_relations, *adj, dim=8, n_iter=1)
    table = InteractionTable(d.ratings, d.n_entities)
    r = torch.as_tensor(d.ratings[:16])
    pred = label_propagation(m, r[:, 0], r[:, 1], table)
    assert torch.allclose(pred, torch.full_like(pred, 0.5))
