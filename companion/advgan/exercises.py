"""Checked exercises of the AdvGAN chapter (keys ``ch09.*``)."""

from __future__ import annotations

import torch
from torch import nn

from companion.advgan.attacks import fgsm as _fgsm
from companion.advgan.attacks import pgd as _pgd
from companion.advgan.losses import cw_adversarial_loss, hinge_perturbation_loss
from companion.exercises import exercise


def _hinge_cases():
    g = torch.Generator().manual_seed(0)
    for n, c, scale in ((4, 1.0, 0.3), (8, 3.0, 0.2), (5, 0.5, 0.05)):
        yield (scale * torch.randn(n, 1, 8, 8, generator=g), c), {}
    # norms on both sides of c (scales 0.05 to 0.3 per example: norms of about 0.4 to 2.4), so the
    # hinge must be taken per example, before the mean
    scales = torch.linspace(0.05, 0.3, 6)[:, None, None, None]
    yield (scales * torch.randn(6, 1, 8, 8, generator=g), 1.0), {}


@exercise("ch09.hinge", _hinge_cases)
def hinge(perturbation: torch.Tensor, c: float) -> torch.Tensor:
    """Reference: mean over the batch of max(0, ||delta||_2 - c)."""
    return hinge_perturbation_loss(perturbation, c)


def _cw_cases():
    g = torch.Generator().manual_seed(1)
    for n, k, kappa in ((6, 10, 0.0), (5, 3, 1.0), (4, 10, 5.0)):
        yield (torch.randn(n, k, generator=g) * 3, torch.randint(0, k, (n,), generator=g), kappa), {}


@exercise("ch09.cw_loss", _cw_cases)
def cw_loss(logits: torch.Tensor, y: torch.Tensor, kappa: float) -> torch.Tensor:
    """Reference: batch mean of max(Z_y - max_{j != y} Z_j + kappa, 0)."""
    return cw_adversarial_loss(logits, y, kappa)


def _tiny_model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10))
    return model.eval()


def _attack_cases(with_steps: bool):
    def cases():
        g = torch.Generator().manual_seed(2)
        for seed, eps in ((0, 0.3), (1, 0.1)):
            x = torch.rand(6, 1, 8, 8, generator=g)
            y = torch.randint(0, 10, (6,), generator=g)
            kwargs = {"alpha": 0.05, "steps": 5} if with_steps else {}
            yield (_tiny_model(seed), x, y, eps), kwargs
    return cases


@exercise("ch09.fgsm", _attack_cases(False))
def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """Reference: clip(x + eps * sign(grad_x CE(model(x), y)), 0, 1)."""
    return _fgsm(model, x, y, eps)


@exercise("ch09.pgd", _attack_cases(True))
def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, alpha: float, steps: int) -> torch.Tensor:
    """Reference: PGD without random start (so the answer is deterministic)."""
    return _pgd(model, x, y, eps, alpha=alpha, steps=steps, random_start=False)
