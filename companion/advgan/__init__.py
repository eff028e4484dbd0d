"""AdvGAN (Xiao et al., IJCAI 2018): adversarial examples from a generator, one forward pass each.

Modules: ``targets`` (classifiers A/B/C), ``attacks`` (FGSM, PGD), ``networks`` (G, D),
``losses`` (C&W adversarial, hinge, GAN), ``trainer`` (semi-white-box and black-box AdvGAN with
dynamic distillation), ``selection`` (the C&W margin kappa picked on a validation split),
``defense`` (PGD adversarial training), ``metrics``, ``experiment``
(the table of the chapter; CLI: ``python -m companion.advgan``), ``targeted`` (one generator per
target class, beside targeted PGD).
"""

from companion.advgan.attacks import fgsm, pgd
from companion.advgan.defense import adversarial_training
from companion.advgan.losses import (
    advgan_generator_loss,
    cw_adversarial_loss,
    cw_targeted_loss,
    gan_loss_discriminator,
    gan_loss_generator,
    hinge_perturbation_loss,
)
from companion.advgan.metrics import (
    attack_success_rate, perturbation_norms, predict, success_on_correct, targeted_success_rate, time_per_example,
)
from companion.advgan.networks import Discriminator, Generator, adversarial_example, init_weights
from companion.advgan.selection import select_kappa, validation_split
from companion.advgan.targets import TARGET_NAMES, target_model
from companion.advgan.trainer import (
    blackbox_query,
    distillation_loss,
    freeze,
    index_batches,
    train_advgan,
    train_advgan_blackbox,
    train_classifier,
)

__all__ = [
    "TARGET_NAMES", "Discriminator", "Generator", "adversarial_example", "adversarial_training",
    "advgan_generator_loss", "attack_success_rate", "blackbox_query", "cw_adversarial_loss", "cw_targeted_loss",
    "distillation_loss", "fgsm", "freeze", "gan_loss_discriminator", "gan_loss_generator",
    "hinge_perturbation_loss", "index_batches", "init_weights", "perturbation_norms", "pgd", "predict",
    "select_kappa", "success_on_correct", "target_model", "targeted_success_rate", "time_per_example", "train_advgan",
    "train_advgan_blackbox", "train_classifier", "validation_split",
]
