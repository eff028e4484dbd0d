"""Splits, the trainer for KGCN / KGCN-LS and BPR-MF, and the evaluation of a fitted model."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np
import torch
from torch.nn import functional as F

from companion.data.kg_recsys import KGRecData
from companion.kgcn.baselines import BPRMF, Popularity, bpr_loss
from companion.kgcn.metrics import auc_score, f1_at_half, recall_at_k
from companion.kgcn.model import KGCN, InteractionTable, label_smoothness_loss
from companion.kgcn.sampling import build_adjacency
from companion.utils import History, seed_everything, train


@dataclass
class KGCNConfig:
    """Hyperparameters (names as in the official ``main.py``)."""

    dim: int = 16
    n_iter: int = 2
    neighbor_sample_size: int = 8
    aggregator: str = "sum"
    ls_weight: float = 1.0
    l2_weight: float = 1e-3
    lr: float = 2e-2
    batch_size: int = 64
    n_epochs: int = 15

    def __post_init__(self) -> None:
        if self.ls_weight < 0 or self.l2_weight < 0 or self.lr <= 0:
            raise ValueError(f"ls_weight and l2_weight must be >= 0 and lr > 0, got "
                             f"{self.ls_weight}, {self.l2_weight}, {self.lr}")
        if min(self.dim, self.n_iter, self.neighbor_sample_size, self.batch_size, self.n_epochs) < 1:
            raise ValueError("dim, n_iter, neighbor_sample_size, batch_size and n_epochs must be >= 1")


def split_ratings(ratings: np.ndarray, seed: int = 0, ratios: Sequence[float] = (0.6, 0.2, 0.2)
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random train / eval / test split of the rating rows (6:2:2 as in ``data_loader.py``)."""
    if len(ratios) != 3 or min(ratios) < 0 or not np.isclose(sum(ratios), 1.0):
        raise ValueError(f"ratios must be three non-negative shares summing to 1, got {list(ratios)}")
    n = len(ratings)
    perm = np.random.default_rng(seed).permutation(n)
    a, b = int(ratios[0] * n), int((ratios[0] + ratios[1]) * n)
    return ratings[perm[:a]], ratings[perm[a:b]], ratings[perm[b:]]


