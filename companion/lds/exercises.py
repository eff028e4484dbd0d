"""Checked exercises of the LDS chapter (keys ``ch07.*``)."""

from __future__ import annotations

import torch

from companion.exercises import exercise


def _st_cases():
    g = torch.Generator().manual_seed(7)
    for n in (3, 5, 8):
        theta = torch.rand(n, n, generator=g).triu(1)
        u = torch.rand(n, n, generator=g)
        w = torch.randn(n, n, generator=g)
        yield (theta, u, w), {}


@exercise("ch07.straight_through", _st_cases)
def straight_through(theta: torch.Tensor, u: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference: the symmetric sample A from uniform noise ``u`` and the straight-through
    gradient of ``(w * A).sum()`` with respect to ``theta`` (both (N, N))."""
    theta = theta.detach().clone().requires_grad_()
    upper = theta.triu(1)
    hard = (u < upper.detach()).float()
    e = hard + (upper - upper.detach())
    a = e + e.t()
    (grad,) = torch.autograd.grad((w * a).sum(), theta)
    return a.detach(), grad


def _one_step_cases():
    g = torch.Generator().manual_seed(3)
    for d in (2, 3, 5):
        x_tr, x_val = torch.randn(8, d, generator=g), torch.randn(6, d, generator=g)
        y_tr, y_val = torch.randn(8, generator=g), torch.randn(6, generator=g)
        w0 = torch.randn(d, generator=g)
        yield (x_tr, y_tr, x_val, y_val, w0, 0.3, 0.05), {}


@exercise("ch07.one_step_hypergradient", _one_step_cases, atol=1e-5, rtol=1e-4)
def one_step_hypergradient(x_tr, y_tr, x_val, y_val, w0, lam: float, alpha: float) -> torch.Tensor:
    r"""Reference: :math:`\mathrm dL_{val}(w_1)/\mathrm d\lambda` for one gradient step
    :math:`w_1 = w_0 - \alpha\nabla_w[\tfrac12\|X_{tr}w - y_{tr}\|^2 + \tfrac\lambda2\|w\|^2]`,
    :math:`L_{val}(w) = \tfrac12\|X_{val}w - y_{val}\|^2`. By hand: :math:`\mathrm dw_1/\mathrm d\lambda = -\alpha w_0`."""
    w1 = w0 - alpha * (x_tr.T @ (x_tr @ w0 - y_tr) + lam * w0)
    return (x_val.T @ (x_val @ w1 - y_val)) @ (-alpha * w0)


def _unrolled_cases():
    for tau in (1, 3, 10):
        yield next(iter(_one_step_cases()))[0][:5] + (0.3, 0.05, tau), {}


@exercise("ch07.unrolled_hypergradient", _unrolled_cases, atol=1e-5, rtol=1e-4)
def unrolled_hypergradient(x_tr, y_tr, x_val, y_val, w0, lam: float, alpha: float, tau: int) -> torch.Tensor:
    r"""Reference: the same hypergradient through ``tau`` unrolled gradient steps (reverse mode)."""
    lam_t = torch.tensor(float(lam), requires_grad=True)
    w = w0.clone()
    for _ in range(tau):
        w = w - alpha * (x_tr.T @ (x_tr @ w - y_tr) + lam_t * w)
    (hg,) = torch.autograd.grad(0.5 * (x_val @ w - y_val).pow(2).sum(), lam_t)
    return hg.detach()
