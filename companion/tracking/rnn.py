"""Tree-structured recursive neural network over the local patches of a target region.

Leaves are the region's local patches; a parent is composed from its two children as
:math:`p = \\tanh(W [c_1; c_2] + b)` (Socher et al., 2011), and a node's score
:math:`s = u^\\top p` says how target-like the merged region looks. Trees are built bottom-up by a
greedy search: among spatially adjacent nodes, merge the pair whose parent scores highest.
Perturbing the scores with Gumbel noise gives several *random* trees over the same exemplar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Tree:
    """A binary tree over ``num_leaves`` leaves: leaf ids are 0..L-1, the k-th merge creates node L+k.

    ``merges[k] = (left, right)`` are the children of node ``L + k``; the last node is the root.
    """

    num_leaves: int
    merges: tuple[tuple[int, int], ...]

    def spans(self) -> list[frozenset[int]]:
        """The set of leaves under every node (leaves first, then merges in order)."""
        spans = [frozenset([i]) for i in range(self.num_leaves)]
        for a, b in self.merges:
            spans.append(spans[a] | spans[b])
        return spans

    def is_valid(self) -> bool:
        """A binary tree over all leaves: every node is merged exactly once, except the root."""
        used = [c for m in self.merges for c in m]
        n_nodes = self.num_leaves + len(self.merges)
        return (len(self.merges) == self.num_leaves - 1 and len(set(used)) == len(used)
                and set(used) == set(range(n_nodes - 1)))


def grid_adjacency(grid: int) -> np.ndarray:
    """4-neighbourhood of the cells of a ``grid`` x ``grid`` patch layout (row-major): (L, L) bool."""
    if grid < 1:
        raise ValueError(f"grid must be >= 1, got {grid}")
    n = grid * grid
    adj = np.zeros((n, n), dtype=bool)
    for r in range(grid):
        for c in range(grid):
            i = r * grid + c
            if c + 1 < grid:
                adj[i, i + 1] = adj[i + 1, i] = True
            if r + 1 < grid:
                adj[i, i + grid] = adj[i + grid, i] = True
    return adj


class RecursiveNet(nn.Module):
    """Leaf encoder, composition function, node score and root classifier (few parameters).

    Args:
        leaf_dim: length of a raw local-patch vector (3 * c * c for c x c RGB patches).
        hidden: dimension d of every node's feature.
    """

    def __init__(self, leaf_dim: int, hidden: int = 24):
        super().__init__()
        self.leaf = nn.Linear(leaf_dim, hidden)
        self.compose = nn.Linear(2 * hidden, hidden)
        self.score = nn.Linear(hidden, 1)  # u: how target-like a merged region is
        self.classify = nn.Linear(hidden, 1)  # root: target vs background

    def encode_leaves(self, cells: torch.Tensor) -> torch.Tensor:
        """(N, L, leaf_dim) raw patches -> (N, L, d) leaf features."""
        return torch.tanh(self.leaf(cells))

    def parent(self, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        """:math:`\\tanh(W[c_1; c_2] + b)` for batches of children (..., d) -> (..., d)."""
        return torch.tanh(self.compose(torch.cat([left, right], dim=-1)))

    def encode(self, leaves: torch.Tensor, tree: Tree) -> torch.Tensor:
        """Features of every node of ``tree`` for a batch of regions: (N, L, d) -> (N, 2L - 1, d)."""
        if leaves.shape[1] != tree.num_leaves:
            raise ValueError(f"tree has {tree.num_leaves} leaves but the regions have {leaves.shape[1]} patches")
        nodes = list(leaves.unbind(1))
        for a, b in tree.merges:
            nodes.append(self.parent(nodes[a], nodes[b]))
        return torch.stack(nodes, dim=1)


@torch.no_grad()
def greedy_tree(net: RecursiveNet, leaves: torch.Tensor, adjacency: np.ndarray,
                noise: float = 0.0, rng: np.random.Generator | None = None) -> Tree:
    """Build a tree over one region's leaves (L, d) by greedy merging of adjacent nodes.

    At every step the score of each adjacent pair's parent is computed, ``noise`` times a Gumbel
    draw is added (``noise=0``: the deterministic greedy tree), and the best pair is merged.
    """
    n = leaves.shape[0]
    if adjacency.shape != (n, n):
        raise ValueError(f"adjacency must be ({n}, {n}) for {n} leaves, got {adjacency.shape}")
    if noise > 0 and rng is None:
        raise ValueError("a random tree (noise > 0) needs an rng")
    feats = {i: leaves[i] for i in range(n)}
    spans = {i: np.eye(n, dtype=bool)[i] for i in range(n)}
    active = list(range(n))
    merges = []
    while len(active) > 1:
        pairs = [(a, b) for i, a in enumerate(active) for b in active[i + 1:]
                 if adjacency[spans[a]][:, spans[b]].any()]
        if not pairs:  # disconnected layout: allow any pair so the tree still covers every leaf
            pairs = [(a, b) for i, a in enumerate(active) for b in active[i + 1:]]
        left = torch.stack([feats[a] for a, _ in pairs])
        right = torch.stack([feats[b] for _, b in pairs])
        parents = net.parent(left, right)
        scores = net.score(parents).squeeze(-1).numpy()
        if noise > 0:
            scores = scores + noise * rng.gumbel(size=len(pairs))
        k = int(np.argmax(scores))
        a, b = pairs[k]
        new = n + len(merges)
        merges.append((a, b))
        feats[new] = parents[k]
        spans[new] = spans[a] | spans[b]
        active = [x for x in active if x not in (a, b)] + [new]
    return Tree(n, tuple(merges))


def first_frame_loss(net: RecursiveNet, cells: torch.Tensor, labels: torch.Tensor, trees: list[Tree],
                     node_weight: float = 0.5) -> torch.Tensor:
    """Discriminative loss of the first frame: target (1) vs background (0) samples.

    Binary cross-entropy of the root classifier, averaged over the trees, plus ``node_weight``
    times the same loss on every internal node's score (so that the greedy search prefers merges
    that look like the target).
    """
    leaves = net.encode_leaves(cells)
    loss = cells.new_zeros(())
    for tree in trees:
        nodes = net.encode(leaves, tree)
        root = nodes[:, -1]
        loss = loss + F.binary_cross_entropy_with_logits(net.classify(root).squeeze(-1), labels)
        internal = net.score(nodes[:, tree.num_leaves:]).squeeze(-1)
        loss = loss + node_weight * F.binary_cross_entropy_with_logits(
            internal, labels[:, None].expand_as(internal))
    return loss / len(trees)