def subsample(train_rows: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """Keep a random ``fraction`` of the training rows (the sparse-interaction experiment)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    keep = rng.permutation(len(train_rows))[: max(1, int(round(fraction * len(train_rows))))]
    return train_rows[np.sort(keep)]


def _batches(n: int, batch_size: int, seed: int, steps: int | None = None):
    def epoch_batches(epoch: int):
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1000 + epoch))
        batches = perm.split(batch_size)
        if steps is not None:  # the last epoch stops when the step budget is spent
            batches = batches[: steps - epoch * len(batches)]
        return batches
    return epoch_batches


def epochs_for_steps(steps: int, n_rows: int, batch_size: int) -> int:
    """Epochs that a budget of ``steps`` optimiser steps takes.

    ``ceil(steps / batches per epoch)`` with ``ceil(n_rows / batch_size)`` batches per
    epoch; the last epoch is cut short so that exactly ``steps`` steps are taken."""
    if min(steps, n_rows, batch_size) < 1:
        raise ValueError(f"steps, n_rows and batch_size must be >= 1, got "
                         f"{steps}, {n_rows}, {batch_size}")
    return math.ceil(steps / math.ceil(n_rows / batch_size))


def _device_of(model: torch.nn.Module) -> torch.device:
    """Where ``model``'s weights (or, for :class:`Popularity`, its counts) are."""
    return next(iter([*model.parameters(), *model.buffers()])).device


@torch.no_grad()
def predict(model: torch.nn.Module, users: torch.Tensor, items: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """Click probabilities ``sigmoid(model(users, items))`` computed in chunks, (N,), on the model's device."""
    model.eval()
    dev = _device_of(model)
    return torch.cat([torch.sigmoid(model(u.to(dev), i.to(dev))) for u, i in zip(users.split(chunk), items.split(chunk))]) \
        if len(users) else torch.empty(0)


def evaluate_ctr(model: torch.nn.Module, ratings: np.ndarray) -> dict[str, float]:
    """AUC and F1 (threshold 0.5) of the model on rating rows ``(user, item, label)``."""
    r = torch.as_tensor(np.asarray(ratings), dtype=torch.long)
    p = predict(model, r[:, 0], r[:, 1])
    return {"auc": auc_score(r[:, 2], p), "f1": f1_at_half(r[:, 2], p)}


def _fit(model, step, n_rows, batch_size, lr, epochs, seed, eval_rows, desc,
         steps=None) -> tuple[torch.nn.Module, History]:
    """Adam on ``step``; keep the parameters of the epoch with the best eval AUC (model
    selection).

    ``steps``: train for exactly this many optimiser steps instead of ``epochs`` epochs
    (:func:`epochs_for_steps`)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    best = {"auc": -1.0, "state": None}

    def evaluate(m):
        if eval_rows is None:
            return {}
        metrics = evaluate_ctr(m, eval_rows)
        if metrics["auc"] > best["auc"]:
            best.update(auc=metrics["auc"], state=copy.deepcopy(m.state_dict()))
        return {"eval_auc": metrics["auc"]}

    if steps is not None:
        epochs = epochs_for_steps(steps, n_rows, batch_size)
    batches = _batches(n_rows, batch_size, seed, steps)
    history = train(model, step, batches, optimizer, epochs, evaluate=evaluate,
                    desc=desc)
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    model.eval()
    return model, history


def fit_kgcn(data: KGRecData, train_rows: np.ndarray, config: KGCNConfig | None = None, seed: int = 0,
             eval_rows: np.ndarray | None = None, adjacency: tuple[torch.Tensor, torch.Tensor] | None = None,
             desc: str = "KGCN", steps: int | None = None, device: torch.device | str = "cpu"
             ) -> tuple[KGCN, History]:
    """Train KGCN (``config.ls_weight = 0``) or KGCN-LS on ``train_rows``, on ``device``.

    ``steps``: an optimiser-step budget that replaces ``config.n_epochs``.

    Loss per batch (official ``_build_train``): ``BCE(u . v_u, y) + l2_weight * L2 + ls_weight * LS``.
    """
    config = config or KGCNConfig()
    if len(train_rows) == 0:
        raise ValueError("train_rows is empty")
    seed_everything(seed)
    if adjacency is None:
        adjacency = build_adjacency(data.kg, data.n_entities, config.neighbor_sample_size, seed=seed)
    model = KGCN(data.n_users, data.n_entities, data.n_relations, *adjacency, dim=config.dim,
                 n_iter=config.n_iter, aggregator=config.aggregator).to(device)
    rows = torch.as_tensor(np.asarray(train_rows), dtype=torch.long)
    table = InteractionTable(rows, data.n_entities).to(device)
    rows = rows.to(device)  # batch indices are drawn on the CPU and index it there

    def step(m, idx):
        u, i, y = rows[idx, 0], rows[idx, 1], rows[idx, 2].float()
        base = F.binary_cross_entropy_with_logits(m(u, i), y)
        loss = base + config.l2_weight * m.l2_loss(u, i)
        out = {"bce": base}
        if config.ls_weight > 0:
            ls = label_smoothness_loss(m, u, i, y, table)
            loss = loss + config.ls_weight * ls
            out["ls"] = ls
        out["loss"] = loss
        return out

    return _fit(model, step, len(rows), config.batch_size, config.lr, config.n_epochs,
                seed, eval_rows, desc, steps)


BPRMF_L2 = 1e-4  # BPR-MF's L2 weight when it is not tuned


def fit_bprmf(n_users: int, n_items: int, train_rows: np.ndarray, dim: int = 16, lr: float = 1e-2,
              n_epochs: int = 15, l2_weight: float = BPRMF_L2, batch_size: int = 256, seed: int = 0,
              eval_rows: np.ndarray | None = None, steps: int | None = None, device: torch.device | str = "cpu"
              ) -> tuple[BPRMF, History]:
    """Train BPR-MF on the positive training rows, one uniformly drawn negative item per
    positive (drawn on the CPU), on ``device``.

    ``steps``: an optimiser-step budget that replaces ``n_epochs``."""
    rows = np.asarray(train_rows)
    pos = torch.as_tensor(rows[rows[:, 2] == 1][:, :2], dtype=torch.long, device=device)
    if len(pos) == 0:
        raise ValueError("train_rows has no positive interaction to learn from")
    seed_everything(seed)
    model = BPRMF(n_users, n_items, dim).to(device)
    gen = torch.Generator().manual_seed(seed)

    def step(m, idx):
        neg = torch.randint(0, n_items, (len(idx),), generator=gen).to(device)
        return bpr_loss(m, pos[idx, 0], pos[idx, 1], neg, l2_weight)

    return _fit(model, step, len(pos), batch_size, lr, n_epochs, seed, eval_rows,
                "BPR-MF", steps)


def fit_mf(n_users: int, n_items: int, train_rows: np.ndarray, dim: int = 16, lr: float = 1e-2,
           n_epochs: int = 15, l2_weight: float = BPRMF_L2, batch_size: int = 256, seed: int = 0,
           eval_rows: np.ndarray | None = None, steps: int | None = None, device: torch.device | str = "cpu"
           ) -> tuple[BPRMF, History]:
    """A matrix factorisation without the KG trained the way KGCN is: cross-entropy on the
    labelled training rows (the rating file's fixed negatives), the same batches and selection.

    The model is BPR-MF's (``p_u . q_i + b_i``), so this differs from :func:`fit_bprmf` only in
    the recipe (no pairwise loss, no fresh negatives): the control that separates the knowledge
    graph from BPR-MF's training recipe. ``l2_weight`` as in :func:`bpr_loss` (per batch row)."""
    rows = torch.as_tensor(np.asarray(train_rows), dtype=torch.long, device=device)
    if len(rows) == 0:
        raise ValueError("train_rows is empty")
    seed_everything(seed)
    model = BPRMF(n_users, n_items, dim).to(device)

    def step(m, idx):
        u, i, y = rows[idx, 0], rows[idx, 1], rows[idx, 2].float()
        reg = (m.user_emb(u) ** 2).sum() + (m.item_emb(i) ** 2).sum()
        bce = F.binary_cross_entropy_with_logits(m(u, i), y)
        return {"bce": bce, "loss": bce + l2_weight * reg / len(idx)}

    return _fit(model, step, len(rows), batch_size, lr, n_epochs, seed, eval_rows, "MF", steps)


def evaluate_model(model: torch.nn.Module, train_rows: np.ndarray, test_rows: np.ndarray, n_items: int,
                   ks: Sequence[int] = (5, 10, 20), n_users: int = 100, seed: int = 0) -> dict[str, float]:
    """CTR metrics on ``test_rows`` and Recall@K over all items not seen in training."""
    out = evaluate_ctr(model, test_rows)
    recalls = recall_at_k(lambda u, i: predict(model, u, i), train_rows, test_rows, n_items, ks, n_users, seed)
    out.update({f"recall@{k}": v for k, v in recalls.items()})
    return out


MODELS = ("BPR-MF", "KGCN", "KGCN-LS")   # the trained models, the CLI's default
EXTRA_MODELS = ("MF",)                  # trained on request: BPR-MF's model with KGCN's recipe (fit_mf)
BASELINES = ("Popularity",)             # untrained reference points, on request
KG_FREE = ("BPR-MF", "MF")              # the models without the knowledge graph


def _fit_named(name: str, data: KGRecData, train_rows: np.ndarray, eval_rows: np.ndarray,
               config: KGCNConfig, seed: int, adjacency, steps: int | None,
               device: torch.device | str = "cpu") -> torch.nn.Module:
    """One trained model (:data:`MODELS`, :data:`EXTRA_MODELS`) with ``config``'s lr, batch, budget and
    L2 weight."""
    if name in KG_FREE:
        fit = fit_bprmf if name == "BPR-MF" else fit_mf
        model, _ = fit(data.n_users, data.n_items, train_rows, dim=config.dim, lr=config.lr,
                       n_epochs=config.n_epochs, batch_size=config.batch_size, seed=seed,
                       eval_rows=eval_rows, steps=steps, l2_weight=config.l2_weight, device=device)
        return model
    cfg = replace(config, ls_weight=config.ls_weight if name == "KGCN-LS" else 0.0)
    model, _ = fit_kgcn(data, train_rows, cfg, seed, eval_rows, adjacency, desc=name, steps=steps, device=device)
    return model


def check_grid(grid: dict[str, Sequence[dict]] | None, models: Sequence[str]) -> None:
    """A tuning grid: for every trained model in ``models``, a non-empty list of settings
    (``{"lr": ..., "l2_weight": ...}``), every list the same length (equal tuning for all)."""
    if grid is None:
        return
    trained = [m for m in models if m in MODELS + EXTRA_MODELS]
    missing = [m for m in trained if not grid.get(m)]
    if missing:
        raise ValueError(f"the tuning grid has no settings for {missing}; every trained model needs some")
    sizes = {m: len(grid[m]) for m in trained}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"every model needs a tuning grid of the same size, got {sizes}")
    for m in trained:
        for point in grid[m]:
            unknown = set(point) - {"lr", "l2_weight"}
            if unknown or not point:
                raise ValueError(f"a grid point sets lr and/or l2_weight, got {point} for {m}")


def tune_on_eval(name: str, data: KGRecData, train_rows: np.ndarray, eval_rows: np.ndarray,
                 config: KGCNConfig, grid: Sequence[dict], seed: int, adjacency=None,
                 steps: int | None = None, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, dict]:
    """Train ``name`` at every grid point and keep the one with the best eval AUC.

    Each point overrides ``config``'s ``lr`` and/or ``l2_weight`` (BPR-MF reads ``l2_weight`` as
    its own L2 weight). The eval rows already pick each run's best epoch; the same rows pick the
    setting, the test rows are never read. Returns the kept model and
    ``{"lr", "l2_weight", "eval_auc"}`` of its setting (the first of equal AUCs).
    """
    if not grid:
        raise ValueError("grid must hold at least one setting")
    best = None
    for point in grid:
        cfg = replace(config, **point)
        model = _fit_named(name, data, train_rows, eval_rows, cfg, seed, adjacency, steps, device)
        auc = evaluate_ctr(model, eval_rows)["auc"]
        if best is None or auc > best[1]["eval_auc"]:
            best = (model, {"lr": cfg.lr, "l2_weight": cfg.l2_weight, "eval_auc": auc})
    return best


def run_comparison(data: KGRecData, fractions: Sequence[float] = (1.0,), seeds: Sequence[int] = (0,),
                   config: KGCNConfig | None = None, models: Sequence[str] = MODELS,
                   ks: Sequence[int] = (5, 10, 20), topk_users: int = 100,
                   steps: int | None = None, on_row: Callable[[dict], None] | None = None,
                   grid: dict[str, Sequence[dict]] | None = None,
                   device: torch.device | str = "cpu") -> list[dict]:
    """Train and evaluate every model for every training fraction and seed; one row per run.

    The split is fixed by the seed; only the training rows are subsampled, so every fraction is
    evaluated on the same test rows. ``steps``: train every model for exactly this many
    optimiser steps at every fraction (an equal budget) instead of ``config.n_epochs``
    epochs. ``models`` may include ``"Popularity"``
    (:class:`~companion.kgcn.baselines.Popularity`, counted on the fraction's training
    rows, not trained). ``grid``: per trained model, the settings :func:`tune_on_eval` chooses
    among on the eval rows, separately for every seed and fraction (:func:`check_grid`); the rows
    then record the chosen ``lr``, ``l2_weight`` and ``eval_auc``. Without it BPR-MF trains with
    L2 weight ``1e-4`` and the KGCNs with ``config.l2_weight``.
    ``on_row(row)`` is called as each row is appended (a CLI counts finished runs with it).
    The models train and score on ``device``; splits, samples and metrics stay on the CPU.
    """
    config = config or KGCNConfig()
    unknown = set(models) - set(MODELS + EXTRA_MODELS + BASELINES)
    if unknown:
        raise ValueError(f"unknown models {sorted(unknown)}; "
                         f"choose from {MODELS + EXTRA_MODELS + BASELINES}")
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    check_grid(grid, models)
    rows = []
    for seed in seeds:
        train_all, eval_rows, test_rows = split_ratings(data.ratings, seed)
        adjacency = build_adjacency(data.kg, data.n_entities, config.neighbor_sample_size, seed=seed)
        for fraction in fractions:
            train_rows = subsample(train_all, fraction, seed)
            for name in models:
                chosen: dict = {}
                if name == "Popularity":
                    model = Popularity(data.n_items, train_rows).to(device)
                elif grid is not None:
                    model, chosen = tune_on_eval(name, data, train_rows, eval_rows, config, grid[name], seed,
                                                 adjacency, steps, device)
                else:
                    cfg = config if name not in KG_FREE else replace(config, l2_weight=BPRMF_L2)
                    model = _fit_named(name, data, train_rows, eval_rows, cfg, seed, adjacency, steps, device)
                metrics = evaluate_model(model, train_rows, test_rows, data.n_items, ks, topk_users, seed)
                rows.append({"model": name, "fraction": fraction, "seed": seed, **metrics, **chosen})
                if on_row is not None:
                    on_row(rows[-1])
    return rows
