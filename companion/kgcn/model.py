"""The KGNN-LS model: H KGCN layers over a sampled receptive field, and the label-smoothness term.

Prediction (official ``model.py``): ``y_hat(u, v) = sigmoid(u . v_u)`` where ``v_u`` is the item's
user-specific representation after ``H = n_iter`` aggregation layers.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from companion.kgcn.aggregators import KGCNAggregator, user_relation_scores
from companion.kgcn.sampling import receptive_field


class KGCN(nn.Module):
    """KGCN with ``n_iter`` layers of one aggregator kind (``sum`` / ``concat`` / ``neighbor``).

    ``adj_entity`` and ``adj_relation`` are the (n_entities, K) tables of :func:`build_adjacency`;
    they are buffers, not parameters. ``forward(users, items)`` returns the logits ``u . v_u`` (B,).
    """

    def __init__(self, n_users: int, n_entities: int, n_relations: int, adj_entity: torch.Tensor,
                 adj_relation: torch.Tensor, dim: int = 16, n_iter: int = 1, aggregator: str = "sum") -> None:
        super().__init__()
        if min(n_users, n_entities, n_relations) < 1:
            raise ValueError(f"n_users, n_entities, n_relations must be >= 1, got {n_users}, {n_entities}, {n_relations}")
        if adj_entity.shape != adj_relation.shape or adj_entity.ndim != 2 or adj_entity.shape[0] != n_entities:
            raise ValueError(f"adj_entity and adj_relation must both be (n_entities={n_entities}, K), got "
                             f"{tuple(adj_entity.shape)} and {tuple(adj_relation.shape)}")
        if n_iter < 1 or dim < 1:
            raise ValueError(f"n_iter and dim must be >= 1, got {n_iter} and {dim}")
        self.n_users, self.n_entities, self.n_relations = n_users, n_entities, n_relations
        self.dim, self.n_iter, self.n_neighbor = dim, n_iter, adj_entity.shape[1]
        self.register_buffer("adj_entity", adj_entity.long())
        self.register_buffer("adj_relation", adj_relation.long())
        self.user_emb = nn.Embedding(n_users, dim)
        self.entity_emb = nn.Embedding(n_entities, dim)
        self.relation_emb = nn.Embedding(n_relations, dim)
        for emb in (self.user_emb, self.entity_emb, self.relation_emb):
            # N(0, 0.1^2) like BPR-MF: Xavier on a (n_rows, d) table gives ~0.05 and slows the start
            nn.init.normal_(emb.weight, std=0.1)
        self.aggregators = nn.ModuleList(
            KGCNAggregator(dim, aggregator, last=(i == n_iter - 1)) for i in range(n_iter))

    def check_ids(self, users: torch.Tensor, items: torch.Tensor) -> None:
        """Raise ``ValueError`` for ids outside ``[0, n_users)`` / ``[0, n_entities)``."""
        if users.shape != items.shape or users.ndim != 1:
            raise ValueError(f"users and items must be 1-D of equal length, got {tuple(users.shape)} and {tuple(items.shape)}")
        if len(users) and (users.min() < 0 or users.max() >= self.n_users):
            raise ValueError(f"user ids must be in [0, {self.n_users}), got range [{int(users.min())}, {int(users.max())}]")
        if len(items) and (items.min() < 0 or items.max() >= self.n_entities):
            raise ValueError(f"item ids must be in [0, {self.n_entities}), got range [{int(items.min())}, {int(items.max())}]")

    def neighborhood(self, items: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        return receptive_field(items, self.adj_entity, self.adj_relation, self.n_iter)

    def item_representation(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """``v_u``: (B, d), the item after ``n_iter`` layers, hop ``H`` inwards to hop 0."""
        b, k, d = len(items), self.n_neighbor, self.dim
        entities, relations = self.neighborhood(items)
        user = self.user_emb(users)
        vectors = [self.entity_emb(e) for e in entities]
        rel_vectors = [self.relation_emb(r).view(b, -1, k, d) for r in relations]
        for i, agg in enumerate(self.aggregators):
            vectors = [agg(vectors[hop], vectors[hop + 1].view(b, -1, k, d), rel_vectors[hop], user)
                       for hop in range(self.n_iter - i)]
        return vectors[0].view(b, d)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        self.check_ids(users, items)
        return (self.user_emb(users) * self.item_representation(users, items)).sum(dim=-1)

    def l2_loss(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """``sum(w**2) / 2`` over the distinct embedding rows a batch touches, per example, plus the
        aggregator weights.

        The official code penalises the *whole* embedding matrices every step (with a tiny weight:
        1e-7 on MovieLens); with Adam that shrinks every row the batch does not use by a full step.
        Penalising every *occurrence* in the receptive field is no better: with ``H = 2`` a popular
        entity sits in the neighbourhood of most items, the penalty outweighs the click loss, and
        all entity vectors collapse to zero (we measured it: training AUC 0.49). So each row the
        batch touches is penalised once.
        """
        entities, relations = self.neighborhood(items)
        ent = torch.unique(torch.cat([e.reshape(-1) for e in entities]))
        rel = torch.unique(torch.cat([r.reshape(-1) for r in relations]))
        squares = (self.user_emb(torch.unique(users)) ** 2).sum() + (self.entity_emb(ent) ** 2).sum() \
            + (self.relation_emb(rel) ** 2).sum()
        return (squares / len(users) + sum((agg.linear.weight ** 2).sum() for agg in self.aggregators)) / 2


class InteractionTable:
    """Training labels ``y_{u,e}`` looked up by (user, entity); ``0.5`` where unknown.

    The official code keys a TF hash table by ``user * 10**len(str(n_entity)) + item``; here the
    key is ``user * n_entities + entity`` and the lookup is a binary search over sorted keys.
    """

    def __init__(self, ratings: np.ndarray | torch.Tensor, n_entities: int) -> None:
        r = torch.as_tensor(np.asarray(ratings), dtype=torch.long)
        if r.ndim != 2 or r.shape[1] != 3:
            raise ValueError(f"ratings must be (N, 3) rows (user, item, label), got {tuple(r.shape)}")
        self.n_entities = n_entities
        keys = r[:, 0] * n_entities + r[:, 1]
        self.keys, order = torch.sort(keys)
        self.values = r[order, 2].float()

    def to(self, device: torch.device | str) -> "InteractionTable":
        """The table with its keys and labels on ``device`` (moved in place; returns itself)."""
        self.keys, self.values = self.keys.to(device), self.values.to(device)
        return self

    def lookup(self, users: torch.Tensor, entities: torch.Tensor) -> torch.Tensor:
        """Labels for ``users`` (B, 1) and ``entities`` (B, n): (B, n) floats in {0, 0.5, 1}."""
        keys = users * self.n_entities + entities
        if len(self.keys) == 0:
            return torch.full(keys.shape, 0.5, device=keys.device)
        pos = torch.searchsorted(self.keys, keys).clamp(max=len(self.keys) - 1)
        found = self.keys[pos] == keys
        return torch.where(found, self.values[pos], torch.full_like(self.values[pos], 0.5))


def label_propagation(model: KGCN, users: torch.Tensor, items: torch.Tensor,
                      table: InteractionTable) -> torch.Tensor:
    """Predict each held-out item's label from its neighbours' labels (the LS term's ``y_hat``).

    Entities start from their training labels (0.5 if unknown); the target item ``v`` itself is
    reset to 0.5 wherever it appears (held out), labelled items stay clamped, and ``n_iter``
    rounds of ``l(e) <- sum_k pi_u(r_k) l(e_k)`` run on the user-specific weighted graph. This is
    the label-propagation scheme the paper proves LS to be equivalent to. The official code
    averages over K and passes the result as a *logit*; we keep the paper's weighted average, so
    ``y_hat`` is a probability in [0, 1]. Returns (B,).
    """
    b, k, d = len(items), model.n_neighbor, model.dim
    entities, relations = model.neighborhood(items)
    user = model.user_emb(users)
    labels, clamp = [], []
    for ent in entities:
        initial = table.lookup(users[:, None], ent)
        held_out = ent == items[:, None]
        clamp.append((initial != 0.5) & ~held_out)
        labels.append(torch.where(held_out, torch.full_like(initial, 0.5), initial))
    weights = [user_relation_scores(user, model.relation_emb(r).view(b, -1, k, d)) for r in relations]
    for i in range(model.n_iter):
        labels = [torch.where(clamp[hop], labels[hop],
                              (weights[hop] * labels[hop + 1].view(b, -1, k)).sum(dim=-1))
                  for hop in range(model.n_iter - i)]
    return labels[0].view(b)


def label_smoothness_loss(model: KGCN, users: torch.Tensor, items: torch.Tensor, labels: torch.Tensor,
                          table: InteractionTable) -> torch.Tensor:
    """``R(A) = mean BCE(y_uv, label_propagation(u, v))``: the LS regulariser on the edge weights."""
    pred = label_propagation(model, users, items, table).clamp(1e-6, 1 - 1e-6)
    return F.binary_cross_entropy(pred, labels.float())
