"""BPR-MF (Rendle et al., 2009): matrix factorisation trained on pairwise rankings,
no KG; and the popularity baseline, which learns nothing but counts."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class BPRMF(nn.Module):
    """``score(u, i) = p_u . q_i + b_i``; trained with ``-log sigmoid(score(u, i) - score(u, j))``."""

    def __init__(self, n_users: int, n_items: int, dim: int = 16) -> None:
        super().__init__()
        if min(n_users, n_items, dim) < 1:
            raise ValueError(f"n_users, n_items and dim must be >= 1, got {n_users}, {n_items}, {dim}")
        self.n_users, self.n_items = n_users, n_items
        self.user_emb = nn.Embedding(n_users, dim)
        self.item_emb = nn.Embedding(n_items, dim)
        self.item_bias = nn.Embedding(n_items, 1)
        nn.init.normal_(self.user_emb.weight, std=0.1)
        nn.init.normal_(self.item_emb.weight, std=0.1)
        nn.init.zeros_(self.item_bias.weight)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        if users.shape != items.shape or users.ndim != 1:
            raise ValueError(f"users and items must be 1-D of equal length, got {tuple(users.shape)} and {tuple(items.shape)}")
        if len(users) and (users.min() < 0 or users.max() >= self.n_users):
            raise ValueError(f"user ids must be in [0, {self.n_users}), got range [{int(users.min())}, {int(users.max())}]")
        if len(items) and (items.min() < 0 or items.max() >= self.n_items):
            raise ValueError(f"item ids must be in [0, {self.n_items}), got range [{int(items.min())}, {int(items.max())}]")
        return (self.user_emb(users) * self.item_emb(items)).sum(-1) + self.item_bias(items).squeeze(-1)


def bpr_loss(model: BPRMF, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor,
             l2_weight: float = 0.0) -> torch.Tensor:
    """Mean ``-log sigmoid(x_ui - x_uj)`` plus ``l2_weight`` times the batch embeddings' squared norm."""
    diff = model(users, pos) - model(users, neg)
    reg = (model.user_emb(users) ** 2).sum() + (model.item_emb(pos) ** 2).sum() + (model.item_emb(neg) ** 2).sum()
    return -F.logsigmoid(diff).mean() + l2_weight * reg / len(users)


class Popularity(nn.Module):
    r"""Score an item by its number of positive training interactions, for every user.

    ``score(u, i) = c_i = |{u' : (u', i, 1) in train}|``; no parameter is trained. The
    forward pass returns the logit :math:`\log\frac{c_i + 1}{\bar c + 1}`
    (:math:`\bar c` the mean of :math:`c` over all items), a monotone map of
    :math:`c_i`, so AUC and Recall@K are those of the raw count, and F1 at probability
    0.5 predicts a click for every item at least as popular as the average item.

    Ties: items with the same count get the same score, so AUC counts a tied
    positive-negative pair as 1/2 (:func:`~companion.kgcn.metrics.auc_score`), and a
    top-K list keeps tied items in increasing item id (the stable sort of
    :func:`~companion.kgcn.metrics.recall_at_k`).

    Args:
        n_items: number of items; ids in ``[0, n_items)``.
        train_rows: ``(N, 3)`` rows ``(user, item, label)``; only ``label == 1`` counts.
    """

    def __init__(self, n_items: int, train_rows: np.ndarray) -> None:
        super().__init__()
        rows = np.asarray(train_rows)
        if n_items < 1:
            raise ValueError(f"n_items must be >= 1, got {n_items}")
        if rows.ndim != 2 or rows.shape[1] != 3:
            raise ValueError(f"train_rows must be (N, 3) rows (user, item, label), "
                             f"got shape {rows.shape}")
        items = rows[rows[:, 2] == 1][:, 1].astype(np.int64)
        if len(items) and (items.min() < 0 or items.max() >= n_items):
            raise ValueError(f"item ids must be in [0, {n_items}), got range "
                             f"[{int(items.min())}, {int(items.max())}]")
        self.n_items = n_items
        counts = np.bincount(items, minlength=n_items)
        counts = torch.as_tensor(counts, dtype=torch.float)
        self.register_buffer("counts", counts)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        if users.shape != items.shape or users.ndim != 1:
            raise ValueError(f"users and items must be 1-D of equal length, got "
                             f"{tuple(users.shape)} and {tuple(items.shape)}")
        if len(items) and (items.min() < 0 or items.max() >= self.n_items):
            raise ValueError(f"item ids must be in [0, {self.n_items}), got range "
                             f"[{int(items.min())}, {int(items.max())}]")
        return torch.log((self.counts[items] + 1) / (self.counts.mean() + 1))
