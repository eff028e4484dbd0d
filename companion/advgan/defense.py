"""The defended target: PGD adversarial training (Madry et al., 2018)."""

from __future__ import annotations

import torch
from torch import nn

from companion import utils
from companion.advgan._checks import check_eps
from companion.advgan.attacks import pgd
from companion.advgan.trainer import train_classifier


def adversarial_training(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float = 0.3,
    alpha: float = 0.1,
    steps: int = 5,
    epochs: int = 3,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
) -> utils.History:
    r"""Train ``model`` on PGD examples: :math:`\min_\theta \mathbb E \max_{\|\delta\|_\infty \le \epsilon} \ell(f_\theta(x + \delta), y)`.

    The inner max is ``steps`` PGD steps of size ``alpha`` from a random start (Madry et al. use
    40 steps of 0.01 at eps 0.3 on MNIST; fewer, larger steps here keep it CPU-cheap: our choice).
    ``x`` (N, C, H, W) in [0, 1], ``y`` (N,). Returns the training history.
    """
    check_eps(eps)
    gen = torch.Generator().manual_seed(seed)

    def perturb(m: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return pgd(m, xb, yb, eps=eps, alpha=alpha, steps=steps, random_start=True, generator=gen)

    return train_classifier(model, x, y, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                            perturb=perturb, desc="PGD adversarial training")
