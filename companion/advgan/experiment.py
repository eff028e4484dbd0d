"""The chapter's table: FGSM, PGD and AdvGAN (semi-white-box, black-box) against an undefended and a
PGD-adversarially-trained target, with success rate, perturbation size and time per example."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch

from companion import data, utils
from companion.advgan.attacks import fgsm, pgd
from companion.advgan.defense import adversarial_training
from companion.advgan.metrics import attack_success_rate, perturbation_norms, time_per_example
from companion.advgan.networks import adversarial_example
from companion.advgan.targets import TARGET_NAMES, target_model
from companion.advgan.trainer import blackbox_query, train_advgan, train_advgan_blackbox, train_classifier

MODES = ("semiwhitebox", "blackbox", "all")


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
    seed: int = 0


# (train, test) images of each dataset's fixed split, so that sizes are checked before any loading
SIZES = {"mnist5k": (4000, 1000), "digits": (1400, 397)}
# fields that must be integers >= the bound
_AT_LEAST = {"target_epochs": 1, "at_epochs": 1, "at_steps": 1, "pgd_steps": 1, "gan_epochs": 1,
             "static_epochs": 0, "width": 1, "seed": 0}


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
    for name in ("alpha", "beta", "c"):  # loss weights and the hinge bound
        value = getattr(cfg, name)
        if not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            bad.append((name, f"must be a finite number >= 0, got {value!r}"))
    for name, part in (("n_train", 0), ("n_test", 1)):
        value = getattr(cfg, name)
        if value is None or cfg.data not in SIZES:
            continue
        most = SIZES[cfg.data][part]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            bad.append((name, f"must be in 1..{most} ({cfg.data} has {most} images in that split), got {value!r}"))
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


def _row(target_name: str, attack: str, model, x, x_adv, y, seconds: float, train_seconds: float = 0.0) -> dict:
    norms = perturbation_norms(x, x_adv)
    asr = attack_success_rate(model, x_adv, y)
    return {"target": target_name, "attack": attack, "success_rate": asr, "accuracy_under_attack": 1 - asr,
            "l2": norms["l2"], "linf": norms["linf_max"], "ms_per_example": 1000 * seconds,
            "train_seconds": train_seconds}


def run_table(cfg: Config, progress_desc: str = "table") -> tuple[list[dict], dict]:
    """Train both targets, run every attack of ``cfg.mode`` on the test split; rows + clean accuracies."""
    check_config(cfg)
    d = load_images(cfg.data, cfg.n_train, cfg.n_test)
    x, y, xt, yt = d["x_train"], d["y_train"], d["x_test"], d["y_test"]
    shape = tuple(x.shape[1:])
    utils.seed_everything(cfg.seed)
    undefended = target_model(cfg.target, shape)
    train_classifier(undefended, x, y, epochs=cfg.target_epochs, lr=2e-3, seed=cfg.seed, desc="target")
    # the defended target starts from the undefended weights and is fine-tuned on PGD examples
    # (a CPU-budget shortcut: Madry et al. train from scratch for much longer)
    defended = copy.deepcopy(undefended)
    for p in defended.parameters():
        p.requires_grad_(True)
    adversarial_training(defended, x, y, eps=cfg.eps, alpha=2.5 * cfg.eps / cfg.at_steps, steps=cfg.at_steps,
                         epochs=cfg.at_epochs, seed=cfg.seed)
    clean = {}
    rows: list[dict] = []
    gen = torch.Generator().manual_seed(cfg.seed)
    gan_kw = dict(eps=cfg.eps, alpha=cfg.alpha, beta=cfg.beta, c=cfg.c, width=cfg.width, seed=cfg.seed)
    for name, model in utils.progress([("undefended", undefended), ("PGD-trained", defended)], desc=progress_desc):
        clean[name] = 1 - attack_success_rate(model, xt, yt)
        x_adv, s = time_per_example(lambda z: fgsm(model, z, yt, cfg.eps), xt)
        rows.append(_row(name, "FGSM", model, xt, x_adv, yt, s))
        x_adv, s = time_per_example(
            lambda z: pgd(model, z, yt, cfg.eps, cfg.pgd_alpha, cfg.pgd_steps, generator=gen), xt)
        rows.append(_row(name, f"PGD-{cfg.pgd_steps}", model, xt, x_adv, yt, s))
        if cfg.mode in ("semiwhitebox", "all"):
            with utils.Timer() as t:
                g, _ = train_advgan(model, x, y, epochs=cfg.gan_epochs, **gan_kw)
            with torch.no_grad():
                x_adv, s = time_per_example(lambda z: adversarial_example(g, z), xt)
            rows.append(_row(name, "AdvGAN semi-white-box", model, xt, x_adv, yt, s, t.seconds))
        if cfg.mode in ("blackbox", "all"):
            utils.seed_everything(cfg.seed + 1)
            distilled = target_model(cfg.distilled, shape)
            with utils.Timer() as t:
                g, _, _ = train_advgan_blackbox(blackbox_query(model), distilled, x, y, epochs=cfg.gan_epochs,
                                                static_epochs=cfg.static_epochs, **gan_kw)
            with torch.no_grad():
                x_adv, s = time_per_example(lambda z: adversarial_example(g, z), xt)
            rows.append(_row(name, "AdvGAN black-box", model, xt, x_adv, yt, s, t.seconds))
    return rows, clean


def config_dict(cfg: Config) -> dict:
    return asdict(cfg)
