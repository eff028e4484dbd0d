"""The defended target: PGD adversarial training (Madry et al., 2018)."""

from __future__ import annotations

import math

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
    warmup_epochs: int = 0,
) -> utils.History:
    r"""Train ``model`` on PGD examples: :math:`\min_\theta \mathbb E \max_{\|\delta\|_\infty \le \epsilon} \ell(f_\theta(x + \delta), y)`.

    The inner max is ``steps`` PGD steps of size ``alpha`` from a random start (Madry et al. use
    40 steps of 0.01 at eps 0.3 on MNIST; fewer, larger steps here keep it CPU-cheap: our choice).
    ``warmup_epochs`` > 0 grows the budget linearly, batch by batch, from ``eps / B`` to ``eps``
    over the first ``warmup_epochs`` epochs (``B`` batches), with ``alpha`` scaled alike: from a
    random initialisation, full-size PGD examples from the first step can leave a short run stuck
    at a constant prediction (our observation on MNIST at eps 0.3; Madry et al. train ~100k steps).
    ``x`` (N, C, H, W) in [0, 1], ``y`` (N,). Returns the training history.
    """
    check_eps(eps)
    if isinstance(warmup_epochs, bool) or not isinstance(warmup_epochs, int) or not 0 <= warmup_epochs <= epochs:
        raise ValueError(f"warmup_epochs must be an integer in 0..epochs ({epochs}), got {warmup_epochs!r}")
    gen = torch.Generator().manual_seed(seed)
    ramp_batches = warmup_epochs * math.ceil(len(x) / batch_size)
    done = [0]  # batches perturbed so far

    def perturb(m: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        done[0] += 1
        scale = min(1.0, done[0] / ramp_batches) if ramp_batches else 1.0
        return pgd(m, xb, yb, eps=eps * scale, alpha=alpha * scale, steps=steps, random_start=True, generator=gen)

    return train_classifier(model, x, y, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                            perturb=perturb, desc="PGD adversarial training")
