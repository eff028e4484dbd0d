"""One trainer for every combination: plain spiking student, +KD, +activation reg., +logits reg."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from companion import data as datasets
from companion.snn.encoding import encode
from companion.snn.losses import LossConfig, student_loss
from companion.snn.models import build_model
from companion.snn.monitor import SpikeMonitor, spiking_activity
from companion.utils import History, accuracy, seed_everything, train

DATASETS = ("mnist5k", "digits", "cifar10")


def load_split(name: str, n_train: int | None = None, n_test: int | None = None, seed: int = 0,
               val_fraction: float = 0.0, **kwargs: Any) -> dict[str, torch.Tensor]:
    """``x_train, y_train, x_test, y_test`` as images (N, C, H, W) in [0, 1] for a chapter dataset.

    ``n_train``/``n_test`` keep the first rows of a fixed shuffled split (a subset for speed).
    ``digits`` has no official split: 80/20 with ``seed``. ``val_fraction`` > 0 carves a
    validation split (``x_val, y_val``) from the *end* of the (kept) training rows, never from the
    test set; the networks then train on the rest. Extra keywords go to the loader
    (e.g. ``root=`` for ``cifar10``).
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if name not in DATASETS:
        raise ValueError(f"data must be one of {DATASETS}, got {name!r}")
    if name == "digits":
        d = datasets.load("digits", images=True)
        perm = torch.from_numpy(np.random.default_rng(seed).permutation(len(d["y"])))
        cut = int(0.8 * len(perm))
        out = {"x_train": d["x"][perm[:cut]], "y_train": d["y"][perm[:cut]],
               "x_test": d["x"][perm[cut:]], "y_test": d["y"][perm[cut:]]}
    else:
        out = datasets.load(name, **kwargs)
    for part, n in (("train", n_train), ("test", n_test)):
        if n is not None:
            if not 0 < n <= len(out[f"y_{part}"]):
                raise ValueError(f"n_{part} must be in 1..{len(out[f'y_{part}'])}, got {n}")
            out[f"x_{part}"], out[f"y_{part}"] = out[f"x_{part}"][:n], out[f"y_{part}"][:n]
    if val_fraction > 0:
        n_val = int(round(val_fraction * len(out["y_train"])))
        if not 0 < n_val < len(out["y_train"]):
            raise ValueError(f"val_fraction {val_fraction} of {len(out['y_train'])} training rows leaves "
                             f"no validation or no training row")
        keep = len(out["y_train"]) - n_val
        out["x_val"], out["y_val"] = out["x_train"][keep:], out["y_train"][keep:]
        out["x_train"], out["y_train"] = out["x_train"][:keep], out["y_train"][:keep]
    return out


def _batches(n: int, batch_size: int, seed: int):
    def epoch_batches(epoch: int):
        g = torch.Generator().manual_seed(seed * 1000 + epoch)
        return torch.randperm(n, generator=g).split(batch_size)
    return epoch_batches


