"""The training-free degree matcher: exact on distinct degree profiles, random ties, checked input."""

import pytest
import torch

from companion import data
from companion.alinet import degree_features, degree_matching, prepare
from companion.alinet.metrics import expected_hits_mrr
from companion.data.kg_pair import KGPair


def _pair(t1, t2, n, test):
    t1, t2 = torch.tensor(t1), torch.tensor(t2)
    return KGPair(triples1=t1, triples2=t2, num_entities1=n, num_entities2=n, num_relations1=1, num_relations2=1,
                  seed_pairs=torch.zeros(0, 2, dtype=torch.long), test_pairs=torch.tensor(test))


def test_degree_features_count_out_and_in_edges():
    f = degree_features(torch.tensor([[0, 0, 1], [0, 0, 2], [2, 0, 1]]), 4)
    assert torch.allclose(f.expm1(), torch.tensor([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0], [0.0, 0.0]]))


def test_identical_views_with_distinct_degree_profiles_align_perfectly():
    # (out, in) degrees (3,0) (1,1) (2,2) (1,2) (0,2): all distinct
    t = [[0, 0, 1], [0, 0, 2], [0, 0, 3], [1, 0, 2], [2, 0, 3], [2, 0, 4], [3, 0, 4]]
    perm = torch.tensor([4, 2, 0, 3, 1])  # KG2 renames entity i to perm[i]
    t2 = [[int(perm[h]), r, int(perm[tl])] for h, r, tl in t]
    f = degree_features(torch.tensor(t), 5)
    assert len({tuple(row.tolist()) for row in f}) == 5  # the premise: all profiles distinct
    test = [[i, int(perm[i])] for i in range(5)]
    m = degree_matching(_pair(t, t2, 5, test), torch.tensor(test))
    assert m["hits@1"] == pytest.approx(1.0) and m["mrr"] == pytest.approx(1.0)


def test_tied_degrees_are_scored_with_the_random_tie_rule():
    # a 4-cycle: every entity has out- and in-degree 1, so all four candidates tie for every row
    t = [[0, 0, 1], [1, 0, 2], [2, 0, 3], [3, 0, 0]]
    test = [[i, i] for i in range(4)]
    m = degree_matching(_pair(t, t, 4, test), torch.tensor(test), ks=(1, 2))
    chance = expected_hits_mrr(torch.zeros(4), torch.full((4,), 3.0), ks=(1, 2))
    assert m == pytest.approx(chance)
    assert m["hits@1"] == pytest.approx(0.25) and m["hits@2"] == pytest.approx(0.5)


def test_bad_input_is_rejected_before_work():
    t = [[0, 0, 1]]
    with pytest.raises(ValueError, match="pairs"):
        degree_matching(_pair(t, t, 2, [[0, 0]]), torch.tensor([[0, 5]]))
    with pytest.raises(ValueError, match="pairs"):
        degree_matching(_pair(t, t, 2, [[0, 0]]), torch.zeros(0, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="entity ids"):
        degree_features(torch.tensor([[0, 0, 3]]), 2)
    with pytest.raises(ValueError, match=r"\(M, 3\)"):
        degree_features(torch.tensor([[0, 1]]), 2)


def test_noise_lowers_degree_matching_on_the_synthetic_pair():
    def hits(noise):
        inp = prepare(data.load("kg_pair_synthetic", num_counterparts=200, noise=noise, seed=0), seed=0)
        return degree_matching(inp.pair, inp.test - torch.tensor([0, inp.n1]))["hits@1"]

    clean, noisy = hits(0.0), hits(0.6)
    assert clean > noisy and clean > 5 / 160  # identical views: well above chance; noise erodes degrees
