"""Monte Carlo tree search over connected subgraphs, as in DIG's ``dig/xgraph/method/subgraphx.py``.

Each tree node is a coalition (a connected set of graph nodes) with statistics ``W`` (total
reward), ``N`` (visits) and ``P`` (its immediate reward, the Shapley value of the coalition).
The root is the whole graph (for node classification: the target's L-hop computation graph).
A child prunes one node and keeps the largest connected component (for node classification:
the component that holds the target node). One rollout walks from the root to a leaf (a
coalition with at most ``min_atoms`` nodes), choosing at each step the child that maximises

.. math::
    Q + U, \\qquad Q = W / N, \\qquad U = \\lambda\\, P\\, \\frac{\\sqrt{\\sum_{\\text{children}} N}}{1 + N},

(``c_puct`` is the paper's :math:`\\lambda`) and adds the leaf's reward to ``W`` and 1 to ``N`` of
every node it passed. After ``rollout`` rollouts, the explanation is the coalition with the
highest ``P`` among those with at most ``max_nodes`` nodes (``find_closest_node_result``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

ScoreFunction = Callable[[list[tuple[int, ...]]], list[float]]  # coalitions -> rewards


@dataclass(eq=False)
class MCTSNode:
    """One tree node: a coalition and its search statistics."""

    coalition: tuple[int, ...]
    W: float = 0.0
    N: int = 0
    P: float = 0.0
    scored: bool = False
    children: list["MCTSNode"] = field(default_factory=list)

    def Q(self) -> float:
        return self.W / self.N if self.N > 0 else 0.0

    def U(self, n_sum: int, c_puct: float) -> float:
        return c_puct * self.P * math.sqrt(n_sum) / (1 + self.N)


def adjacency_list(edge_index: torch.Tensor, num_nodes: int) -> list[set[int]]:
    """Undirected neighbour sets, one per node."""
    adj: list[set[int]] = [set() for _ in range(num_nodes)]
    for u, v in edge_index.t().tolist():
        if u != v:
            adj[u].add(v)
            adj[v].add(u)
    return adj


def connected_components(nodes: Sequence[int], adj: list[set[int]]) -> list[list[int]]:
    """Components of the subgraph induced by ``nodes``, in the order of their smallest node (like networkx)."""
    inside = set(nodes)
    seen: set[int] = set()
    comps = []
    for start in sorted(inside):
        if start in seen:
            continue
        comp, stack = [], [start]
        seen.add(start)
        while stack:
            u = stack.pop()
            comp.append(u)
            for v in adj[u]:
                if v in inside and v not in seen:
                    seen.add(v)
                    stack.append(v)
        comps.append(sorted(comp))
    return comps


def prune(coalition: Sequence[int], node: int, adj: list[set[int]], keep: int | None = None) -> tuple[int, ...]:
    """The pruning action: drop ``node`` from ``coalition`` and keep one connected component.

    The kept component is the largest (ties: the one with the smallest node, as DIG's first-found
    rule gives), or, when ``keep`` is given (node classification), the one containing ``keep``.
    """
    if node not in coalition:
        raise ValueError(f"node {node} is not in the coalition {sorted(coalition)}")
    if keep is not None and node == keep:
        raise ValueError(f"cannot prune the target node {keep}")
    rest = [u for u in coalition if u != node]
    if not rest:
        return ()
    comps = connected_components(rest, adj)
    if keep is not None:
        return tuple(next(c for c in comps if keep in c))
    best = comps[0]
    for c in comps[1:]:
        if len(c) > len(best):
            best = c
    return tuple(best)


def expansion_order(coalition: Sequence[int], adj: list[set[int]], high2low: bool) -> list[int]:
    """Nodes of ``coalition`` sorted by their degree inside it (stable: ties keep node order)."""
    inside = set(coalition)
    nodes = sorted(coalition)
    return sorted(nodes, key=lambda u: len(adj[u] & inside), reverse=high2low)


@dataclass
class MCTSResult:
    """What a search returns: every explored coalition and the best reward after each rollout."""

    nodes: list[MCTSNode]
    root: MCTSNode
    best_reward_per_rollout: list[float]
    num_evaluated: int


def mcts(score_fn: ScoreFunction, adj: list[set[int]], root: Sequence[int], rollout: int = 20,
         c_puct: float = 10.0, min_atoms: int = 5, expand_atoms: int = 14, high2low: bool = False,
         keep: int | None = None, max_nodes: int | None = None, progress_bar=None) -> MCTSResult:
    """Run ``rollout`` MCTS rollouts from the coalition ``root``.

    ``score_fn(coalitions)`` returns the reward of each new child (batched); ``keep`` is the target
    node for node classification (never pruned). ``max_nodes`` only selects what
    ``best_reward_per_rollout`` tracks (the best ``P`` among explored coalitions of at most that size).
    """
    if rollout < 1:
        raise ValueError(f"rollout must be >= 1, got {rollout}")
    if min_atoms < 1 or expand_atoms < 1:
        raise ValueError(f"min_atoms and expand_atoms must be >= 1, got {min_atoms} and {expand_atoms}")
    root_node = MCTSNode(tuple(sorted(root)))
    state_map: dict[tuple[int, ...], MCTSNode] = {root_node.coalition: root_node}
    evaluated = 0
    if len(root_node.coalition) <= min_atoms:  # nothing to search: the root is the only candidate
        root_node.P, root_node.scored = float(score_fn([root_node.coalition])[0]), True
        evaluated = 1
    best_curve: list[float] = []
    best = -math.inf

    def expand(tree_node: MCTSNode) -> None:
        nonlocal evaluated
        order = expansion_order(tree_node.coalition, adj, high2low)
        candidates = [u for u in order if u != keep] if keep is not None else order
        if len(order) > expand_atoms:
            candidates = candidates[:expand_atoms]
        for u in candidates:
            child = prune(tree_node.coalition, u, adj, keep)
            if not child:
                continue
            node = state_map.get(child)
            if node is None:  # identical coalitions reached by different paths share one tree node
                node = state_map[child] = MCTSNode(child)
            if all(c is not node for c in tree_node.children):
                tree_node.children.append(node)
        new = [c for c in tree_node.children if not c.scored]
        if new:
            for c, p in zip(new, score_fn([c.coalition for c in new])):
                c.P, c.scored = float(p), True
            evaluated += len(new)

    for _ in range(rollout):
        path, node = [], root_node
        while len(node.coalition) > min_atoms:
            if not node.children:
                expand(node)
                if not node.children:
                    break
            n_sum = sum(c.N for c in node.children)
            node = max(node.children, key=lambda c: c.Q() + c.U(n_sum, c_puct))
            path.append(node)
        reward = node.P
        for visited in path:
            visited.W += reward
            visited.N += 1
        if max_nodes is not None:
            sized = [n.P for n in state_map.values() if n.scored and len(n.coalition) <= max_nodes]
            best = max([best, *sized])
            best_curve.append(best if best > -math.inf else float("nan"))
        if progress_bar is not None:
            progress_bar.update(1)
    return MCTSResult(list(state_map.values()), root_node, best_curve, evaluated)


def find_closest_node_result(nodes: Sequence[MCTSNode], max_nodes: int) -> MCTSNode:
    """The explored coalition with the highest reward ``P`` among those with at most ``max_nodes`` nodes.

    As in DIG: start from the smallest coalition and replace it by any with ``<= max_nodes`` nodes
    and a strictly higher ``P``.
    """
    if not nodes:
        raise ValueError("no explored coalitions")
    ordered = sorted(nodes, key=lambda n: len(n.coalition))
    best = ordered[0]
    for n in ordered:
        if len(n.coalition) <= max_nodes and n.scored and n.P > best.P:
            best = n
    return best
