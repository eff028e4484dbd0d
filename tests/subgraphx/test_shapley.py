import pytest
import torch

from companion.subgraphx.shapley import (exact_shapley, graph_value_function, local_region, mc_l_shapley,
                                         mc_l_shapley_batch, sample_coalition_masks)


def _path(n):
    e = torch.tensor([[i, i + 1] for i in range(n - 1)]).t()
    return torch.cat([e, e.flip(0)], dim=1)


def test_additive_game_gives_sum_of_weights():
    # for v(mask) = sum of present weights, the coalition's Shapley value is the sum of its weights
    w = torch.tensor([0.5, -1.0, 2.0, 0.25, 3.0])
    v = lambda masks: masks.float() @ w
    assert exact_shapley(v, [1, 2], _path(5), 5, local_radius=3) == pytest.approx(1.0, abs=1e-6)


def test_hand_computed_interaction():
    # players: coalition {0} and node 1 (radius 2 on a 2-node path); v = 1 only if both present
    v = lambda masks: (masks[:, 0] & masks[:, 1]).float()
    # phi = 1/2 (v({0}) - v({})) + 1/2 (v({0,1}) - v({1})) = 1/2
    assert exact_shapley(v, [0], _path(2), 2, local_radius=2) == pytest.approx(0.5)


def test_sampled_shapley_converges_to_exact_on_tiny_graph():
    torch.manual_seed(0)
    from companion.subgraphx.gnn import GNNGraphClassifier

    model = GNNGraphClassifier(3, 2, hidden=(8, 8))
    x = torch.randn(6, 3)
    ei = _path(6)
    v = graph_value_function(model, x, ei, target=1)
    exact = exact_shapley(v, [2, 3], ei, 6, local_radius=3)
    gen = torch.Generator().manual_seed(0)
    approx = mc_l_shapley(v, [2, 3], ei, 6, local_radius=3, sample_num=4000, generator=gen)
    assert abs(approx - exact) < 0.01 + 0.05 * abs(exact)


def test_local_region_grows_radius_minus_one_hops():
    reach = local_region([0], _path(6), 6, local_radius=3)
    assert reach.tolist() == [True, True, True, False, False, False]
    assert local_region([2], _path(6), 6, local_radius=1).sum() == 1


def test_masks_keep_outside_nodes_and_coalition():
    region = local_region([0], _path(6), 6, local_radius=2)
    excl, incl = sample_coalition_masks([0], region, 50, torch.Generator().manual_seed(1))
    assert excl.shape == incl.shape == (50, 6)
    assert excl[:, 2:].all() and incl[:, 2:].all()  # outside the region: always present (DIG)
    assert not excl[:, 0].any() and incl[:, 0].all()
    assert (excl[:, 1] == incl[:, 1]).all()


def test_batch_matches_single_calls():
    v = lambda masks: masks.float().sum(1)
    ei = _path(5)
    vals = mc_l_shapley_batch(v, [[0], [1, 2]], ei, 5, local_radius=2, sample_num=20)
    assert vals == pytest.approx([1.0, 2.0])


def test_errors():
    v = lambda masks: masks.float().sum(1)
    with pytest.raises(ValueError, match="coalition"):
        exact_shapley(v, [], _path(3), 3)
    with pytest.raises(ValueError, match="sample_num"):
        mc_l_shapley(v, [0], _path(3), 3, sample_num=0)
    with pytest.raises(ValueError, match="max_players"):
        exact_shapley(v, [0], _path(30), 30, local_radius=30, max_players=10)
    with pytest.raises(ValueError, match="local_radius"):
        local_region([0], _path(3), 3, 0)
    with pytest.raises(ValueError, match="edge_index"):
        graph_value_function(torch.nn.Identity(), torch.zeros(3, 2), torch.tensor([[0, 5], [1, 0]]), 0)
