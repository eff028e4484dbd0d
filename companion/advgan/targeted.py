"""Targeted attacks: one AdvGAN generator per target class, beside targeted PGD and random noise.

The paper writes its adversarial loss for a target class t (the C&W form
:math:`\\max(\\max_{j \\ne t} Z_j - Z_t, -\\kappa)`) and shows targeted MNIST examples for every
class. Its generator takes only the image, so a targeted AdvGAN is one generator per class. This
table attacks the undefended target of :func:`companion.advgan.experiment.train_undefended` (the
same code, recipe and seed as the untargeted table's target: the same weights on one machine) with,
for every target class t:

- ``no attack``: the share of clean test digits of another class that the target already calls t,
- ``random sign noise``: every pixel moved by +-eps at random (the trivial attack of the same size),
- ``PGD-<steps> targeted``: projected gradient descent on the cross-entropy of t (white-box,
  ``steps`` gradients per image),
- ``AdvGAN targeted``: a semi-white-box generator trained against the target towards t,

and once per seed the untargeted ``AdvGAN semi-white-box`` generator with the same settings, so
that targeted and untargeted success are measured on one target. ``targeted_success`` counts
only test digits whose true class is not t (:func:`companion.advgan.metrics.targeted_success_rate`);
``misclassified_others`` is the misclassification on those same digits, comparable with the
untargeted generator's ``success_rate``. With ``cfg.kappa_grid`` every generator's margin (each
class's and the untargeted one's) is chosen on a validation split of the training digits by
:func:`companion.advgan.selection.select_kappa` (smallest margin reaching ``cfg.kappa_goal``), and
the generator validated with it attacks; the grid's rows are kept (attack :data:`GRID`).
"""

from __future__ import annotations

import torch

from companion import utils
from companion.advgan.attacks import pgd
from companion.advgan.experiment import Config, check_config, images_on, train_undefended
from companion.advgan.metrics import attack_success_rate, perturbation_norms, targeted_success_rate, time_per_example
from companion.advgan.networks import adversarial_example
from companion.advgan.selection import select_kappa
from companion.advgan.trainer import train_advgan

CLASSES = tuple(range(10))
CLEAN = "no attack"
NOISE = "random sign noise"
ADVGAN = "AdvGAN targeted"
UNTARGETED = "AdvGAN semi-white-box"
GRID = "AdvGAN kappa grid (validation)"
MEAN_SETTING = "mean over target classes"  # the per-seed mean of the per-class rows


def pgd_name(cfg: Config) -> str:
    return f"PGD-{cfg.pgd_steps} targeted"


def _row(model: torch.nn.Module, attack: str, t: int | None, x: torch.Tensor, x_adv: torch.Tensor,
         y: torch.Tensor, seconds: float = 0.0, train_seconds: float = 0.0) -> dict:
    norms = perturbation_norms(x, x_adv)
    row = {"attack": attack, "success_rate": attack_success_rate(model, x_adv, y), "l2": norms["l2"],
           "linf": norms["linf_max"], "ms_per_example": 1000 * seconds, "train_seconds": train_seconds}
    if t is not None:
        others = y != t
        row = {"target_class": t, "targeted_success": targeted_success_rate(model, x_adv, y, t),
               "misclassified_others": attack_success_rate(model, x_adv[others], y[others]) if others.any() else None,
               **row}
    return row