def train_teacher(split: dict[str, torch.Tensor], arch: str = "mlp", epochs: int = 5, lr: float = 1e-3,
                  batch_size: int = 64, seed: int = 0, desc: str = "teacher", **model_kwargs) -> tuple[nn.Module, History]:
    """Train the conventional teacher (ReLU, ``arch`` and ``model_kwargs`` as :func:`build_model`) with
    cross-entropy; its history records ``test_acc`` (and ``val_acc`` when the split has one).
    The model is made on the split's device (the CLI's ``--device`` moves the split)."""
    seed_everything(seed)
    x, y = split["x_train"], split["y_train"]
    num_classes = int(y.max()) + 1
    model = build_model(arch, x.shape[1:], num_classes, spiking=False, **model_kwargs).to(x.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step(m, idx):
        return F.cross_entropy(m(x[idx]), y[idx])

    def evaluate(m):
        out = {"test_acc": accuracy(m(split["x_test"]), split["y_test"])}
        if "x_val" in split:
            out["val_acc"] = accuracy(m(split["x_val"]), split["y_val"])
        return out

    history = train(model, step, _batches(len(y), batch_size, seed), opt, epochs, evaluate, desc=desc)
    return model, history


def train_student(split: dict[str, torch.Tensor], config: LossConfig, arch: str = "mlp",
                  teacher_logits: torch.Tensor | None = None, num_steps: int = 4, encoding: str = "direct",
                  epochs: int = 5, lr: float = 2e-3, batch_size: int = 64, seed: int = 0,
                  reg_warmup: int = 1, desc: str | None = None, **model_kwargs) -> tuple[nn.Module, History]:
    """Train a spiking student with the loss ``config`` (any combination of KD, act. and logits reg.).

    The regularizers switch on after ``reg_warmup`` epochs: a fresh network's output layer is
    silent, and a spike penalty from the first step silences the hidden layers before the task
    loss can wake the output up (we saw every neuron die at any lambda without the warm-up).

    ``teacher_logits`` (N_train, C) are the fixed teacher's outputs on ``split["x_train"]`` (computed
    once: the teacher does not change). Activation regularization acts on the hidden LIF layers;
    the logits regularizer on the logits (with ``readout="spike"`` these are the output spikes).
    The model is made on the split's device; batch order and rate-coded spikes are drawn on the CPU.
    """
    x, y = split["x_train"], split["y_train"]
    num_classes = int(y.max()) + 1
    if config.kd:
        if teacher_logits is None:
            raise ValueError("a KD loss needs teacher_logits (N_train, C)")
        if teacher_logits.shape != (len(y), num_classes):
            raise ValueError(f"teacher_logits must be ({len(y)}, {num_classes}) to match the student's "
                             f"training set and classes, got {tuple(teacher_logits.shape)}")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if reg_warmup < 0:
        raise ValueError(f"reg_warmup must be >= 0, got {reg_warmup}")
    # the warm-up only delays the regularizers: a plain or KD-only student may train one epoch
    if (config.act_lambda > 0 or config.logits_lambda > 0) and reg_warmup >= epochs:
        raise ValueError(f"reg_warmup must be < epochs = {epochs} for a regularized loss "
                         f"({config.name}): no epoch would apply the regularizer, got {reg_warmup}")
    gen = seed_everything(seed)
    model = build_model(arch, x.shape[1:], num_classes, spiking=True, **model_kwargs).to(x.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    monitor = SpikeMonitor(model)
    # activation regularization acts on the hidden LIF layers; a spiking readout's own LIF layer
    # (the last one) is the logits, which the logits regularizer handles
    hidden = list(monitor._steps)[:-1] if getattr(model, "readout", "mean") == "spike" else list(monitor._steps)
    task_only = replace(config, act_lambda=0.0, logits_lambda=0.0)
    epoch_now = [0]
    shuffled = _batches(len(y), batch_size, seed)

    def batches(epoch):
        epoch_now[0] = epoch
        return shuffled(epoch)

    def step(m, idx):
        monitor.reset()
        logits = m(encode(x[idx], num_steps, encoding, gen))
        counts = monitor.counts()
        cfg = config if epoch_now[0] >= reg_warmup else task_only
        terms = student_loss(logits, y[idx], cfg, {k: counts[k] for k in hidden}, num_steps,
                             None if teacher_logits is None else teacher_logits[idx])
        terms["rate"] = torch.tensor(spiking_activity(monitor.spikes)["rate"])
        return terms

    try:
        history = train(model, step, batches, opt, epochs,
                         desc=desc or f"student ({config.name})")
    finally:
        monitor.remove()
    return model, history


@torch.no_grad()
def evaluate_student(model: nn.Module, x: torch.Tensor, y: torch.Tensor, num_steps: int = 4,
                     encoding: str = "direct", batch_size: int = 500, seed: int = 0) -> dict[str, float]:
    """Accuracy and activity on ``x, y`` (``rate``: spikes/neuron/step, ``spikes_per_sample``,
    per-layer rates), and ``tied_argmax``: the fraction of inputs whose largest logit is shared
    by two or more classes (spike-count logits tie often; ``accuracy`` then takes the first)."""
    if len(x) != len(y) or len(y) == 0:
        raise ValueError(f"x and y must be non-empty and of equal length, got {len(x)} and {len(y)}")
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    correct, tied, sums, n = 0.0, 0.0, {}, 0
    with SpikeMonitor(model) as monitor:
        for i in range(0, len(y), batch_size):
            monitor.reset()
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            logits = model(encode(xb, num_steps, encoding, gen))
            correct += accuracy(logits, yb) * len(yb)
            top2 = logits.topk(2, dim=1).values
            tied += float((top2[:, 0] == top2[:, 1]).sum())
            for k, v in spiking_activity(monitor.spikes).items():
                sums[k] = sums.get(k, 0.0) + v * len(yb)
            n += len(yb)
    return {"accuracy": correct / n, **{k: v / n for k, v in sums.items()}, "tied_argmax": tied / n}


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """A conventional model's logits on ``x`` in eval mode, batched (N, C)."""
    model.eval()
    return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def run_variant(split: dict[str, torch.Tensor], config: LossConfig, teacher_logits: torch.Tensor | None,
                seed: int, eval_on: str = "test", **kwargs: Any) -> dict[str, float]:
    """Train one student and return its metrics on ``eval_on`` ("test" or "val"): one table row."""
    if eval_on not in ("test", "val") or f"x_{eval_on}" not in split:
        raise ValueError(f"eval_on must be 'test' or 'val' (a split with x_val), got {eval_on!r}")
    model, history = train_student(split, config, teacher_logits=teacher_logits, seed=seed, **kwargs)
    keep = {k: kwargs[k] for k in ("num_steps", "encoding") if k in kwargs}
    metrics = evaluate_student(model, split[f"x_{eval_on}"], split[f"y_{eval_on}"], seed=seed, **keep)
    return {"loss": config.name, "seed": seed, **metrics}


def summarize(rows: Sequence[dict[str, Any]], key: str = "loss") -> list[dict[str, Any]]:
    """Mean and sample std (ddof=1; ``None`` for one seed) over seeds per ``key`` group, with the
    activity change against ``plain`` in %."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r[key], []).append(r)
    out = []
    for name, rs in groups.items():
        row: dict[str, Any] = {key: name, "seeds": len(rs)}
        for metric in ("accuracy", "rate", "spikes_per_sample"):
            vals = np.array([r[metric] for r in rs], dtype=float)
            row[f"{metric}_mean"] = float(vals.mean())
            row[f"{metric}_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else None
        out.append(row)
    base = next((r for r in out if r[key] == "plain"), None)
    for r in out:
        if base is not None:
            r["activity_change_pct"] = 100.0 * (r["rate_mean"] / base["rate_mean"] - 1.0)
            r["accuracy_change_pts"] = 100.0 * (r["accuracy_mean"] - base["accuracy_mean"])
    return out


def choose_from_sweep(rows: Sequence[dict[str, Any]], field: str, tolerance: float = 0.01) -> dict[str, Any]:
    """The chapter's selection rule, on *validation* rows of a sweep (per-seed dicts).

    ``field == "temperature"``: the temperature with the highest mean accuracy (ties: the lower
    mean rate). A regularizer weight (``act_lambda``, ``logits_lambda``): the *largest* weight
    whose mean accuracy is at least the plain student's mean accuracy (rows with method
    ``"plain"``) minus ``tolerance``. Returns ``{"field", "value", "rule", "grid"}`` where
    ``grid`` lists each value's mean accuracy and rate.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    grid: dict[float, list[dict[str, Any]]] = {}
    for r in rows:
        if field in r:
            grid.setdefault(float(r[field]), []).append(r)
    if not grid:
        raise ValueError(f"no row carries {field!r}: not a sweep over it")
    stats = [{"value": v, "accuracy": float(np.mean([r["accuracy"] for r in rs])),
              "rate": float(np.mean([r["rate"] for r in rs])), "seeds": len(rs)} for v, rs in sorted(grid.items())]
    if field == "temperature":
        best = max(stats, key=lambda s: (s["accuracy"], -s["rate"]))
        rule = "highest mean validation accuracy (ties: lower rate)"
        return {"field": field, "value": best["value"], "rule": rule, "grid": stats}
    plain = [r["accuracy"] for r in rows if r.get("method") == "plain"]
    if not plain:
        raise ValueError("a regularizer sweep needs plain rows (the reference accuracy)")
    floor = float(np.mean(plain)) - tolerance
    ok = [s for s in stats if s["accuracy"] >= floor - 1e-12]
    rule = (f"largest weight whose mean validation accuracy >= plain's ({np.mean(plain):.4f}) "
            f"- {tolerance:g}")
    if not ok:  # every weight costs more than the tolerance: keep the smallest one, and say so
        return {"field": field, "value": stats[0]["value"], "rule": rule + " (none qualified: smallest kept)",
                "grid": stats, "plain_accuracy": float(np.mean(plain))}
    return {"field": field, "value": max(s["value"] for s in ok), "rule": rule, "grid": stats,
            "plain_accuracy": float(np.mean(plain))}
