"""Scoring explanations at matched sparsity: PyG's fidelity metrics, the paper's probability
fidelity, sparsity, motif accuracy, and a random connected-subgraph baseline.

Every explainer's output is turned into a *node set* of the same size ``k`` (SubgraphX's set;
top-``k`` nodes of a soft node mask; for edge masks a node scores its largest incident edge),
and every metric masks nodes by zero filling, as the paper does. So the explainers differ only
in which ``k`` nodes they pick.
"""

from __future__ import annotations

from typing import Sequence

import torch

from companion.subgraphx.mcts import adjacency_list


def node_scores(node_mask: torch.Tensor | None, edge_mask: torch.Tensor | None, edge_index: torch.Tensor,
                num_nodes: int) -> torch.Tensor:
    """Per-node importance ``(N,)`` from a node mask ``(N,)``/``(N, F)`` or, failing that, an edge mask ``(E,)``."""
    if node_mask is not None:
        return node_mask.reshape(num_nodes, -1).sum(dim=1).detach()
    if edge_mask is None:
        raise ValueError("an explanation needs a node_mask or an edge_mask to rank nodes")
    scores = torch.zeros(num_nodes)
    scores = scores.scatter_reduce(0, edge_index[0], edge_mask.detach().float(), reduce="amax")
    return scores.scatter_reduce(0, edge_index[1], edge_mask.detach().float(), reduce="amax")


def top_k_nodes(scores: torch.Tensor, k: int, candidates: torch.Tensor | None = None) -> list[int]:
    """The ``k`` highest-scoring nodes (ties: lower id first), optionally among ``candidates`` only."""
    if not 1 <= k <= scores.numel():
        raise ValueError(f"k must be in [1, {scores.numel()}], got {k}")
    s = scores.clone().float()
    if candidates is not None:
        outside = torch.ones_like(s, dtype=torch.bool)
        outside[candidates] = False
        s[outside] = -float("inf")
    order = sorted(range(s.numel()), key=lambda i: (-float(s[i]), i))
    return sorted(order[:k])


def random_connected_subgraph(edge_index: torch.Tensor, num_nodes: int, k: int, generator: torch.Generator,
                              start: int | None = None, candidates: Sequence[int] | None = None) -> list[int]:
    """A random connected node set of size ``k`` (grown from a random or given start by random frontier nodes)."""
    if not 1 <= k <= num_nodes:
        raise ValueError(f"k must be in [1, {num_nodes}], got {k}")
    adj = adjacency_list(edge_index, num_nodes)
    allowed = set(range(num_nodes)) if candidates is None else set(int(c) for c in candidates)
    if start is None:
        pool = sorted(allowed)
        start = pool[int(torch.randint(len(pool), (1,), generator=generator))]
    chosen = {start}
    while len(chosen) < k:
        frontier = sorted({v for u in chosen for v in adj[u] if v in allowed} - chosen)
        if not frontier:
            break
        chosen.add(frontier[int(torch.randint(len(frontier), (1,), generator=generator))])
    return sorted(chosen)


@torch.no_grad()
def probability_fidelity(model: torch.nn.Module, x: torch.Tensor, edge_index: torch.Tensor, nodes: Sequence[int],
                         target: int, node_idx: int | None = None) -> tuple[float, float]:
    """The paper's Fidelity and its inverse on class probabilities, by zero filling.

    ``fid+ = p(G) - p(G without the set)`` (the paper's Fidelity: high when the set is needed),
    ``fid- = p(G) - p(the set alone)`` (low when the set suffices).
    """
    keep = torch.zeros(x.shape[0], 1)
    keep[list(nodes)] = 1.0

    def prob(features):
        out = model(features, edge_index)
        out = out[node_idx] if node_idx is not None else out.view(-1, out.shape[-1])[0]
        return float(torch.softmax(out, -1)[target])

    p = prob(x)
    return p - prob(x * (1 - keep)), p - prob(x * keep)


def label_fidelity(metric_explainer, x: torch.Tensor, edge_index: torch.Tensor, nodes: Sequence[int],
                   index: int | None = None) -> tuple[float, float]:
    """PyG's ``fidelity`` (fid+, fid-) of the hard node set ``nodes``, for the model's predicted class.

    ``metric_explainer`` is a PyG ``Explainer`` with ``explanation_type="model"``; its
    ``get_masked_prediction`` multiplies ``x`` by the node mask, which is zero filling.
    """
    from torch_geometric.explain import Explanation
    from torch_geometric.explain.metric import fidelity

    mask = torch.zeros(x.shape[0], 1)
    mask[list(nodes)] = 1.0
    target = metric_explainer.get_target(metric_explainer.get_prediction(x, edge_index))
    hard = Explanation(x=x, edge_index=edge_index, node_mask=mask, target=target,
                       index=None if index is None else torch.tensor([index]))
    hard._model_args = []
    return fidelity(metric_explainer, hard)


def motif_accuracy(nodes: Sequence[int], motif_mask: torch.Tensor) -> float:
    """Share of the explanation's nodes that are ground-truth motif nodes."""
    nodes = list(nodes)
    if not nodes:
        raise ValueError("empty explanation")
    return float(motif_mask[nodes].float().mean())
