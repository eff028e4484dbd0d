"""The chapter's table: FGSM, PGD and AdvGAN (semi-white-box, black-box) against an undefended and a
PGD-adversarially-trained target, with success rate, perturbation size and time per example.

Every attack row has two success rates: ``success_rate`` (share of all test digits misclassified
after the attack, the number the chapter has always reported) and ``success_on_correct`` (share of
the ``clean_correct`` digits the target got right before the attack that it gets wrong after).
Options, all off by default so that the default run is unchanged: a C&W margin ``kappa`` for both
AdvGAN attacks, a ``kappa_grid`` that picks the semi-white-box margin on a validation split of the
training images (:mod:`companion.advgan.selection`), ``defense_from_scratch``, which trains
the defended target with PGD from a random initialisation instead of fine-tuning the undefended one,
and ``at_warmup_epochs``, which grows the adversarial-training budget linearly over its first epochs
(without it, training from scratch at eps 0.3 collapsed to a constant prediction in our short runs).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch

from companion import data, utils
from companion.advgan.attacks import fgsm, pgd
from companion.advgan.defense import adversarial_training
from companion.advgan.metrics import attack_success_rate, perturbation_norms, success_on_correct, time_per_example
from companion.advgan.networks import adversarial_example
from companion.advgan.selection import select_kappa
from companion.advgan.targets import TARGET_NAMES, target_model
from companion.advgan.trainer import blackbox_query, train_advgan, train_advgan_blackbox, train_classifier

MODES = ("semiwhitebox", "blackbox", "all", "targeted")


@dataclass
class Config:
    """Settings of one table run (defaults: the committed CLI run; the notebook and tests shrink them)."""

    data: str = "mnist5k"
    mode: str = "all"
    eps: float = 0.3
    target: str = "A"
    distilled: str = "A"
    n_train: int | None = None      # None: the whole training split
    n_test: int | None = None
    target_epochs: int = 3
    at_epochs: int = 3
    at_steps: int = 5
    pgd_steps: int = 20
    pgd_alpha: float = 0.025
    gan_epochs: int = 8
    static_epochs: int = 3
    width: int = 4
    alpha: float = 0.1
    beta: float = 0.1
    c: float = 3.0
    kappa: float = 0.0              # C&W margin of both AdvGAN attacks (0: the committed run)
    kappa_grid: tuple[float, ...] | None = None  # if set: semi-white-box kappa picked on validation
    val_fraction: float = 0.2       # share of the training images held out to pick kappa
    kappa_goal: float = 0.95        # validation success_on_correct the picked kappa must reach
    refit: bool = False             # with a grid: retrain G with the picked kappa on all training images
                                    # (default: attack with the validated G itself)
    defense_from_scratch: bool = False  # PGD-train the defended target from random init (at_epochs)
    at_warmup_epochs: int = 0       # adversarial training: eps grows linearly over these first epochs
    target_classes: tuple[int, ...] | None = None  # mode targeted: the classes attacked (None: every class)
    seed: int = 0


# (train, test) images of each dataset's fixed split, so that sizes are checked before any loading
SIZES = {"mnist5k": (4000, 1000), "digits": (1400, 397)}
# fields that must be integers >= the bound
_AT_LEAST = {"target_epochs": 1, "at_epochs": 1, "at_steps": 1, "pgd_steps": 1, "gan_epochs": 1,
             "static_epochs": 0, "width": 1, "at_warmup_epochs": 0, "seed": 0}


def config_problems(cfg: Config) -> list[tuple[str, str]]:
    """Every out-of-range field of ``cfg`` as ``(field, message)``; empty when ``cfg`` can run."""
    bad: list[tuple[str, str]] = []
    if cfg.data not in SIZES:
        bad.append(("data", f"must be one of {tuple(SIZES)}, got {cfg.data!r}"))
    if cfg.mode not in MODES:
        bad.append(("mode", f"must be one of {MODES}, got {cfg.mode!r}"))
    for name in ("target", "distilled"):
        if getattr(cfg, name) not in TARGET_NAMES:
            bad.append((name, f"must be one of {TARGET_NAMES}, got {getattr(cfg, name)!r}"))
    for name, low in _AT_LEAST.items():
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            bad.append((name, f"must be an integer >= {low}, got {value!r}"))
    for name in ("eps", "pgd_alpha"):  # l_inf sizes on pixels in [0, 1]
        value = getattr(cfg, name)
        if not isinstance(value, (int, float)) or not 0 < value <= 1:
            bad.append((name, f"must be in (0, 1] (pixels are in [0, 1]), got {value!r}"))
    for name in ("alpha", "beta", "c", "kappa"):  # loss weights, the hinge bound, the C&W margin
        value = getattr(cfg, name)
        if not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            bad.append((name, f"must be a finite number >= 0, got {value!r}"))
    if cfg.kappa_grid is not None:
        grid = cfg.kappa_grid
        if isinstance(grid, (str, bytes)) or not isinstance(grid, (list, tuple)) or not grid or not all(
                isinstance(k, (int, float)) and not isinstance(k, bool) and 0 <= k < float("inf") for k in grid):
            bad.append(("kappa_grid", f"must be a non-empty list of finite numbers >= 0, got {grid!r}"))
        elif len(set(grid)) != len(grid):
            bad.append(("kappa_grid", f"must not repeat a value, got {list(grid)}"))
        elif cfg.mode == "blackbox":
            bad.append(("kappa_grid", "picks the semi-white-box kappa: use it with mode semiwhitebox, all or "
                                      "targeted, got mode 'blackbox' (set the black-box margin with kappa)"))
    if cfg.target_classes is not None:
        classes, n_classes = cfg.target_classes, 10  # both datasets are the ten digits
        if cfg.mode != "targeted":
            bad.append(("target_classes", f"chooses the classes of mode 'targeted', got mode {cfg.mode!r}"))
        elif isinstance(classes, (str, bytes)) or not isinstance(classes, (list, tuple)) or not classes or not all(
                isinstance(c, int) and not isinstance(c, bool) and 0 <= c < n_classes for c in classes):
            bad.append(("target_classes", f"must be a non-empty list of classes 0..{n_classes - 1}, got {classes!r}"))
        elif len(set(classes)) != len(classes):
            bad.append(("target_classes", f"must not repeat a class, got {list(classes)}"))
    if cfg.refit and cfg.kappa_grid is None:
        bad.append(("refit", "retrains the generator validated with kappa_grid: give kappa_grid too"))
    elif cfg.refit and cfg.mode == "targeted":
        bad.append(("refit", "is for the untargeted table: mode 'targeted' attacks with the validated generators"))
    if not isinstance(cfg.val_fraction, (int, float)) or not 0 < cfg.val_fraction < 1:
        bad.append(("val_fraction", f"must be in (0, 1) (a share of the training images), got {cfg.val_fraction!r}"))
    if not isinstance(cfg.kappa_goal, (int, float)) or not 0 < cfg.kappa_goal <= 1:
        bad.append(("kappa_goal", f"must be in (0, 1] (a success rate), got {cfg.kappa_goal!r}"))
    warmup, at_epochs = cfg.at_warmup_epochs, cfg.at_epochs
    if isinstance(warmup, int) and isinstance(at_epochs, int) and warmup > at_epochs:
        bad.append(("at_warmup_epochs", f"must be <= at_epochs ({cfg.at_epochs}), got {cfg.at_warmup_epochs}"))
    if not isinstance(cfg.defense_from_scratch, bool):
        bad.append(("defense_from_scratch", f"must be True or False, got {cfg.defense_from_scratch!r}"))
    for name, part in (("n_train", 0), ("n_test", 1)):
        value = getattr(cfg, name)
        if value is None or cfg.data not in SIZES:
            continue
        most = SIZES[cfg.data][part]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            bad.append((name, f"must be in 1..{most} ({cfg.data} has {most} images in that split), got {value!r}"))
    if cfg.kappa_grid is not None and isinstance(cfg.val_fraction, (int, float)) and 0 < cfg.val_fraction < 1 \
            and cfg.data in SIZES and not any(n == "n_train" for n, _ in bad):
        n = SIZES[cfg.data][0] if cfg.n_train is None else cfg.n_train
        n_val = round(cfg.val_fraction * n)
        if not 1 <= n_val <= n - 1:
            bad.append(("val_fraction", f"{cfg.val_fraction} of {n} training images leaves {n_val} for validation "
                                        f"and {n - n_val} to fit: each part needs at least one image"))
    return bad


def check_config(cfg: Config) -> None:
    """Raise ``ValueError`` naming every out-of-range field of ``cfg`` (before any training)."""
    bad = config_problems(cfg)
    if bad:
        raise ValueError("; ".join(f"{name} {message}" for name, message in bad))


def load_images(name: str, n_train: int | None = None, n_test: int | None = None) -> dict[str, torch.Tensor]:
    """``mnist5k`` (4,000 / 1,000 fixed split) or ``digits`` (8x8, first 1,400 / rest) as image tensors."""
    if name == "mnist5k":
        d = data.load("mnist5k")
    elif name == "digits":
        dd = data.load("digits", images=True)
        d = {"x_train": dd["x"][:1400], "y_train": dd["y"][:1400], "x_test": dd["x"][1400:], "y_test": dd["y"][1400:]}
    else:
        raise ValueError(f"data must be 'mnist5k' or 'digits', got {name!r}")
    for part, n in (("train", n_train), ("test", n_test)):
        # a negative n would slice from the end: x[:-5] is all but five images, not an error
        if n is not None and not 1 <= n <= len(d[f"y_{part}"]):
            raise ValueError(f"n_{part} must be in 1..{len(d[f'y_{part}'])} for {name}, got {n}")
    return {"x_train": d["x_train"][:n_train], "y_train": d["y_train"][:n_train],
            "x_test": d["x_test"][:n_test], "y_test": d["y_test"][:n_test]}


def images_on(cfg: Config, device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
    """``(x_train, y_train, x_test, y_test)`` of ``cfg``'s data and sizes, on ``device``."""
    d = load_images(cfg.data, cfg.n_train, cfg.n_test)
    return tuple(d[k].to(device) for k in ("x_train", "y_train", "x_test", "y_test"))


