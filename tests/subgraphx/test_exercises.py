"""Chapter 3's checks accept the references and reject the mistakes a student makes."""

import math
from itertools import combinations

import pytest
import torch

from companion import exercises
from companion.subgraphx import exercises as ex

# ---- ch03.exact_shapley: the coalition as one player among `others`


def _shapley(v, coalition, others, weight):
    m = len(others)
    return sum(weight(size, m) * (v(set(s) | set(coalition)) - v(set(s)))
               for size in range(m + 1) for s in combinations(others, size))


def uniform_weights(v, coalition, others):  # the mean marginal contribution over all 2^m subsets
    return _shapley(v, coalition, others, lambda size, m: 1 / 2 ** m)


def weights_over_m_players(v, coalition, others):  # size! (m - size)! / m!: forgets the coalition itself
    return _shapley(v, coalition, others,
                    lambda size, m: math.factorial(size) * math.factorial(m - size) / math.factorial(m))


def weights_without_binomial(v, coalition, others):  # 1 / (m + 1) per subset size, not per subset
    return _shapley(v, coalition, others, lambda size, m: 1 / (m + 1))


def leave_one_out(v, coalition, others):  # only the marginal contribution to all the others
    return v(set(others) | set(coalition)) - v(set(others))


def players_summed(v, coalition, others):  # the sum of each member's Shapley value, not the coalition's
    return sum(ex.exact_shapley_small(v, (i,), tuple(others) + tuple(j for j in coalition if j != i))
               for i in coalition)


# ---- ch03.select: argmax of Q + U, the first child on ties


def _scores(W, N, P, c_puct, q=lambda w, n: w / n if n > 0 else 0.0, u=None):
    total = sum(N)
    u = u or (lambda n, p: c_puct * p * math.sqrt(total) / (1 + n))
    return [q(w, n) + u(n, p) for w, n, p in zip(W, N, P)]


def no_exploration(W, N, P, c_puct=10.0):  # Q only
    s = _scores(W, N, P, c_puct, u=lambda n, p: 0.0)
    return max(range(len(s)), key=lambda i: s[i])


def total_value_not_mean(W, N, P, c_puct=10.0):  # Q = W instead of W / N
    s = _scores(W, N, P, c_puct, q=lambda w, n: w)
    return max(range(len(s)), key=lambda i: s[i])


def last_on_ties(W, N, P, c_puct=10.0):
    s = _scores(W, N, P, c_puct)
    return max(reversed(range(len(s))), key=lambda i: s[i])


def no_square_root(W, N, P, c_puct=10.0):  # U with sum(N) instead of sqrt(sum(N))
    total = sum(N)
    s = _scores(W, N, P, c_puct, u=lambda n, p: c_puct * p * total / (1 + n))
    return max(range(len(s)), key=lambda i: s[i])


def visits_without_the_one(W, N, P, c_puct=10.0):  # U divided by N (an unvisited child by 1)
    total = sum(N)
    s = _scores(W, N, P, c_puct, u=lambda n, p: c_puct * p * math.sqrt(total) / max(n, 1))
    return max(range(len(s)), key=lambda i: s[i])


# ---- ch03.prune: drop the node, keep the largest component (ties: the smallest node's)

def _components(coalition, node, edges):
    from companion.subgraphx.mcts import adjacency_list, connected_components
    n = 1 + max(max(e) for e in edges)
    return connected_components([u for u in coalition if u != node], adjacency_list(torch.tensor(edges).t(), n))


def no_components(coalition, node, edges):  # drops the node, never splits the rest
    return tuple(sorted(set(coalition) - {node}))


def smallest_component(coalition, node, edges):
    return tuple(min(_components(coalition, node, edges), key=len))


def last_of_a_tie(coalition, node, edges):  # >= instead of >: a tie keeps the later component
    best = None
    for c in _components(coalition, node, edges):
        if best is None or len(c) >= len(best):
            best = c
    return tuple(best)


MUTANTS = {
    "ch03.prune": [no_components, smallest_component, last_of_a_tie],
    "ch03.exact_shapley": [uniform_weights, weights_over_m_players, weights_without_binomial, leave_one_out,
                           players_summed],
    "ch03.select": [no_exploration, total_value_not_mean, last_on_ties, no_square_root, visits_without_the_one],
}


@pytest.mark.parametrize("key, fn", [("ch03.exact_shapley", ex.exact_shapley_small), ("ch03.prune", ex.prune_action),
                                     ("ch03.select", ex.select_child)])
def test_reference_passes_its_own_check(key, fn):
    assert exercises.evaluate(key, fn).passed


def test_check_rejects_a_plausible_wrong_answer(mutant, check_rejects):
    check_rejects(*mutant)
