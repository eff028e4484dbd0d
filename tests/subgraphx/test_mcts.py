import pytest
import torch

from companion.subgraphx.mcts import (MCTSNode, adjacency_list, connected_components, expansion_order,
                                      find_closest_node_result, mcts, prune)


def _random_graph(n, seed):
    g = torch.Generator().manual_seed(seed)
    e = torch.randint(0, n, (2, n + 3), generator=g)
    return adjacency_list(e, n)


@pytest.mark.parametrize("seed", range(5))
def test_pruning_keeps_the_subgraph_connected(seed):
    adj = _random_graph(12, seed)
    comps = connected_components(range(12), adj)
    coalition = max(comps, key=len)
    for node in coalition:
        child = prune(coalition, node, adj)
        assert node not in child and set(child) < set(coalition)
        assert len(connected_components(child, adj)) <= 1


def test_prune_largest_component_and_target():
    adj = adjacency_list(torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]]), 6)  # path 0..5
    assert prune(range(6), 2, adj) == (3, 4, 5)
    assert prune(range(6), 2, adj, keep=0) == (0, 1)
    assert prune(range(6), 4, adj) == (0, 1, 2, 3)
    with pytest.raises(ValueError, match="not in the coalition"):
        prune([0, 1], 5, adj)
    with pytest.raises(ValueError, match="target"):
        prune(range(6), 0, adj, keep=0)


def test_expansion_order_by_degree():
    adj = adjacency_list(torch.tensor([[0, 0, 0, 1], [1, 2, 3, 2]]), 4)
    assert expansion_order(range(4), adj, high2low=True)[0] == 0
    assert expansion_order(range(4), adj, high2low=False)[0] == 3


def test_find_closest_node_result_respects_size_limit():
    nodes = [MCTSNode((0, 1, 2), P=0.9, scored=True), MCTSNode((0, 1), P=0.3, scored=True),
             MCTSNode((1,), P=0.1, scored=True)]
    assert find_closest_node_result(nodes, 2).coalition == (0, 1)
    assert find_closest_node_result(nodes, 3).coalition == (0, 1, 2)


def test_mcts_finds_planted_subgraph_with_toy_reward():
    # a path of 12 nodes; the reward is the share of {4,5,6} in the coalition
    adj = adjacency_list(torch.tensor([list(range(11)), list(range(1, 12))]), 12)
    planted = {4, 5, 6}
    score = lambda cs: [len(planted & set(c)) - 0.1 * len(set(c) - planted) for c in cs]
    res = mcts(score, adj, range(12), rollout=30, min_atoms=3, expand_atoms=12, max_nodes=3)
    best = find_closest_node_result(res.nodes, 3)
    assert set(best.coalition) == planted
    assert res.best_reward_per_rollout[-1] == pytest.approx(3.0)
    assert all(a <= b for a, b in zip(res.best_reward_per_rollout, res.best_reward_per_rollout[1:]))


def test_mcts_errors():
    adj = adjacency_list(torch.tensor([[0], [1]]), 2)
    with pytest.raises(ValueError, match="rollout"):
        mcts(lambda cs: [0.0] * len(cs), adj, range(2), rollout=0)
