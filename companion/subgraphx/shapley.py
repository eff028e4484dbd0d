"""The Shapley-value reward of SubgraphX: a subgraph is one player among its L-hop neighbours.

For a coalition ``G_i`` (the candidate explanation) the players are ``G_i`` itself, as one
player, and every node of its local region outside it: the nodes within ``local_radius - 1`` hops
of ``G_i`` (``dig/xgraph/method/shapley.py``: the region starts at the coalition and grows by one
neighbourhood ``local_radius - 1`` times). With ``P`` those ``m + 1`` players,

.. math::
    \\phi(G_i) = \\sum_{S \\subseteq P \\setminus \\{G_i\\}}
        \\frac{|S|!\\,(m - |S|)!}{(m + 1)!} \\big(v(S \\cup G_i) - v(S)\\big),

where ``v`` is the softmax probability of the explained class when only the present nodes keep
their features ("zero filling": every other node's feature row is set to zero, edges stay).
As in DIG's ``mc_l_shapley``, nodes *outside* the local region are always present: they are not
players, they are left as they are. :func:`exact_shapley` enumerates all ``2^m`` subsets;
:func:`mc_l_shapley` samples ``sample_num`` random orderings of the players and averages the
marginal contribution of ``G_i`` given the players before it (an unbiased estimate of
:math:`\\phi`).
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import torch

ValueFunction = Callable[[torch.Tensor], torch.Tensor]  # masks (S, N) bool -> values (S,)


def _check_graph(x: torch.Tensor, edge_index: torch.Tensor) -> None:
    if x.ndim != 2:
        raise ValueError(f"x must be (num_nodes, num_features), got shape {tuple(x.shape)}")
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must be (2, num_edges), got shape {tuple(edge_index.shape)}")
    if edge_index.numel() and int(edge_index.max()) >= x.shape[0]:
        raise ValueError(f"edge_index refers to node {int(edge_index.max())} but x has {x.shape[0]} rows")


def _batched(x: torch.Tensor, edge_index: torch.Tensor, masks: torch.Tensor):
    """S zero-filled copies of one graph as one disjoint batch: x (S*N, F), edges (2, S*E), batch (S*N,)."""
    s, n = masks.shape
    xs = (masks.to(x.device, x.dtype)[:, :, None] * x[None]).reshape(s * n, -1)  # masks may be drawn on the CPU
    offsets = (torch.arange(s, device=x.device) * n)[:, None]
    ei = (edge_index[:, None, :] + offsets[None]).reshape(2, -1)
    return xs, ei, torch.arange(s, device=x.device).repeat_interleave(n)


def graph_value_function(model: torch.nn.Module, x: torch.Tensor, edge_index: torch.Tensor, target: int,
                         chunk: int = 1024) -> ValueFunction:
    """``v(mask)``: softmax probability of class ``target`` for the graph with the unmasked nodes only.

    The returned function maps boolean masks ``(S, N)`` to values ``(S,)``, evaluating the ``S``
    zero-filled graphs as one batch (in chunks of ``chunk`` graphs). ``model(x, edge_index, batch)``
    must return graph logits ``(B, C)`` (DIG's ``GnnNetsGC2valueFunc``).
    """
    _check_graph(x, edge_index)

    @torch.no_grad()
    def value(masks: torch.Tensor) -> torch.Tensor:
        out = []
        for part in masks.split(chunk):
            xs, ei, batch = _batched(x, edge_index, part)
            out.append(torch.softmax(model(xs, ei, batch), dim=-1)[:, target])
        return torch.cat(out)

    model.eval()
    return value


def node_value_function(model: torch.nn.Module, x: torch.Tensor, edge_index: torch.Tensor, node_idx: int,
                        target: int, chunk: int = 256) -> ValueFunction:
    """``v(mask)``: softmax probability of class ``target`` at node ``node_idx`` (DIG's ``GnnNetsNC2valueFunc``).

    ``model(x, edge_index)`` must return node logits ``(N, C)``.
    """
    _check_graph(x, edge_index)
    n = x.shape[0]
    if not 0 <= node_idx < n:
        raise ValueError(f"node_idx must be in [0, {n}), got {node_idx}")
    model.eval()

    @torch.no_grad()
    def value(masks: torch.Tensor) -> torch.Tensor:
        out = []
        for part in masks.split(chunk):
            xs, ei, _ = _batched(x, edge_index, part)
            logits = model(xs, ei).reshape(part.shape[0], n, -1)
            out.append(torch.softmax(logits[:, node_idx], dim=-1)[:, target])
        return torch.cat(out)

    return value


def local_region(coalition: Sequence[int], edge_index: torch.Tensor, num_nodes: int, local_radius: int) -> torch.Tensor:
    """Boolean mask ``(N,)`` of the coalition and every node within ``local_radius - 1`` hops of it."""
    if local_radius < 1:
        raise ValueError(f"local_radius must be >= 1, got {local_radius}")
    reach = torch.zeros(num_nodes, dtype=torch.bool)
    reach[list(coalition)] = True
    src, dst = edge_index
    for _ in range(local_radius - 1):
        nxt = reach.clone()
        nxt[dst[reach[src]]] = True
        nxt[src[reach[dst]]] = True  # treat the graph as undirected, like DIG's to_networkx(to_undirected)
        reach = nxt
    return reach


def _validate(coalition: Sequence[int], num_nodes: int) -> list[int]:
    coalition = sorted({int(c) for c in coalition})
    if not coalition:
        raise ValueError("coalition must contain at least one node")
    if coalition[0] < 0 or coalition[-1] >= num_nodes:
        raise ValueError(f"coalition nodes must be in [0, {num_nodes}), got {coalition}")
    return coalition


def exact_shapley(value_fn: ValueFunction, coalition: Sequence[int], edge_index: torch.Tensor, num_nodes: int,
                  local_radius: int = 4, max_players: int = 16) -> float:
    """The Shapley value of ``coalition`` as one player among its local region, by enumerating all subsets.

    Cost ``2^m`` evaluations for ``m`` other players; raises ``ValueError`` beyond ``max_players``.
    """
    from itertools import combinations

    coalition = _validate(coalition, num_nodes)
    region = local_region(coalition, edge_index, num_nodes, local_radius)
    others = [i for i in torch.nonzero(region).flatten().tolist() if i not in set(coalition)]
    m = len(others)
    if m > max_players:
        raise ValueError(f"exact Shapley over {m} players needs 2^{m} evaluations; max_players is {max_players}: "
                         "use mc_l_shapley")
    base = ~region
    excl, weights = [], []
    for size in range(m + 1):
        w = math.factorial(size) * math.factorial(m - size) / math.factorial(m + 1)
        for subset in combinations(others, size):
            mask = base.clone()
            mask[list(subset)] = True
            excl.append(mask)
            weights.append(w)
    exclude = torch.stack(excl)
    include = exclude.clone()
    include[:, coalition] = True
    marginal = value_fn(include) - value_fn(exclude)
    return float((torch.tensor(weights, dtype=marginal.dtype, device=marginal.device) * marginal).sum())


def sample_coalition_masks(coalition: Sequence[int], region: torch.Tensor, sample_num: int,
                           generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``sample_num`` pairs of masks ``(S, S ∪ G_i)``, each ``(sample_num, N)`` bool.

    Each row is one random ordering of the players (the other region nodes and a placeholder for
    ``G_i``); ``S`` is the set of players ordered before the placeholder. Giving every player an
    independent uniform key and keeping those whose key is below the placeholder's is the same
    uniform random permutation that DIG draws with ``np.random.permutation``.
    """
    coalition = list(coalition)
    in_coalition = torch.zeros_like(region)
    in_coalition[coalition] = True
    others = torch.nonzero(region & ~in_coalition).flatten()
    keys = torch.rand(sample_num, others.numel() + 1, generator=generator)
    before = keys[:, :-1] < keys[:, -1:]
    exclude = (~region).repeat(sample_num, 1)
    exclude[:, others] = before
    include = exclude.clone()
    include[:, coalition] = True
    return exclude, include


def mc_l_shapley(value_fn: ValueFunction, coalition: Sequence[int], edge_index: torch.Tensor, num_nodes: int,
                 local_radius: int = 4, sample_num: int = 100, generator: torch.Generator | None = None) -> float:
    """Monte Carlo estimate of :func:`exact_shapley` from ``sample_num`` random player orderings (DIG ``mc_l_shapley``)."""
    return mc_l_shapley_batch(value_fn, [coalition], edge_index, num_nodes, local_radius, sample_num, generator)[0]


def mc_l_shapley_batch(value_fn: ValueFunction, coalitions: Iterable[Sequence[int]], edge_index: torch.Tensor,
                       num_nodes: int, local_radius: int = 4, sample_num: int = 100,
                       generator: torch.Generator | None = None) -> list[float]:
    """:func:`mc_l_shapley` for several coalitions with one batched call of ``value_fn`` (what MCTS expansion needs)."""
    if sample_num < 1:
        raise ValueError(f"sample_num must be >= 1, got {sample_num}")
    excl, incl = [], []
    coalitions = [_validate(c, num_nodes) for c in coalitions]
    for c in coalitions:
        e, i = sample_coalition_masks(c, local_region(c, edge_index, num_nodes, local_radius), sample_num, generator)
        excl.append(e)
        incl.append(i)
    if not coalitions:
        return []
    values = value_fn(torch.cat([torch.cat(excl), torch.cat(incl)]))
    half = values.shape[0] // 2
    marginal = (values[half:] - values[:half]).reshape(len(coalitions), sample_num)
    return marginal.mean(dim=1).tolist()
