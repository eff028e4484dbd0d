"""CTR metrics (AUC, F1) and top-K Recall@K, as evaluated in the official ``train.py``."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch


def _as_1d(x, name: str) -> np.ndarray:
    a = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    return a


def auc_score(labels, scores) -> float:
    """Area under the ROC curve by the rank (Mann-Whitney) statistic, ties counted as 1/2.

    ``AUC = (sum of ranks of positives - n_pos (n_pos + 1) / 2) / (n_pos n_neg)``: the probability
    that a random positive is scored above a random negative.
    """
    y, s = _as_1d(labels, "labels"), _as_1d(scores, "scores")
    if y.shape != s.shape:
        raise ValueError(f"labels and scores must have the same length, got {len(y)} and {len(s)}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"AUC needs both classes, got {n_pos} positives and {n_neg} negatives")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    # average rank over ties
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def f1_at_half(labels, probabilities) -> float:
    """F1 of the predictions ``probability >= 0.5`` (the official threshold)."""
    y, p = _as_1d(labels, "labels"), _as_1d(probabilities, "probabilities")
    if y.shape != p.shape:
        raise ValueError(f"labels and probabilities must have the same length, got {len(y)} and {len(p)}")
    pred = p >= 0.5
    tp = float((pred & (y == 1)).sum())
    denom = float(pred.sum() + (y == 1).sum())
    return 2 * tp / denom if denom else 0.0


def user_records(ratings: np.ndarray, positives_only: bool) -> dict[int, set[int]]:
    """``user -> set of items``: all rated items (train record) or the positives (test record)."""
    out: dict[int, set[int]] = {}
    for u, i, y in np.asarray(ratings):
        if not positives_only or y == 1:
            out.setdefault(int(u), set()).add(int(i))
    return out


def recall_at_k(score_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], train: np.ndarray,
                test: np.ndarray, n_items: int, ks: Sequence[int] = (5, 10, 20), n_users: int = 100,
                seed: int = 0) -> dict[int, float]:
    """Recall@K over up to ``n_users`` users that have training data and a test positive.

    For each user, every item not in the user's training record is scored with
    ``score_fn(users, items)``, ranked, and ``|top-K ∩ test positives| / |test positives|`` is
    averaged over users (the official ``topk_eval``).
    """
    if n_items < 1 or not ks or min(ks) < 1:
        raise ValueError(f"need n_items >= 1 and every K >= 1, got n_items={n_items}, ks={list(ks)}")
    if n_users < 1:  # no user to average over would make every Recall@K a NaN
        raise ValueError(f"n_users must be >= 1, got {n_users}")
    train_rec, test_rec = user_records(train, False), user_records(test, True)
    users = sorted(set(train_rec) & set(test_rec))
    if not users:
        raise ValueError("no user has both training ratings and a test positive")
    rng = np.random.default_rng(seed)
    if len(users) > n_users:
        users = sorted(rng.choice(users, size=n_users, replace=False).tolist())
    hits = {k: [] for k in ks}
    for u in users:
        candidates = np.array(sorted(set(range(n_items)) - train_rec[u]), dtype=np.int64)
        items = torch.from_numpy(candidates)
        scores = score_fn(torch.full_like(items, u), items).detach().cpu().numpy()
        ranked = candidates[np.argsort(-scores, kind="mergesort")]
        for k in ks:
            hits[k].append(len(set(ranked[:k].tolist()) & test_rec[u]) / len(test_rec[u]))
    return {k: float(np.mean(v)) for k, v in hits.items()}
