"""Chapter 7's checks accept the references and reject the mistakes a student makes."""

import pytest
import torch

from companion import exercises
from companion.lds import exercises as ex

# ---- ch07.straight_through: A = E + E^T from the upper triangle, gradient w_ij + w_ji for i < j


def _sample(theta, u, *, below=True, part=lambda t: t.triu(1)):
    theta = theta.detach().clone().requires_grad_()
    upper = part(theta)
    hard = ((u < upper.detach()) if below else (u > upper.detach())).float()
    return theta, hard + (upper - upper.detach())


def not_symmetrised(theta, u, w):  # A = E: the lower triangle stays empty
    theta, e = _sample(theta, u)
    (grad,) = torch.autograd.grad((w * e).sum(), theta)
    return e.detach(), grad


def whole_matrix(theta, u, w):  # theta itself instead of its strict upper triangle
    theta, e = _sample(theta, u, part=lambda t: t)
    a = e + e.t()
    (grad,) = torch.autograd.grad((w * a).sum(), theta)
    return a.detach(), grad


def no_straight_through(theta, u, w):  # the hard sample only: no gradient reaches theta
    a = (u < theta.triu(1)).float()
    return a + a.t(), torch.zeros_like(theta)


def one_sided_gradient(theta, u, w):  # w_ij only: forgets that theta_ij also sets A_ji
    theta, e = _sample(theta, u)
    a = e + e.t().detach()
    (grad,) = torch.autograd.grad((w * a).sum(), theta)
    return a.detach(), grad


def edge_when_u_above(theta, u, w):  # u > theta: an edge with probability 1 - theta
    theta, e = _sample(theta, u, below=False)
    a = e + e.t()
    (grad,) = torch.autograd.grad((w * a).sum(), theta)
    return a.detach(), grad


# ---- ch07.one_step_hypergradient: (X_val^T (X_val w1 - y_val)) . (-alpha w0)


def _w1(x_tr, y_tr, w0, lam, alpha):
    return w0 - alpha * (x_tr.T @ (x_tr @ w0 - y_tr) + lam * w0)


def plus_alpha_w0(x_tr, y_tr, x_val, y_val, w0, lam, alpha):  # dw1/dlam = +alpha w0: a sign error
    return (x_val.T @ (x_val @ _w1(x_tr, y_tr, w0, lam, alpha) - y_val)) @ (alpha * w0)


def alpha_w1(x_tr, y_tr, x_val, y_val, w0, lam, alpha):  # dw1/dlam = -alpha w1
    w1 = _w1(x_tr, y_tr, w0, lam, alpha)
    return (x_val.T @ (x_val @ w1 - y_val)) @ (-alpha * w1)


def validation_gradient_at_w0(x_tr, y_tr, x_val, y_val, w0, lam, alpha):  # skips the inner step
    return (x_val.T @ (x_val @ w0 - y_val)) @ (-alpha * w0)


def validation_mean(x_tr, y_tr, x_val, y_val, w0, lam, alpha):  # L_val as a mean over rows
    w1 = _w1(x_tr, y_tr, w0, lam, alpha)
    return (x_val.T @ (x_val @ w1 - y_val)) @ (-alpha * w0) / len(y_val)


# ---- ch07.unrolled_hypergradient: through tau steps


def _unrolled(x_tr, y_tr, x_val, y_val, w0, lam, alpha, steps, truncate=False):
    lam_t = torch.tensor(float(lam), requires_grad=True)
    w = w0.clone()
    for _ in range(steps):
        if truncate:
            w = w.detach()
        w = w - alpha * (x_tr.T @ (x_tr @ w - y_tr) + lam_t * w)
    return torch.autograd.grad(0.5 * (x_val @ w - y_val).pow(2).sum(), lam_t)[0].detach()


def one_step_whatever_tau(x_tr, y_tr, x_val, y_val, w0, lam, alpha, tau):
    return _unrolled(x_tr, y_tr, x_val, y_val, w0, lam, alpha, 1)


def one_step_too_many(x_tr, y_tr, x_val, y_val, w0, lam, alpha, tau):
    return _unrolled(x_tr, y_tr, x_val, y_val, w0, lam, alpha, tau + 1)


def truncated_backprop(x_tr, y_tr, x_val, y_val, w0, lam, alpha, tau):  # detaches w between steps
    return _unrolled(x_tr, y_tr, x_val, y_val, w0, lam, alpha, tau, truncate=True)


def hand_formula_at_the_last_step(x_tr, y_tr, x_val, y_val, w0, lam, alpha, tau):  # -alpha w0 at every tau
    w = w0.clone()
    for _ in range(tau):
        w = _w1(x_tr, y_tr, w, lam, alpha)
    return (x_val.T @ (x_val @ w - y_val)) @ (-alpha * w0)


MUTANTS = {
    "ch07.straight_through": [not_symmetrised, whole_matrix, no_straight_through, one_sided_gradient,
                              edge_when_u_above],
    "ch07.one_step_hypergradient": [plus_alpha_w0, alpha_w1, validation_gradient_at_w0, validation_mean],
    "ch07.unrolled_hypergradient": [one_step_whatever_tau, one_step_too_many, truncated_backprop,
                                    hand_formula_at_the_last_step],
}


@pytest.mark.parametrize("key, fn", [("ch07.straight_through", ex.straight_through),
                                     ("ch07.one_step_hypergradient", ex.one_step_hypergradient),
                                     ("ch07.unrolled_hypergradient", ex.unrolled_hypergradient)])
def test_reference_passes_its_own_check(key, fn):
    assert exercises.evaluate(key, fn).passed


def test_check_rejects_a_plausible_wrong_answer(mutant, check_rejects):
    check_rejects(*mutant)
