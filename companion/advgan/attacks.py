"""Per-input optimisation attacks: FGSM (Goodfellow et al., 2015) and PGD (Madry et al., 2018).

Both are l_inf attacks on images in [0, 1] (PGD also targeted): they need the target's gradients and work
one input (batch) at a time, which is what AdvGAN's single forward pass replaces.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from companion.advgan._checks import check_eps, check_images, check_labels


def _input_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    loss = F.cross_entropy(model(x), y)
    (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float = 0.3) -> torch.Tensor:
    r"""Fast gradient sign method: :math:`x' = \mathrm{clip}_{[0,1]}(x + \epsilon\,\mathrm{sign}(\nabla_x \ell(f(x), y)))`.

    ``x`` (N, C, H, W) in [0, 1], ``y`` (N,) true labels; returns ``x'`` of the same shape with
    :math:`\|x' - x\|_\infty \le \epsilon`. One gradient of the cross-entropy per input.
    """
    check_images(x)
    check_labels(x, y)
    check_eps(eps)
    grad = _input_grad(model, x, y)
    return (x + eps * grad.sign()).clamp(0, 1).detach()


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float = 0.3,
    alpha: float = 0.01,
    steps: int = 40,
    random_start: bool = True,
    generator: torch.Generator | None = None,
    targeted: bool = False,
) -> torch.Tensor:
    r"""Projected gradient descent on the cross-entropy (Madry et al.), the strongest first-order baseline.

    From :math:`x^0 = x` (+ uniform noise in :math:`[-\epsilon, \epsilon]` if ``random_start``),
    :math:`x^{t+1} = \Pi_{B_\infty(x, \epsilon) \cap [0,1]}(x^t + \alpha\,\mathrm{sign}(\nabla_x \ell(f(x^t), y)))`.
    ``x`` (N, C, H, W) in [0, 1], ``y`` (N,); returns adversarial images of the same shape.
    ``steps`` gradients per input: the cost AdvGAN avoids at attack time. With ``targeted``,
    ``y`` holds the target classes and each step descends their cross-entropy instead.
    """
    check_images(x)
    check_labels(x, y)
    check_eps(eps)
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha (step size) must be in (0, 1], got {alpha}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    x_adv = x.detach().clone()
    if random_start:
        # drawn where the generator lives (the CPU for a torch.Generator()), then beside x
        where = x.device if generator is None else generator.device
        noise = torch.rand(x.shape, generator=generator, device=where).to(x.device) * 2 - 1
        x_adv = (x_adv + eps * noise).clamp(0, 1)
    for _ in range(steps):
        grad = _input_grad(model, x_adv, y)
        x_adv = x_adv + (-alpha if targeted else alpha) * grad.sign()
        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)
    return x_adv.detach()
