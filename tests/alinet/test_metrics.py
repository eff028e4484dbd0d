import pytest
import torch
from torch.nn import functional as F

from companion.alinet import csls, evaluate_alignment, ranking_metrics


def test_metrics_against_hand_computed_ranking():
    # row 0: match ranked 1st; row 1: 2nd (0.9 > 0.5); row 2: 3rd
    sim = torch.tensor([[0.9, 0.1, 0.2],
                        [0.9, 0.5, 0.1],
                        [0.8, 0.7, 0.3]])
    m = ranking_metrics(sim, ks=(1, 2))
    assert m["hits@1"] == pytest.approx(1 / 3)
    assert m["hits@2"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)


def test_evaluate_alignment_batched_equals_unbatched_and_csls_runs():
    g = torch.Generator().manual_seed(0)
    e1, e2 = torch.randn(50, 8, generator=g), torch.randn(50, 8, generator=g)
    e2[:25] = e1[:25] + 0.01 * torch.randn(25, 8, generator=g)
    full = evaluate_alignment(e1, e2, batch_size=1000)
    small = evaluate_alignment(e1, e2, batch_size=7)
    assert full == small
    assert full["hits@1"] >= 0.5
    with_csls = evaluate_alignment(e1, e2, csls_k=5, batch_size=7)
    assert with_csls["hits@1"] >= 0.5


def test_csls_penalises_hubs():
    sim = torch.tensor([[0.9, 0.88, 0.1], [0.9, 0.2, 0.1], [0.9, 0.1, 0.85]])  # column 0 is a hub
    c = csls(sim, k=2)
    assert c[0].argmax() == 1 and sim[0].argmax() == 0


def test_metrics_errors():
    with pytest.raises(ValueError, match="sim must be"):
        ranking_metrics(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="k must be"):
        ranking_metrics(torch.zeros(2, 2), ks=(0,))
    with pytest.raises(ValueError, match="same shape"):
        evaluate_alignment(torch.zeros(3, 2), torch.zeros(4, 2))


def test_l1_metric_ranks_by_city_block_distance():
    e1 = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    e2 = torch.tensor([[0.1, 0.0], [0.0, 0.2]])  # row 1's match is far in L1, but the same direction (cosine)
    assert evaluate_alignment(e1, e2, metric="l1")["hits@1"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="metric"):
        evaluate_alignment(e1, e2, metric="l2")
    with pytest.raises(ValueError, match="csls"):
        evaluate_alignment(e1, e2, metric="l1", csls_k=2)


def test_collapsed_embeddings_score_chance_not_perfect():
    # every entity mapped to the same vector (a collapsed or all-zero encoder): every candidate ties
    # with the match, so a random tie-break finds it with probability 1/n
    n = 40
    same = torch.zeros(n, 8)
    for metric in ("cosine", "l1"):
        m = evaluate_alignment(same, same.clone(), metric=metric)
        assert m["hits@1"] == pytest.approx(1 / n)
        assert m["hits@10"] == pytest.approx(10 / n)
        assert m["mrr"] == pytest.approx(sum(1 / r for r in range(1, n + 1)) / n)
    assert ranking_metrics(torch.ones(n, n))["hits@1"] == pytest.approx(1 / n)


def test_ties_are_broken_at_random_in_expectation():
    # row 0: one higher score, the match tied with one other -> rank 2 or 3 with probability 1/2 each
    # row 1: the match alone on top -> rank 1
    sim = torch.tensor([[0.5, 0.9, 0.5, 0.1],
                        [0.2, 0.8, 0.3, 0.1]])
    m = ranking_metrics(sim, ks=(1, 2, 3))
    assert m["hits@1"] == pytest.approx((0 + 1) / 2)
    assert m["hits@2"] == pytest.approx((0.5 + 1) / 2)
    assert m["hits@3"] == pytest.approx((1 + 1) / 2)
    assert m["mrr"] == pytest.approx(((1 / 2 + 1 / 3) / 2 + 1) / 2)
    # the batched evaluation agrees with the matrix form
    e1 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    e2 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # rows 0 and 2 are the same vector
    expected = ranking_metrics(F.normalize(e1, dim=1) @ F.normalize(e2, dim=1).T)
    assert evaluate_alignment(e1, e2, batch_size=2) == pytest.approx(expected)
    assert expected["hits@1"] == pytest.approx((0.5 + 1 + 0.5) / 3)