def _generator(cfg: Config, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, t: int | None,
               grid_rows: list[dict]) -> tuple[torch.nn.Module, float, dict]:
    """The generator that attacks (targeted towards ``t``, untargeted for None), its training seconds
    and how its margin was set; with ``cfg.kappa_grid`` the one validated with the chosen margin
    (each grid point's row appended to ``grid_rows``)."""
    kw = dict(eps=cfg.eps, alpha=cfg.alpha, beta=cfg.beta, c=cfg.c, width=cfg.width, seed=cfg.seed,
              epochs=cfg.gan_epochs)
    if cfg.kappa_grid is None:
        with utils.Timer() as timer:
            g, _ = train_advgan(model, x, y, kappa=cfg.kappa, target_class=t, **kw)
        return g, timer.seconds, {"kappa": cfg.kappa, "kappa_from": "config"}
    validated: dict[float, torch.nn.Module] = {}
    kappa, rows = select_kappa(model, x, y, cfg.kappa_grid, val_fraction=cfg.val_fraction, goal=cfg.kappa_goal,
                               generators=validated, target_class=t, **kw)
    setting = "untargeted" if t is None else f"target {t}"
    grid_rows += [{"setting": setting, "attack": GRID, **r} for r in rows]
    seconds = next(r["fit_seconds"] for r in rows if r["selected"])
    return validated[kappa], seconds, {"kappa": kappa, "kappa_from": "validation"}


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def run_targeted(cfg: Config, device: torch.device | str = "cpu", progress_desc: str = "target classes") -> list[dict]:
    """Every attack of the module docstring on ``cfg``'s test split, for each of ``cfg.target_classes``
    (default every class); returns one row per class and attack (``setting`` ``"target t"``), their
    per-seed means (``setting`` :data:`MEAN_SETTING`) and the untargeted reference row (``setting``
    ``"untargeted"``), then, with ``cfg.kappa_grid``, the grid's validation rows. ``cfg.mode`` must be
    ``"targeted"``; without a grid ``cfg.kappa`` is the C&W margin of every generator."""
    check_config(cfg)
    if cfg.mode != "targeted":
        raise ValueError(f"run_targeted needs mode 'targeted', got {cfg.mode!r}")
    x, y, xt, yt = images_on(cfg, device)
    model = train_undefended(cfg, x, y, device)
    classes = CLASSES if cfg.target_classes is None else tuple(cfg.target_classes)
    gen = torch.Generator().manual_seed(cfg.seed)
    rows: list[dict] = []
    grid_rows: list[dict] = []
    g, train_s, margin = _generator(cfg, model, x, y, None, grid_rows)
    with torch.no_grad():
        x_adv, s = time_per_example(lambda z: adversarial_example(g, z), xt)
    rows.append({"setting": "untargeted", **_row(model, UNTARGETED, None, xt, x_adv, yt, s, train_s), **margin})
    per_class: list[dict] = []
    for t in utils.progress(classes, desc=progress_desc):
        wanted = torch.full_like(yt, t)
        per_class.append(_row(model, CLEAN, t, xt, xt, yt))
        # drawn on the CPU from the seeded generator, then moved beside the images
        signs = torch.randint(0, 2, xt.shape, generator=gen).to(xt.device) * 2.0 - 1.0
        per_class.append(_row(model, NOISE, t, xt, (xt + cfg.eps * signs).clamp(0, 1), yt))
        x_adv, s = time_per_example(
            lambda z: pgd(model, z, wanted, cfg.eps, cfg.pgd_alpha, cfg.pgd_steps, generator=gen, targeted=True), xt)
        per_class.append(_row(model, pgd_name(cfg), t, xt, x_adv, yt, s))
        g, train_s, margin = _generator(cfg, model, x, y, t, grid_rows)
        with torch.no_grad():
            x_adv, s = time_per_example(lambda z: adversarial_example(g, z), xt)
        per_class.append({**_row(model, ADVGAN, t, xt, x_adv, yt, s, train_s), **margin})
    rows += [{"setting": f"target {r['target_class']}", **r} for r in per_class]
    for attack in (CLEAN, NOISE, pgd_name(cfg), ADVGAN):
        mine = [r for r in per_class if r["attack"] == attack]
        # a class with no test digit of another class has no targeted success (None): left out of its mean
        mean = {k: _mean([r[k] for r in mine]) for k in ("targeted_success", "misclassified_others", "success_rate",
                                                          "l2", "linf", "ms_per_example", "train_seconds")}
        rows.append({"setting": MEAN_SETTING, "attack": attack, "classes": list(classes), **mean})
    return [{**r, "method": r["attack"], "seed": cfg.seed} for r in rows + grid_rows]

