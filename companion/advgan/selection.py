r"""Choosing AdvGAN's C&W margin :math:`\kappa` on a validation split, never on the test set.

:math:`\kappa` is a hyperparameter the paper does not state (see the chapter). Picking it from
test-set numbers would make the test success a tuned number; here the training images are split
once (seeded) into a part G is trained on and a held-out validation part, one generator is trained
per :math:`\kappa` of a grid on the first part, and the smallest :math:`\kappa` whose generator
fools the target on at least ``goal`` of the validation digits it classified correctly (within the
generator's :math:`\ell_\infty` budget) is kept. The smallest such :math:`\kappa`, because a larger
margin costs a larger perturbation.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from companion import utils
from companion.advgan._checks import check_images, check_kappa, check_labels
from companion.advgan.metrics import perturbation_norms, predict, success_on_correct, targeted_success_rate
from companion.advgan.networks import adversarial_example
from companion.advgan.trainer import train_advgan


def validation_split(n: int, val_fraction: float = 0.2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded split of ``range(n)`` into ``(fit, val)`` index tensors, ``round(val_fraction * n)`` in val.

    Both parts must be non-empty; the split depends only on ``n``, ``val_fraction`` and ``seed``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (one image to fit, one to validate), got {n!r}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    n_val = round(val_fraction * n)
    if not 1 <= n_val <= n - 1:
        raise ValueError(f"val_fraction {val_fraction} of {n} images leaves {n_val} for validation and "
                         f"{n - n_val} to fit: each part needs at least one image")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(10_000 + seed))
    return perm[n_val:], perm[:n_val]


def select_kappa(
    target: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    kappas: Sequence[float],
    val_fraction: float = 0.2,
    goal: float = 0.95,
    eps: float = 0.3,
    seed: int = 0,
    generators: dict[float, nn.Module] | None = None,
    target_class: int | None = None,
    **train_kw: Any,
) -> tuple[float, list[dict[str, Any]]]:
    r"""Pick the C&W margin :math:`\kappa` of semi-white-box AdvGAN on a validation split of the training images.

    ``x`` (N, C, H, W) in [0, 1] and ``y`` (N,) are the *training* images; they are split by
    :func:`validation_split`. For each :math:`\kappa` in ``kappas`` (all are trained, so the whole
    curve is recorded) a generator is trained on the fit part with :func:`train_advgan`
    (``eps``, ``seed`` and ``train_kw``: ``epochs``, ``alpha``, ``beta``, ``c``, ``width``, ...)
    and scored on the validation part. The chosen :math:`\kappa` is the smallest one with
    ``val_success_on_correct >= goal`` and every perturbation inside the :math:`\ell_\infty` ball
    of radius ``eps``; when none reaches ``goal``, the one with the highest
    ``val_success_on_correct`` (the smallest on a tie), with ``goal_reached`` False.

    Returns ``(kappa, rows)``: one row per grid value, in grid order, with ``kappa``,
    ``val_success_rate``, ``val_success_on_correct``, ``val_clean_correct``, ``val_l2``,
    ``val_linf``, ``fit_seconds`` (training time of that G), ``goal_reached`` (this value reaches the goal) and
    ``selected``. The target is frozen in place. A ``generators`` dict is filled with each grid
    value's trained G, so that the caller can attack with the generator that was validated (a G
    retrained with the chosen margin is another GAN run, and GAN runs vary).

    With ``target_class`` t the generators are targeted (:func:`train_advgan`'s ``target_class``)
    and the score is ``val_targeted_success`` (:func:`companion.advgan.metrics.targeted_success_rate`
    on the validation digits of the other classes) in place of ``val_success_on_correct``.
    """
    check_images(x)
    check_labels(x, y)
    kappas = list(kappas)
    if not kappas:
        raise ValueError("kappas must hold at least one margin, got an empty grid")
    for k in kappas:
        check_kappa(k, "every kappa of the grid")
    if len(set(kappas)) != len(kappas):
        raise ValueError(f"kappas must be distinct, got {kappas}")
    if not 0 < goal <= 1:
        raise ValueError(f"goal must be in (0, 1] (a success rate on validation), got {goal!r}")
    fit, val = validation_split(len(x), val_fraction, seed)
    x_fit, y_fit, x_val, y_val = x[fit], y[fit], x[val], y[val]
    rows: list[dict[str, Any]] = []
    score_key = "val_success_on_correct" if target_class is None else "val_targeted_success"
    for kappa in kappas:
        with utils.Timer() as t:
            g, _ = train_advgan(target, x_fit, y_fit, eps=eps, kappa=float(kappa), seed=seed,
                                target_class=target_class, **train_kw)
        if generators is not None:
            generators[float(kappa)] = g
        with torch.no_grad():
            x_adv = adversarial_example(g, x_val)
        norms = perturbation_norms(x_val, x_adv)
        if target_class is None:
            on_correct = success_on_correct(target, x_val, x_adv, y_val)
            score, extra = on_correct["success_on_correct"], {"val_clean_correct": on_correct["clean_correct"]}
        else:
            score, extra = targeted_success_rate(target, x_adv, y_val, target_class), {"target_class": target_class}
        rows.append({
            "kappa": float(kappa),
            "val_success_rate": (predict(target, x_adv) != y_val).float().mean().item(),
            score_key: score,
            **extra,
            "val_l2": norms["l2"],
            "val_linf": norms["linf_max"],
            "fit_seconds": t.seconds,
            "goal_reached": score is not None and score >= goal and norms["linf_max"] <= eps + 1e-6,
        })
    reached = [r for r in rows if r["goal_reached"]]
    if reached:
        best = min(reached, key=lambda r: r["kappa"])
    else:
        best = max(rows, key=lambda r: (-1.0 if r[score_key] is None else r[score_key], -r["kappa"]))
    for r in rows:
        r["selected"] = r is best
    return best["kappa"], rows
