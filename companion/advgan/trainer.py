"""Training: target classifiers, AdvGAN semi-white-box, and AdvGAN black-box with dynamic distillation.

All loops go through the book's one training loop, :func:`companion.utils.train`: AdvGAN's
``step`` first updates D (and, black-box, the distilled model), then returns G's loss for the loop
to minimise, so the three players alternate every mini-batch as in the paper.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from companion import utils
from companion.advgan._checks import check_eps, check_images, check_kappa, check_labels
from companion.advgan.losses import advgan_generator_loss, gan_loss_discriminator
from companion.advgan.networks import Discriminator, Generator, init_weights


def index_batches(n: int, batch_size: int, seed: int) -> Callable[[int], list[torch.Tensor]]:
    """``epoch -> list of index batches``: a fresh seeded shuffle of ``range(n)`` each epoch."""
    if batch_size < 1 or n < 1:
        raise ValueError(f"n and batch_size must be >= 1, got {n}, {batch_size}")

    def batches(epoch: int) -> list[torch.Tensor]:
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1000 + epoch))
        return list(perm.split(batch_size))

    return batches


def freeze(model: nn.Module) -> nn.Module:
    """Eval mode and no gradients for the parameters: the attacked model is fixed."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def train_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int = 3,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    perturb: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    desc: str = "target",
) -> utils.History:
    """Train ``model`` on images ``x`` (N, C, H, W) in [0, 1] and labels ``y`` (N,) with Adam and cross-entropy.

    ``perturb(model, xb, yb) -> xb_adv`` replaces every batch by its adversarial version first
    (adversarial training, see :func:`companion.advgan.defense.adversarial_training`).
    """
    check_images(x)
    check_labels(x, y)
    utils.seed_everything(seed)
    batches = index_batches(len(x), batch_size, seed)

    def step(m: nn.Module, idx: torch.Tensor) -> torch.Tensor:
        xb, yb = x[idx], y[idx]
        if perturb is not None:
            m.eval()  # attack the current weights without dropout noise
            xb = perturb(m, xb, yb)
            m.train()
        return F.cross_entropy(m(xb), yb)

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = utils.train(model, step, batches, opt, epochs, desc=desc)
    model.eval()
    return history


def _gan_step(
    generator: Generator,
    discriminator: Discriminator,
    d_opt: torch.optim.Optimizer,
    attacked: nn.Module,
    xb: torch.Tensor,
    yb: torch.Tensor,
    alpha: float,
    beta: float,
    c: float,
    kappa: float,
    targeted: bool = False,
) -> dict[str, torch.Tensor]:
    delta = generator(xb)
    x_adv = (xb + delta).clamp(0, 1)
    # D step: real inputs vs the current (detached) adversarial ones
    d_loss = gan_loss_discriminator(discriminator(xb), discriminator(x_adv.detach()))
    d_opt.zero_grad()
    d_loss.backward()
    d_opt.step()
    # G's loss, to be minimised by the caller (utils.train); gradients flow through the attacked model
    terms = advgan_generator_loss(attacked(x_adv), yb, discriminator(x_adv), delta, alpha, beta, c, kappa, targeted)
    terms["d_loss"] = d_loss.detach()
    return terms


def _make_gan(x: torch.Tensor, eps: float, width: int, seed: int) -> tuple[Generator, Discriminator]:
    utils.seed_everything(seed)
    g = Generator(x.shape[1], eps=eps, width=width)
    d = Discriminator(x.shape[1], width=width)
    g.apply(init_weights)
    d.apply(init_weights)
    return g.to(x.device), d.to(x.device)  # initialised on the CPU, trained beside the images


