r"""AdvGAN's three losses and its total objective.

The paper trains G and D with :math:`\mathcal L = \mathcal L^f_{adv} + \alpha\,\mathcal L_{GAN} + \beta\,\mathcal L_{hinge}`:
a GAN loss that keeps :math:`x + G(x)` indistinguishable from real inputs, a C&W-style adversarial
loss on the target's logits, and a hinge on the perturbation's l2 norm with bound ``c``.
(The paper's values of alpha, beta and c are not in the sources we could read: the defaults
here are our choice.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from companion.advgan._checks import check_kappa


def _logit_and_best_other(logits: torch.Tensor, cls: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row, the logit of class ``cls`` and the largest logit of every other class: the two sides
    of both C&W margins."""
    chosen = logits.gather(1, cls[:, None]).squeeze(1)
    others = logits.masked_fill(F.one_hot(cls, logits.shape[1]).bool(), float("-inf")).amax(1)
    return chosen, others


def cw_adversarial_loss(logits: torch.Tensor, y: torch.Tensor, kappa: float = 0.0) -> torch.Tensor:
    r"""Untargeted C&W margin loss :math:`\ell_f(x_A, y) = \max(Z_y - \max_{j \ne y} Z_j + \kappa, 0)`, batch mean.

    ``logits`` (N, K) are the target's logits Z on the adversarial inputs, ``y`` (N,) the true
    labels. The loss is zero exactly when some wrong class beats the true class by at least the
    margin ``kappa`` >= 0: then the target is fooled and G gets no more push.

    Carlini & Wagner write the same term as :math:`\max(Z_y - \max_{j \ne y} Z_j, -\kappa)`; the
    two differ by the constant :math:`\kappa`, so they have the same gradient and the same
    minimisers. This form is zero at the optimum. With ``kappa = 0`` G stops pushing as soon as an
    example is barely misclassified; a margin ``kappa > 0`` makes it push the logits of a wrong
    class ``kappa`` beyond the true one, which carries over better to digits G has not seen.
    """
    if logits.ndim != 2 or y.ndim != 1 or logits.shape[0] != y.shape[0]:
        raise ValueError(f"expected logits (N, K) and y (N,), got {tuple(logits.shape)} and {tuple(y.shape)}")
    check_kappa(kappa)
    true, others = _logit_and_best_other(logits, y)
    return (true - others + kappa).clamp(min=0).mean()


def cw_targeted_loss(logits: torch.Tensor, t: torch.Tensor, kappa: float = 0.0) -> torch.Tensor:
    r"""Targeted C&W margin loss :math:`\ell_f(x_A, t) = \max(\max_{j \ne t} Z_j - Z_t + \kappa, 0)`, batch mean.

    The paper's adversarial loss is written for a target class ``t`` (N,): it is zero exactly when
    the target class's logit beats every other class by at least ``kappa`` >= 0, i.e. when the
    classifier says ``t`` with that margin. :func:`cw_adversarial_loss` is the untargeted form.
    """
    if logits.ndim != 2 or t.ndim != 1 or logits.shape[0] != t.shape[0]:
        raise ValueError(f"expected logits (N, K) and t (N,), got {tuple(logits.shape)} and {tuple(t.shape)}")
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= logits.shape[1]):
        raise ValueError(f"target classes must be in 0..{logits.shape[1] - 1}, got {t.min().item()}..{t.max().item()}")
    check_kappa(kappa)
    wanted, others = _logit_and_best_other(logits, t)
    return (others - wanted + kappa).clamp(min=0).mean()


def hinge_perturbation_loss(perturbation: torch.Tensor, c: float = 3.0) -> torch.Tensor:
    r""":math:`\mathcal L_{hinge} = \mathbb E_x \max(0, \|G(x)\|_2 - c)`: no cost until the l2 norm passes ``c``.

    ``perturbation`` (N, ...) one perturbation per row; returns the batch mean (a scalar).
    """
    if perturbation.ndim < 2:
        raise ValueError(f"perturbation must be (N, ...) with one example per row, got {tuple(perturbation.shape)}")
    if c < 0:
        raise ValueError(f"c must be >= 0, got {c}")
    norms = perturbation.flatten(1).norm(dim=1)
    return (norms - c).clamp(min=0).mean()


def gan_loss_discriminator(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    r"""D's side of :math:`\mathcal L_{GAN} = \mathbb E \log D(x) + \mathbb E \log(1 - D(x + G(x)))`, to minimise.

    ``d_real``, ``d_fake`` are D's logits (N,) on clean and perturbed inputs (binary cross-entropy).
    """
    return (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
            + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))


def gan_loss_generator(d_fake: torch.Tensor) -> torch.Tensor:
    """G's side of the GAN loss (the non-saturating form): make D call x + G(x) real."""
    return F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))


def advgan_generator_loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    d_fake: torch.Tensor,
    perturbation: torch.Tensor,
    alpha: float = 1.0,
    beta: float = 1.0,
    c: float = 3.0,
    kappa: float = 0.0,
    targeted: bool = False,
) -> dict[str, torch.Tensor]:
    r"""The generator's objective :math:`\mathcal L^f_{adv} + \alpha \mathcal L_{GAN} + \beta \mathcal L_{hinge}`.

    ``kappa`` >= 0 is the C&W margin of :func:`cw_adversarial_loss`; with ``targeted``, ``y``
    holds the target classes and :func:`cw_targeted_loss` is the adversarial term. Returns a dict
    with ``"loss"`` (the total) and its three terms ``"adv"``, ``"gan"``, ``"hinge"``.
    """
    if alpha < 0 or beta < 0:
        raise ValueError(f"alpha and beta must be >= 0, got {alpha}, {beta}")
    adv = (cw_targeted_loss if targeted else cw_adversarial_loss)(logits, y, kappa)
    gan = gan_loss_generator(d_fake)
    hinge = hinge_perturbation_loss(perturbation, c)
    return {"loss": adv + alpha * gan + beta * hinge, "adv": adv, "gan": gan, "hinge": hinge}
