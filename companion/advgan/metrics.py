"""Attack metrics: success rate (on all digits and on the originally correct ones), perturbation
size, time per adversarial example."""

from __future__ import annotations

import time
from typing import Callable

import torch
from torch import nn

from companion.advgan._checks import check_images, check_labels, check_same_shape


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Predicted labels (N,) of ``model`` on images (N, C, H, W), in eval mode, in batches."""
    was_training = model.training
    model.eval()
    out = torch.cat([model(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])
    model.train(was_training)
    return out


def attack_success_rate(model: nn.Module, x_adv: torch.Tensor, y: torch.Tensor) -> float:
    """Share of adversarial inputs (N, C, H, W) that ``model`` misclassifies: mean of [f(x_adv) != y].

    This is 1 minus the accuracy under attack (the MNIST challenge reports the accuracy).
    """
    check_images(x_adv, "x_adv")
    check_labels(x_adv, y)
    return (predict(model, x_adv) != y).float().mean().item()


def targeted_success_rate(model: nn.Module, x_adv: torch.Tensor, y: torch.Tensor, target_class: int) -> float | None:
    """Share of the inputs whose true class is not ``target_class`` that ``model`` assigns to it.

    The inputs already of the target class are left out: their "success" would need no attack.
    ``x_adv`` (N, C, H, W), ``y`` (N,) true labels; None when every input is of ``target_class``.
    """
    check_images(x_adv, "x_adv")
    check_labels(x_adv, y)
    others = y != target_class
    if not bool(others.any()):
        return None
    return (predict(model, x_adv[others]) == target_class).float().mean().item()


def success_on_correct(
    model: nn.Module, x: torch.Tensor, x_adv: torch.Tensor, y: torch.Tensor,
) -> dict[str, float | int | None]:
    r"""Attack success counted only on the inputs the model got right before the attack.

    With :math:`C = \{i : f(x_i) = y_i\}` (``clean_correct`` = :math:`|C|`), the rate is
    :math:`|\{i \in C : f(x^{adv}_i) \ne y_i\}| / |C|`. :func:`attack_success_rate` also counts
    inputs that were misclassified before any perturbation; this one does not, so it measures
    what the attack itself did. ``x`` and ``x_adv`` (N, C, H, W) in [0, 1], ``y`` (N,).
    Returns ``{"success_on_correct": rate or None when no input was correct, "clean_correct": |C|}``.
    """
    check_images(x)
    check_images(x_adv, "x_adv")
    check_same_shape(x, x_adv)
    check_labels(x, y)
    correct = predict(model, x) == y
    n_correct = int(correct.sum().item())
    if n_correct == 0:
        return {"success_on_correct": None, "clean_correct": 0}
    fooled = (predict(model, x_adv) != y) & correct
    return {"success_on_correct": fooled.sum().item() / n_correct, "clean_correct": n_correct}


def perturbation_norms(x: torch.Tensor, x_adv: torch.Tensor) -> dict[str, float]:
    r"""Mean l2 and l_inf norms of :math:`x_{adv} - x` over the batch, and the largest l_inf."""
    check_images(x)
    check_images(x_adv, "x_adv")
    check_same_shape(x, x_adv)
    d = (x_adv - x).flatten(1)
    linf = d.abs().amax(1)
    return {"l2": d.norm(dim=1).mean().item(), "linf": linf.mean().item(), "linf_max": linf.max().item()}


def time_per_example(attack: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, repeats: int = 1) -> tuple[torch.Tensor, float]:
    """Run ``attack(x) -> x_adv`` ``repeats`` times; return the last ``x_adv`` and wall seconds per example."""
    check_images(x)
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)  # a GPU computes asynchronously
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        x_adv = attack(x)
    sync()
    seconds = (time.perf_counter() - start) / (repeats * len(x))
    return x_adv, seconds
