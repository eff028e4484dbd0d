"""User-relation scores and the KGCN aggregators (``aggregators.py`` of the official code).

For a user ``u`` and an entity ``v`` with sampled neighbours ``e_1..e_K`` reached through
relations ``r_1..r_K``, the user-relation score is ``g(u, r) = mean(u * r)`` (the official
``reduce_mean`` over the embedding dimension), normalised over the neighbours by a softmax:
``pi_u(r_k) = softmax_k g(u, r_k)``. This turns the KG into a *user-specific* weighted graph.
"""

from __future__ import annotations

import torch
from torch import nn

AGGREGATORS = ("sum", "concat", "neighbor")


def user_relation_scores(user: torch.Tensor, neighbor_relations: torch.Tensor) -> torch.Tensor:
    """Normalised user-relation scores ``pi_u(r) = softmax_k(mean_d(u * r_k))``.

    ``user``: (B, d); ``neighbor_relations``: (B, n, K, d) relation embeddings of the K sampled
    edges of each of ``n`` entities per example. Returns (B, n, K), rows summing to 1.
    """
    if user.ndim != 2 or neighbor_relations.ndim != 4 or neighbor_relations.shape[0] != user.shape[0] \
            or neighbor_relations.shape[-1] != user.shape[-1]:
        raise ValueError(f"expected user (B, d) and neighbor_relations (B, n, K, d), got "
                         f"{tuple(user.shape)} and {tuple(neighbor_relations.shape)}")
    scores = (user[:, None, None, :] * neighbor_relations).mean(dim=-1)
    return torch.softmax(scores, dim=-1)


def mix_neighbors(weights: torch.Tensor, neighbor_vectors: torch.Tensor) -> torch.Tensor:
    """The neighbourhood representation ``v_N = sum_k pi_k e_k``: the paper's weighted sum.

    The official ``SumAggregator`` takes ``reduce_mean_k(pi_k * e_k)``, the same sum divided by K;
    we keep the paper's form (a convex combination of the neighbours, whatever K is).
    ``weights``: (B, n, K); ``neighbor_vectors``:
    (B, n, K, d). Returns (B, n, d).
    """
    return (weights.unsqueeze(-1) * neighbor_vectors).sum(dim=2)


class KGCNAggregator(nn.Module):
    """One KGCN layer: combine an entity's own vector ``v`` with its neighbourhood ``v_N``.

    * ``sum``:      ``act(W (v + v_N) + b)``
    * ``concat``:   ``act(W [v ; v_N] + b)``
    * ``neighbor``: ``act(W v_N + b)``

    ``act`` is ReLU in inner layers and tanh in the last one, as in the official model.
    """

    def __init__(self, dim: int, kind: str = "sum", last: bool = False) -> None:
        super().__init__()
        if kind not in AGGREGATORS:
            raise ValueError(f"aggregator must be one of {AGGREGATORS}, got {kind!r}")
        self.kind = kind
        self.linear = nn.Linear(2 * dim if kind == "concat" else dim, dim)
        nn.init.xavier_uniform_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.act = torch.tanh if last else torch.relu

    def forward(self, self_vectors: torch.Tensor, neighbor_vectors: torch.Tensor,
                neighbor_relations: torch.Tensor, user: torch.Tensor) -> torch.Tensor:
        """``self_vectors`` (B, n, d), ``neighbor_vectors`` and ``neighbor_relations`` (B, n, K, d),
        ``user`` (B, d) -> (B, n, d)."""
        v_n = mix_neighbors(user_relation_scores(user, neighbor_relations), neighbor_vectors)
        if self.kind == "sum":
            h = self_vectors + v_n
        elif self.kind == "concat":
            h = torch.cat([self_vectors, v_n], dim=-1)
        else:
            h = v_n
        return self.act(self.linear(h))