def train_advgan(
    target: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float = 0.3,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 1e-3,
    alpha: float = 1.0,
    beta: float = 1.0,
    c: float = 3.0,
    kappa: float = 0.0,
    width: int = 8,
    seed: int = 0,
    target_class: int | None = None,
) -> tuple[Generator, utils.History]:
    r"""Semi-white-box AdvGAN: train G (and D) against the target f's logits, then attack without f.

    Minimises :math:`\mathcal L^f_{adv} + \alpha\mathcal L_{GAN} + \beta\mathcal L_{hinge}` over G
    and the GAN loss over D, alternating per mini-batch. ``x`` (N, C, H, W) in [0, 1], ``y`` (N,)
    true labels; ``kappa`` >= 0 the C&W margin of :math:`\mathcal L^f_{adv}` (0: stop pushing once
    an example is misclassified). Returns the trained generator (eval mode) and the per-epoch
    history (``loss``, ``adv``, ``gan``, ``hinge``, ``d_loss``). The target is frozen in place.
    With ``target_class`` t, G learns a targeted attack: every input is pushed towards class t
    (:func:`companion.advgan.losses.cw_targeted_loss`), one generator per target class.
    """
    check_images(x)
    check_labels(x, y)
    check_eps(eps)
    check_kappa(kappa)
    if target_class is not None and not 0 <= target_class <= int(y.max()):
        raise ValueError(f"target_class must be one of the labels 0..{int(y.max())}, got {target_class}")
    labels = y if target_class is None else torch.full_like(y, target_class)
    freeze(target)
    g, d = _make_gan(x, eps, width, seed)
    g_opt = torch.optim.Adam(g.parameters(), lr=lr, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.5, 0.999))

    def step(gen: nn.Module, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        return _gan_step(gen, d, d_opt, target, x[idx], labels[idx], alpha, beta, c, kappa, target_class is not None)

    desc = "AdvGAN" if target_class is None else f"AdvGAN -> {target_class}"
    history = utils.train(g, step, index_batches(len(x), batch_size, seed), g_opt, epochs, desc=desc)
    g.eval()
    return g, history


def blackbox_query(model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """Wrap a model as a black box: images in, class probabilities out, no gradients, no weights."""
    @torch.no_grad()
    def query(x: torch.Tensor) -> torch.Tensor:
        with utils.eval_mode(model):
            return torch.softmax(model(x), dim=1)

    return query


def distillation_loss(student_logits: torch.Tensor, teacher_probs: torch.Tensor) -> torch.Tensor:
    r"""Cross-entropy :math:`H(f(x), b(x))` between the distilled model's prediction and the black box's output."""
    if student_logits.shape != teacher_probs.shape:
        raise ValueError(f"student_logits and teacher_probs must match, got {tuple(student_logits.shape)} "
                         f"and {tuple(teacher_probs.shape)}")
    return F.cross_entropy(student_logits, teacher_probs)


def train_advgan_blackbox(
    query: Callable[[torch.Tensor], torch.Tensor],
    distilled: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float = 0.3,
    epochs: int = 10,
    static_epochs: int = 3,
    batch_size: int = 64,
    lr: float = 1e-3,
    alpha: float = 1.0,
    beta: float = 1.0,
    c: float = 3.0,
    kappa: float = 0.0,
    width: int = 8,
    seed: int = 0,
) -> tuple[Generator, nn.Module, utils.History]:
    r"""Black-box AdvGAN with dynamic distillation.

    The attacker sees only ``query(x) -> probabilities`` (N, K) of the black box b. First a static
    distillation: ``distilled`` f is trained for ``static_epochs`` on :math:`H(f(x), b(x))`. Then
    per mini-batch: (1) f step on :math:`H(f(x), b(x)) + H(f(x + G(x)), b(x + G(x)))`, so f keeps
    tracking b exactly where G is sending its inputs, (2) D step, (3) G step against the now fixed f
    (the semi-white-box objective with f in place of the target, C&W margin ``kappa``). Returns G, f and the history (with
    ``distill`` and ``agree``: f's agreement with b on the adversarial batch).
    """
    check_images(x)
    check_labels(x, y)
    check_eps(eps)
    check_kappa(kappa)
    if static_epochs < 0:
        raise ValueError(f"static_epochs must be >= 0, got {static_epochs}")
    utils.seed_everything(seed)
    f_opt = torch.optim.Adam(distilled.parameters(), lr=lr)
    if static_epochs:
        def static_step(f: nn.Module, idx: torch.Tensor) -> torch.Tensor:
            return distillation_loss(f(x[idx]), query(x[idx]))

        utils.train(distilled, static_step, index_batches(len(x), batch_size, seed + 1), f_opt,
                    static_epochs, desc="static distillation")
    g, d = _make_gan(x, eps, width, seed)
    g_opt = torch.optim.Adam(g.parameters(), lr=lr, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.5, 0.999))

    def step(gen: nn.Module, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        xb, yb = x[idx], y[idx]
        # (1) dynamic distillation first, so that G's graph below sees f's final weights of this step:
        # query b on the clean batch and on the current adversarial batch
        with torch.no_grad():
            x_adv = (xb + gen(xb)).clamp(0, 1)
        b_clean, b_adv = query(xb), query(x_adv)
        distilled.train()
        f_adv = distilled(x_adv)
        f_loss = distillation_loss(distilled(xb), b_clean) + distillation_loss(f_adv, b_adv)
        f_opt.zero_grad()
        f_loss.backward()
        f_opt.step()
        # (2) D step and (3) G's loss against the fixed f
        freeze(distilled)
        terms = _gan_step(gen, d, d_opt, distilled, xb, yb, alpha, beta, c, kappa)
        for p in distilled.parameters():
            p.requires_grad_(True)
        terms["distill"] = f_loss.detach()
        terms["agree"] = (f_adv.argmax(1) == b_adv.argmax(1)).float().mean()
        return terms

    history = utils.train(g, step, index_batches(len(x), batch_size, seed), g_opt, epochs, desc="AdvGAN black-box")
    g.eval()
    distilled.eval()
    return g, distilled, history
