import pytest
import torch

from companion.lds import (AdamState, LDSConfig, adam_step, expected_prediction, frozen_steps, gcn_forward,
                           hypergradient, init_gcn_weights, project_probabilities, train_lds)
from companion.lds.bilevel import fixed_graph
from companion.utils import seed_everything


def _tiny(seed=0, n=7):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 1] * (n // 2) + [0] * (n % 2))
    theta = torch.rand(n, n, generator=g, dtype=torch.float64).triu(1)
    w = [wi.detach().double() for wi in init_gcn_weights(3, 2, 4, g)]
    return x, y, theta, w, torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5])


def test_hypergradient_matches_finite_differences():
    x, y, theta, w, tr, val = _tiny()
    kwargs = dict(tau=3, inner_lr=0.1, l2_reg=5e-4, dropout=0.0, dense=True)
    hg, *_ = hypergradient(theta, w, AdamState.zeros_like(w), x, y, tr, val, **kwargs)

    def outer(t):
        with torch.enable_grad():
            _, w_end, _, _ = hypergradient(t, w, AdamState.zeros_like(w), x, y, tr, val, **kwargs)
        upper = t.triu(1)
        return torch.nn.functional.cross_entropy(gcn_forward(w_end, x, upper + upper.t())[val], y[val]).item()

    eps = 1e-6
    for i, j in [(0, 1), (2, 5), (3, 4), (1, 6)]:
        e = torch.zeros_like(theta)
        e[i, j] = eps
        fd = (outer(theta + e) - outer(theta - e)) / (2 * eps)
        assert hg[i, j].item() == pytest.approx(fd, rel=1e-4, abs=1e-7)
    assert hg.tril().abs().sum() == 0  # lower triangle is not a parameter


