"""Chapter 6's checks accept the references and reject the mistakes a student makes."""

import numpy as np
import pytest
import torch

from companion import exercises
from companion.kgcn import exercises as ex

# ---- ch06.sampler: one rng for all entities, k of neighbors[e], with replacement only when too few


def _sample(neighbors, k, seed, replace=lambda n, k: n < k, fresh_rng=False, ids=True):
    rng = np.random.default_rng(seed)
    table = np.empty((len(neighbors), k), dtype=np.int64)
    for e, nbrs in enumerate(neighbors):
        if fresh_rng:
            rng = np.random.default_rng(seed)
        pick = rng.choice(len(nbrs), size=k, replace=replace(len(nbrs), k))
        table[e] = np.asarray(nbrs)[pick] if ids else pick
    return table


def a_fresh_rng_per_entity(neighbors, k, seed):
    return _sample(neighbors, k, seed, fresh_rng=True)


def always_with_replacement(neighbors, k, seed):
    return _sample(neighbors, k, seed, replace=lambda n, k: True)


def replacement_when_exactly_k(neighbors, k, seed):  # <= instead of <
    return _sample(neighbors, k, seed, replace=lambda n, k: n <= k)


def positions_not_ids(neighbors, k, seed):  # returns the drawn positions, not the neighbours' ids
    return _sample(neighbors, k, seed, ids=False)


# ---- ch06.sum_aggregator: tanh((v + sum_k pi_k e_k) W^T + b), pi = softmax_k mean_d(u * r_k)


def _aggregate(self_vectors, neighbor_vectors, neighbor_relations, user, weight, bias, *, reduce="mean",
               softmax_dim=-1, mix="sum", act=torch.tanh, weight_t=True, self_term=True):
    scores = user[:, None, None, :] * neighbor_relations
    scores = scores.mean(-1) if reduce == "mean" else scores.sum(-1)
    pi = torch.softmax(scores, dim=softmax_dim) if softmax_dim is not None else scores
    v_n = (pi.unsqueeze(-1) * neighbor_vectors).sum(2)
    if mix == "mean":
        v_n = v_n / neighbor_vectors.shape[2]
    h = self_vectors + v_n if self_term else v_n
    return act(h @ (weight.T if weight_t else weight) + bias)


def softmax_over_entities(*args):  # normalises over the n entities instead of the K neighbours
    return _aggregate(*args, softmax_dim=1)


def scores_summed_over_d(*args):  # sum over d instead of the mean: a temperature of 1/d
    return _aggregate(*args, reduce="sum")


def neighbours_averaged(*args):  # the official code's reduce_mean over K, not the paper's sum
    return _aggregate(*args, mix="mean")


def unnormalised_scores(*args):  # forgets the softmax
    return _aggregate(*args, softmax_dim=None)


def weight_not_transposed(*args):  # h W instead of h W^T
    return _aggregate(*args, weight_t=False)


def relu_not_tanh(*args):  # the inner layers' activation in the last layer
    return _aggregate(*args, act=torch.relu)


# ---- ch06.auc: the share of (positive, negative) pairs ranked correctly, ties counting 1/2


def _pairs(labels, scores):
    y, s = np.asarray(labels), np.asarray(scores, dtype=float)
    pos, neg = s[y == 1], s[y == 0]
    return pos[:, None], neg[None, :], len(pos) * len(neg)


def ties_count_zero(labels, scores):
    pos, neg, n = _pairs(labels, scores)
    return float((pos > neg).sum() / n)


def ties_count_one(labels, scores):
    pos, neg, n = _pairs(labels, scores)
    return float((pos >= neg).sum() / n)


def ordinal_ranks(labels, scores):  # Mann-Whitney with ranks 1..n, not averaged over ties
    y, s = np.asarray(labels), np.asarray(scores, dtype=float)
    ranks = np.empty(len(s))
    ranks[np.argsort(s, kind="mergesort")] = np.arange(1, len(s) + 1)
    n_pos = int(y.sum())
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * (len(y) - n_pos)))


def classes_swapped(labels, scores):  # the share where the negative scores higher
    pos, neg, n = _pairs(labels, scores)
    return float(((neg > pos).sum() + 0.5 * (neg == pos).sum()) / n)


MUTANTS = {
    "ch06.sampler": [a_fresh_rng_per_entity, always_with_replacement, replacement_when_exactly_k, positions_not_ids],
    "ch06.sum_aggregator": [softmax_over_entities, scores_summed_over_d, neighbours_averaged, unnormalised_scores,
                            weight_not_transposed, relu_not_tanh],
    "ch06.auc": [ties_count_zero, ties_count_one, ordinal_ranks, classes_swapped],
}


@pytest.mark.parametrize("key, fn", [("ch06.sampler", ex.sample_neighbors), ("ch06.sum_aggregator", ex.sum_aggregator),
                                     ("ch06.auc", ex.auc)])
def test_reference_passes_its_own_check(key, fn):
    assert exercises.evaluate(key, fn).passed


def test_check_rejects_a_plausible_wrong_answer(mutant, check_rejects):
    check_rejects(*mutant)
