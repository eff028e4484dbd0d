"""Scoring explanations at matched sparsity: PyG's fidelity metrics, the paper's probability
fidelity, sparsity, motif accuracy, and a random connected-subgraph baseline.

Every explainer's output is turned into a *node set* of the same size ``k`` (SubgraphX's set;
top-``k`` nodes of a soft mask, turned into node scores by :func:`node_scores`),
and every metric masks nodes by zero filling, as the paper does. So the explainers differ only
in which ``k`` nodes they pick.
"""

from __future__ import annotations

from typing import Sequence

import torch

from companion.subgraphx.mcts import adjacency_list


SCORE_RULES = ("node", "edge_sum", "edge_max")


def node_scores(node_mask: torch.Tensor | None, edge_mask: torch.Tensor | None, edge_index: torch.Tensor,
                num_nodes: int, rule: str = "node") -> torch.Tensor:
    """Per-node importance ``(N,)`` from an explanation's masks.

    ``rule="node"``: the node mask ``(N,)``/``(N, F)`` summed over features (falls back to
    ``"edge_max"`` when there is no node mask); ``"edge_sum"``: each node sums the mask of its
    incident edges; ``"edge_max"``: each node takes its largest incident edge.
    """
    if rule not in SCORE_RULES:
        raise ValueError(f"rule must be one of {SCORE_RULES}, got {rule!r}")
    if rule == "node" and node_mask is not None:
        return node_mask.reshape(num_nodes, -1).sum(dim=1).detach().float()
    if edge_mask is None:
        raise ValueError("an explanation needs a node_mask or an edge_mask to rank nodes")
    w = edge_mask.detach().float()
    scores = torch.zeros(num_nodes, device=w.device)
    if rule == "edge_sum":
        return scores.index_add(0, edge_index[0], w).index_add(0, edge_index[1], w)
    scores = scores.scatter_reduce(0, edge_index[0], w, reduce="amax")
    return scores.scatter_reduce(0, edge_index[1], w, reduce="amax")


def top_k_nodes(scores: torch.Tensor, k: int, candidates: torch.Tensor | None = None,
                generator: torch.Generator | None = None, include: int | None = None) -> list[int]:
    """The ``k`` highest-scoring nodes, optionally among ``candidates`` only.

    Ties go to the lower node id, or, with a ``generator``, to a seeded random order (fairer when
    ground-truth nodes have the highest ids, as the motif does in ``ba2motifs``). ``include``
    (the explained node of a node task) is always in the set: it and the ``k - 1`` best others,
    the rule every method of a node comparison follows (SubgraphX never prunes that node).
    """
    if not 1 <= k <= scores.numel():
        raise ValueError(f"k must be in [1, {scores.numel()}], got {k}")
    s = scores.detach().cpu().clone().float()  # a sort of Python numbers: on the CPU, whatever the device
    if candidates is not None:
        outside = torch.ones_like(s, dtype=torch.bool)
        outside[candidates.cpu()] = False
        s[outside] = -float("inf")
    if include is not None:
        if not 0 <= include < s.numel() or s[include] == -float("inf"):
            raise ValueError(f"include: node {include} is not among the candidates")
        s[include] = float("inf")  # first in the order, whatever its score
    rank = (torch.randperm(s.numel(), generator=generator).tolist() if generator is not None
            else list(range(s.numel())))
    order = sorted(range(s.numel()), key=lambda i: (-float(s[i]), rank[i]))
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
    _grow(chosen, adj, allowed, k, generator)
    return sorted(chosen)


def _grow(chosen: set[int], adj, pool: set[int], k: int, generator: torch.Generator) -> None:
    """Add random frontier nodes within ``pool`` to the connected set ``chosen`` until it has ``k``."""
    while len(chosen) < k:
        frontier = sorted({v for u in chosen for v in adj[u] if v in pool} - chosen)
        if not frontier:
            break
        chosen.add(frontier[int(torch.randint(len(frontier), (1,), generator=generator))])