def test_sampled_hypergradient_equals_dense_one_on_a_deterministic_graph():
    x, y, theta, w, tr, val = _tiny(1)
    theta = (theta > 0.5).double()  # probabilities 0/1: every sample is the same graph
    args = (theta, w, AdamState.zeros_like(w), x, y, tr, val)
    dense, *_ = hypergradient(*args, tau=2, inner_lr=0.1, dropout=0.0, dense=True)
    sampled, *_ = hypergradient(*args, tau=2, inner_lr=0.1, dropout=0.0, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(dense, sampled, atol=1e-10)


def test_adam_step_matches_torch_adam():
    g = torch.Generator().manual_seed(0)
    w = [torch.randn(3, 2, generator=g, requires_grad=True)]
    ref = [w[0].detach().clone().requires_grad_()]
    opt = torch.optim.Adam(ref, lr=0.02)
    state, cur = AdamState.zeros_like(w), w
    for _ in range(4):
        grads = torch.autograd.grad((cur[0] ** 3).sum(), cur)
        cur, state = adam_step([c.detach() for c in cur], list(grads), state, 0.02)
        cur = [c.detach().requires_grad_() for c in cur]
        opt.zero_grad()
        (ref[0] ** 3).sum().backward()
        opt.step()
    assert torch.allclose(cur[0], ref[0], atol=1e-6)


def test_expected_prediction_is_a_distribution_and_exact_for_01_theta():
    x, y, theta, w, *_ = _tiny(2)
    p = expected_prediction(w, x, theta, n_samples=5, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(p.sum(1), torch.ones(len(x), dtype=p.dtype))
    t01 = (theta > 0.5).double()
    a = t01 + t01.t()
    assert torch.allclose(expected_prediction(w, x, t01, 3), torch.softmax(gcn_forward(w, x, a), 1))


def test_train_lds_outputs_and_errors():
    x, y, theta, *_ = _tiny(3, n=12)
    x, theta = x.float(), theta.float()
    split = {"train": torch.arange(4), "val": torch.arange(4, 7), "es": torch.arange(7, 9), "test": torch.arange(9, 12)}
    cfg = LDSConfig(tau=2, max_inner_steps=6, max_outer_iterations=2, patience=1, n_samples=2)
    res = train_lds(x, y, theta, split, cfg, seed=0)
    assert 0 <= res.test_accuracy <= 1 and res.theta.min() >= 0 and res.theta.max() <= 1
    assert len(res.history["es_acc"]) in (1, 2)
    with pytest.raises(ValueError, match="missing"):
        train_lds(x, y, theta, {"train": split["train"]}, cfg)
    with pytest.raises(ValueError, match="square"):
        train_lds(x, y, theta[:, :5], split, cfg)
    with pytest.raises(ValueError, match="tau"):
        LDSConfig(tau=0)
    with pytest.raises(ValueError, match="dropout"):
        LDSConfig(dropout=1.0)


@pytest.mark.parametrize("dense", [False, True])
def test_frozen_steps_are_the_hypergradient_unroll_without_the_outer_step(dense):
    x, y, theta, w, tr, val = _tiny(3)
    g1, g2 = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    state = AdamState.zeros_like(w)
    _, w_hg, st_hg, loss_hg = hypergradient(theta, w, state, x, y, tr, val, 3, 0.05, dropout=0.0,
                                            generator=g1, dense=dense)
    w_fr, st_fr, loss_fr = frozen_steps(theta, w, state, x, y, tr, 3, 0.05, dropout=0.0, generator=g2, dense=dense)
    assert loss_fr == loss_hg and st_fr.t == st_hg.t == 3
    assert all(torch.equal(a, b) for a, b in zip(w_fr, w_hg))
    # the same number of graphs was drawn, so the next restart sees the same samples
    assert torch.equal(torch.rand(5, generator=g1), torch.rand(5, generator=g2))


def test_lds_with_outer_rate_zero_keeps_its_graph_and_learning_moves_it():
    x, y, theta, _, tr, val = _tiny(5, n=12)
    split = {"train": tr, "val": val, "es": torch.tensor([6, 7, 8]), "test": torch.tensor([9, 10, 11])}
    cfg = dict(tau=2, max_inner_steps=6, max_outer_iterations=2, patience=2, n_samples=2, dropout=0.0)
    frozen = train_lds(x.float(), y, theta.float(), split, LDSConfig(outer_lr=0.0, **cfg))
    learned = train_lds(x.float(), y, theta.float(), split, LDSConfig(outer_lr=1.0, **cfg))
    start = project_probabilities(theta.float())
    assert torch.equal(frozen.theta, start)
    assert (learned.theta - start).abs().max() > 1e-3


def test_the_sparse_frozen_control_is_the_dense_one_on_a_01_graph():
    """On a 0/1 theta every sample is theta itself: the sparse path must give the dense run's
    numbers (to float precision) and draw the same numbers from the generator."""
    x, y, _, _, tr, val = _tiny(6, n=12)
    theta = (torch.rand(12, 12, generator=torch.Generator().manual_seed(1)) < 0.3).float().triu(1)
    split = {"train": tr, "val": val, "es": torch.tensor([6, 7, 8]), "test": torch.tensor([9, 10, 11])}
    cfg = dict(outer_lr=0.0, tau=2, max_inner_steps=8, max_outer_iterations=3, patience=3, n_samples=3)
    runs = []
    for sparse in (False, True):
        seed_everything(0)
        runs.append(train_lds(x.float(), y, theta, split, LDSConfig(sparse=sparse, **cfg)))
    dense, sparse = runs
    assert dense.history["inner_steps"] == sparse.history["inner_steps"]
    assert dense.history["es_acc"] == sparse.history["es_acc"]
    torch.testing.assert_close(torch.tensor(dense.history["es_loss"]), torch.tensor(sparse.history["es_loss"]))
    for a, b in zip(dense.weights, sparse.weights):  # same inits: the generator drew the same numbers
        torch.testing.assert_close(a, b)


def test_fixed_graph_only_for_a_01_theta():
    theta = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    fixed = fixed_graph(theta)
    assert fixed.is_sparse
    assert torch.equal(fixed.to_dense(), theta + theta.t())
    assert fixed_graph(theta * 0.5) is None
