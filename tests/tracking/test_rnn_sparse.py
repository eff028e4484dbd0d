import numpy as np
import pytest
import torch

from companion.tracking import rnn, sparse


def test_greedy_tree_is_a_binary_tree_over_all_patches():
    torch.manual_seed(0)
    net = rnn.RecursiveNet(12, hidden=8)
    leaves = net.encode_leaves(torch.randn(1, 16, 12))[0]
    adj = rnn.grid_adjacency(4)
    for noise in (0.0, 1.0):
        tree = rnn.greedy_tree(net, leaves, adj, noise=noise, rng=np.random.default_rng(1))
        assert tree.is_valid()
        spans = tree.spans()
        assert spans[-1] == frozenset(range(16))
        # every merge joins two spatially adjacent regions
        for a, b in tree.merges:
            assert adj[np.ix_(sorted(spans[a]), sorted(spans[b]))].any()


def test_random_trees_differ_and_deterministic_tree_repeats():
    torch.manual_seed(0)
    net = rnn.RecursiveNet(12, hidden=8)
    leaves = net.encode_leaves(torch.randn(1, 16, 12))[0]
    adj = rnn.grid_adjacency(4)
    t0 = rnn.greedy_tree(net, leaves, adj)
    assert t0 == rnn.greedy_tree(net, leaves, adj)
    rng = np.random.default_rng(0)
    random_trees = {rnn.greedy_tree(net, leaves, adj, noise=2.0, rng=rng) for _ in range(5)}
    assert len(random_trees) > 1
    with pytest.raises(ValueError, match="rng"):
        rnn.greedy_tree(net, leaves, adj, noise=1.0)
    with pytest.raises(ValueError, match="adjacency"):
        rnn.greedy_tree(net, leaves, rnn.grid_adjacency(3))


def test_encode_root_equals_manual_composition():
    torch.manual_seed(0)
    net = rnn.RecursiveNet(5, hidden=4)
    leaves = net.encode_leaves(torch.randn(2, 3, 5))
    tree = rnn.Tree(3, ((0, 1), (3, 2)))
    nodes = net.encode(leaves, tree)
    manual = net.parent(net.parent(leaves[:, 0], leaves[:, 1]), leaves[:, 2])
    assert nodes.shape == (2, 5, 4)
    assert torch.allclose(nodes[:, -1], manual)
    with pytest.raises(ValueError, match="leaves"):
        net.encode(leaves[:, :2], tree)


def test_first_frame_loss_gradients_reach_every_parameter():
    torch.manual_seed(0)
    net = rnn.RecursiveNet(6, hidden=4)
    tree = rnn.Tree(4, ((0, 1), (2, 3), (4, 5)))
    loss = rnn.first_frame_loss(net, torch.randn(8, 4, 6), torch.tensor([1.0, 0] * 4), [tree])
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_ista_matches_sklearn_lasso():
    rng = np.random.default_rng(0)
    d = rng.normal(size=(20, 8))
    d /= np.linalg.norm(d, axis=0)
    x = rng.normal(size=(5, 20))
    ours = sparse.ista(torch.tensor(x), torch.tensor(d), lam=0.1, iters=3000, nonneg=True).numpy()
    ref = sparse.lasso_sklearn(x, d, lam=0.1, nonneg=True)
    np.testing.assert_allclose(ours, ref, atol=2e-3)
    assert (ours >= 0).all() and (ours == 0).any()  # non-negative and sparse


def test_ista_batched_equals_one_by_one():
    torch.manual_seed(0)
    x, d = torch.randn(3, 4, 6), torch.randn(3, 6, 5)
    batched = sparse.ista(x, d, lam=0.05, iters=200)
    single = torch.stack([sparse.ista(x[i], d[i], lam=0.05, iters=200) for i in range(3)])
    assert torch.allclose(batched, single, atol=1e-5)
    with pytest.raises(ValueError, match="matching d"):
        sparse.ista(torch.randn(4, 6), torch.randn(5, 3))


def test_omp_step_picks_the_true_atom_and_recovers_a_sparse_signal():
    d = np.eye(6)[:, :5] + 0.0
    x = 3 * d[:, 2] - 2 * d[:, 4]
    support, coef, res = sparse.omp_step(x, d, [])
    assert support == [2] and np.allclose(coef, [3])
    support, coef, res = sparse.omp_step(x, d, support)
    assert support == [2, 4] and np.allclose(res, 0)
    np.testing.assert_allclose(sparse.omp_sklearn(x[None], d, k=2)[0], [0, 0, 3, 0, -2], atol=1e-9)