def motif_oracle(motif_mask: torch.Tensor, edge_index: torch.Tensor, k: int, generator: torch.Generator,
                 start: int | None = None, candidates: Sequence[int] | None = None) -> list[int]:
    """The ground truth as an explanation of size ``k`` (a reference, not an explainer).

    Grows a connected set from ``start`` (default: a random motif node) through motif nodes
    first, so that it holds ``min(k, motif size)`` connected motif nodes, then, for ``k`` larger
    than the motif, through random frontier nodes (within ``candidates`` when given).
    """
    n = motif_mask.numel()
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, {n}], got {k}")
    allowed = set(range(n)) if candidates is None else set(int(c) for c in candidates)
    motif = sorted(set(torch.nonzero(motif_mask).flatten().tolist()) & allowed)
    if not motif:
        raise ValueError("no motif node among the candidates")
    if start is None:
        start = motif[int(torch.randint(len(motif), (1,), generator=generator))]
    adj = adjacency_list(edge_index, n)
    chosen = {int(start)}
    for pool in (set(motif), allowed):
        _grow(chosen, adj, pool, k, generator)
    return sorted(chosen)


@torch.no_grad()
def probability_fidelity(model: torch.nn.Module, x: torch.Tensor, edge_index: torch.Tensor, nodes: Sequence[int],
                         target: int, node_idx: int | None = None) -> tuple[float, float]:
    """The paper's Fidelity and its inverse on class probabilities, by zero filling.

    ``fid+ = p(G) - p(G without the set)`` (the paper's Fidelity: high when the set is needed),
    ``fid- = p(G) - p(the set alone)`` (low when the set suffices).
    """
    keep = torch.zeros(x.shape[0], 1, device=x.device)
    keep[list(nodes)] = 1.0

    def prob(features):
        out = model(features, edge_index)
        out = out[node_idx] if node_idx is not None else out.view(-1, out.shape[-1])[0]
        return float(torch.softmax(out, -1)[target])

    p = prob(x)
    return p - prob(x * (1 - keep)), p - prob(x * keep)


def greedy_occlusion(model: torch.nn.Module, x: torch.Tensor, edge_index: torch.Tensor, size: int, target: int,
                     generator: torch.Generator, node_idx: int | None = None,
                     candidates: Sequence[int] | None = None, connected: bool = True) -> list[int]:
    """A control for SubgraphX's search: the same zero-fill perturbation, no tree search, no Shapley values.

    Grows a set one node at a time; each step adds the candidate whose zero-filling, together with
    the set's, lowers the probability of ``target`` most (the Fidelity of
    :func:`probability_fidelity`). With ``connected`` a step only looks at candidates adjacent to
    the set, so every prefix is connected, as SubgraphX's subgraphs are; a node task starts from
    ``node_idx``. Ties go to a seeded random order. Returns the nodes in the order added, so the
    first ``j`` of them are the greedy set of size ``j``.
    """
    n = x.shape[0]
    allowed = list(range(n)) if candidates is None else sorted(int(c) for c in candidates)
    if not 1 <= size <= len(allowed):
        raise ValueError(f"size must be in [1, {len(allowed)}] (the candidates), got {size}")
    if node_idx is not None and node_idx not in allowed:
        raise ValueError(f"node_idx {node_idx} is not among the candidates")
    adj = adjacency_list(edge_index, n)
    order = [allowed[i] for i in torch.randperm(len(allowed), generator=generator).tolist()]
    chosen: list[int] = [] if node_idx is None else [node_idx]
    while len(chosen) < size:
        taken = set(chosen)
        pool = [v for v in order if v not in taken]
        if connected and chosen:
            near = [v for v in pool if any(u in taken for u in adj[v])]
            pool = near or pool  # a set with no free neighbour continues anywhere
        best = max(pool, key=lambda v: probability_fidelity(model, x, edge_index, [*chosen, v], target,
                                                             node_idx)[0])  # max keeps the first of equals
        chosen.append(best)
    return chosen


def label_fidelity(metric_explainer, x: torch.Tensor, edge_index: torch.Tensor, nodes: Sequence[int],
                   index: int | None = None) -> tuple[float, float]:
    """PyG's ``fidelity`` (fid+, fid-) of the hard node set ``nodes``, for the model's predicted class.

    ``metric_explainer`` is a PyG ``Explainer`` with ``explanation_type="model"``; its
    ``get_masked_prediction`` multiplies ``x`` by the node mask, which is zero filling.
    """
    from torch_geometric.explain import Explanation
    from torch_geometric.explain.metric import fidelity

    mask = torch.zeros(x.shape[0], 1, device=x.device)
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