def train_undefended(cfg: Config, x: torch.Tensor, y: torch.Tensor, device: torch.device | str = "cpu") -> torch.nn.Module:
    """The undefended target of ``cfg`` (architecture ``cfg.target``), trained from ``cfg.seed``: every
    mode of a seed attacks the same weights (on one machine; another CPU may round differently)."""
    utils.seed_everything(cfg.seed)
    model = target_model(cfg.target, tuple(x.shape[1:])).to(device)
    train_classifier(model, x, y, epochs=cfg.target_epochs, lr=2e-3, seed=cfg.seed, desc="target")
    return model


GRID_ATTACK = "AdvGAN semi-white-box kappa grid (validation)"
# the target name of the transfer rows: examples made against the undefended target, scored on a
# second classifier of the same design trained independently (another seed)
TRANSFER = "independent (transfer)"
# the same examples scored on the defended target: black-box attacks by transfer (the MNIST
# challenge's PGD entries attacked its defended model this way)
DEFENDED_TRANSFER = "PGD-trained (transfer)"


def _row(target_name: str, attack: str, model, x, x_adv, y, seconds: float, train_seconds: float = 0.0,
         **extra) -> dict:
    norms = perturbation_norms(x, x_adv)
    asr = attack_success_rate(model, x_adv, y)
    on_correct = success_on_correct(model, x, x_adv, y)
    return {"target": target_name, "attack": attack, "success_rate": asr, "accuracy_under_attack": 1 - asr,
            "l2": norms["l2"], "linf": norms["linf_max"], "ms_per_example": 1000 * seconds,
            "train_seconds": train_seconds, **on_correct, **extra}


def run_table(cfg: Config, progress_desc: str = "table", device: torch.device | str = "cpu") -> tuple[list[dict], dict]:
    """Train both targets, run every attack of ``cfg.mode`` on the test split; rows + clean accuracies.

    Attack rows hold ``success_rate``, ``success_on_correct``, ``clean_correct``, the norms and
    the times; AdvGAN rows also ``kappa`` (and ``kappa_from`` ``"config"`` or ``"validation"``);
    rows of the defended target say how it was trained (``defense``). With ``cfg.kappa_grid``,
    one extra row per grid value and target (attack ``GRID_ATTACK``) holds the validation scores
    of :func:`companion.advgan.selection.select_kappa` and which value was selected; the
    semi-white-box attack then uses the generator that was validated with that value (its
    ``train_seconds`` that G's training), or, with ``cfg.refit``, a G retrained on all training
    images. Modes with the
    black-box attack also train a second classifier of the target's design from another seed and
    score every example made against the undefended target on it (target ``TRANSFER``, a clean
    accuracy under that name too): transfer to an independently trained model. The same examples
    are also scored on the defended target (``DEFENDED_TRANSFER``): transfer attacks on it.
    Images and networks live on ``device``; initialisations and random draws are made on the CPU.
    """
    check_config(cfg)
    if cfg.mode == "targeted":
        raise ValueError("mode 'targeted' has its own table: use companion.advgan.targeted.run_targeted")
    x, y, xt, yt = images_on(cfg, device)
    shape = tuple(x.shape[1:])
    undefended = train_undefended(cfg, x, y, device)
    if cfg.defense_from_scratch:
        # Madry et al.'s recipe: PGD adversarial training from a random initialisation (at_epochs epochs)
        utils.seed_everything(cfg.seed + 2)
        defended = target_model(cfg.target, shape).to(device)
        defense = f"PGD-trained from scratch, {cfg.at_epochs} epochs"
    else:
        # the default: start from the undefended weights and fine-tune on PGD examples
        # (a CPU-budget shortcut: Madry et al. train from scratch for much longer)
        defended = copy.deepcopy(undefended)
        for p in defended.parameters():
            p.requires_grad_(True)
        defense = f"fine-tuned from undefended, {cfg.at_epochs} PGD epochs"
    if cfg.at_warmup_epochs:
        defense += f", eps ramped over the first {cfg.at_warmup_epochs}"
    adversarial_training(defended, x, y, eps=cfg.eps, alpha=2.5 * cfg.eps / cfg.at_steps, steps=cfg.at_steps,
                         epochs=cfg.at_epochs, seed=cfg.seed, warmup_epochs=cfg.at_warmup_epochs)
    clean = {}
    rows: list[dict] = []
    independent = None
    if cfg.mode in ("blackbox", "all"):
        # a second classifier of the same design, from another initialisation and data order: the
        # examples made against the undefended target are replayed on it (transfer)
        utils.seed_everything(cfg.seed + 3)
        independent = target_model(cfg.target, shape).to(device)
        train_classifier(independent, x, y, epochs=cfg.target_epochs, lr=2e-3, seed=cfg.seed + 3,
                         desc="second target")
    made_on_undefended: list[tuple[str, torch.Tensor, float, float, dict]] = []
    gen = torch.Generator().manual_seed(cfg.seed)
    gan_kw = dict(eps=cfg.eps, alpha=cfg.alpha, beta=cfg.beta, c=cfg.c, width=cfg.width, seed=cfg.seed)
    for name, model in utils.progress([("undefended", undefended), ("PGD-trained", defended)], desc=progress_desc):
        extra = {"defense": defense} if model is defended else {}
        clean[name] = 1 - attack_success_rate(model, xt, yt)

        def record(attack: str, x_adv: torch.Tensor, seconds: float, train_seconds: float = 0.0, **kw) -> None:
            rows.append(_row(name, attack, model, xt, x_adv, yt, seconds, train_seconds, **kw, **extra))
            if model is undefended:
                made_on_undefended.append((attack, x_adv, seconds, train_seconds, kw))

        record("FGSM", *time_per_example(lambda z: fgsm(model, z, yt, cfg.eps), xt))
        record(f"PGD-{cfg.pgd_steps}", *time_per_example(
            lambda z: pgd(model, z, yt, cfg.eps, cfg.pgd_alpha, cfg.pgd_steps, generator=gen), xt))
        semi_kappa = cfg.kappa
        if cfg.mode in ("semiwhitebox", "all"):
            kappa_from, g = "config", None
            if cfg.kappa_grid is not None:
                # train one G per kappa on the fit part of the training images, score on the held-out part
                validated: dict[float, torch.nn.Module] = {}
                semi_kappa, grid_rows = select_kappa(model, x, y, cfg.kappa_grid, val_fraction=cfg.val_fraction,
                                                     goal=cfg.kappa_goal, epochs=cfg.gan_epochs,
                                                     generators=validated, **gan_kw)
                kappa_from = "validation"
                rows += [{"target": name, "attack": GRID_ATTACK, **r, **extra} for r in grid_rows]
                if not cfg.refit:  # the generator that was scored on validation, not a new GAN run
                    g = validated[semi_kappa]
                    train_s = next(r["fit_seconds"] for r in grid_rows if r["selected"])
            if g is None:
                with utils.Timer() as t:
                    g, _ = train_advgan(model, x, y, epochs=cfg.gan_epochs, kappa=semi_kappa, **gan_kw)
                train_s = t.seconds
            with torch.no_grad():
                x_adv, s = time_per_example(lambda z: adversarial_example(g, z), xt)
            record("AdvGAN semi-white-box", x_adv, s, train_s, kappa=semi_kappa, kappa_from=kappa_from)
        if cfg.mode in ("blackbox", "all"):
            # The black-box attacker cannot use the target's gradients to pick kappa. With a grid (mode
            # all) it takes the margin picked on validation for the semi-white-box attack on the same
            # target (an attacker could make that choice with label queries on held-out images too);
            # otherwise cfg.kappa.
            bb_kappa, bb_from = cfg.kappa, "config"
            if cfg.kappa_grid is not None and cfg.mode == "all":
                bb_kappa, bb_from = semi_kappa, "validation (semi-white-box)"
            utils.seed_everything(cfg.seed + 1)
            distilled = target_model(cfg.distilled, shape).to(device)
            with utils.Timer() as t:
                g, _, _ = train_advgan_blackbox(blackbox_query(model), distilled, x, y, epochs=cfg.gan_epochs,
                                                static_epochs=cfg.static_epochs, kappa=bb_kappa, **gan_kw)
            with torch.no_grad():
                x_adv, s = time_per_example(lambda z: adversarial_example(g, z), xt)
            record("AdvGAN black-box", x_adv, s, t.seconds, kappa=bb_kappa, kappa_from=bb_from)
    if independent is not None:
        for target_name, model in ((TRANSFER, independent), (DEFENDED_TRANSFER, defended)):
            clean[target_name] = 1 - attack_success_rate(model, xt, yt)
            extra = {"defense": defense} if model is defended else {}
            for attack, x_adv, s, train_s, kw in made_on_undefended:
                rows.append(_row(target_name, attack, model, xt, x_adv, yt, s, train_s, made_against="undefended",
                                 **kw, **extra))
    return rows, clean


def config_dict(cfg: Config) -> dict:
    return asdict(cfg)
