"""Hierarchical graphs: graph classification where the class lives at the community level.

Each graph is built in two levels.

* **Fine level.** ``k`` planted communities (``k`` drawn from ``communities``, default 4 to 6),
  each of ``size`` nodes (drawn per community from ``community_size``, default 4 to 7). Inside a
  community every pair is linked with probability ``p_in`` (default 0.7) on top of a random
  spanning path, so each community is connected and dense.
* **Coarse level.** The communities are joined by a *community graph* whose shape is the class:

  ======  =====================================================================
  label   community graph
  ======  =====================================================================
  0       chain: community ``i`` is joined to ``i + 1``
  1       ring: the chain plus a link from the last community back to the first
  2       star: community 0 is joined to every other community
  3       clique: every pair of communities is joined
  ======  =====================================================================

  Each community-level link becomes ``1`` or ``2`` bridge edges (drawn per link) between random
  members of the two communities, so the graph is sparse between communities.

**Node features are uninformative about the class.** Every community draws a colour out of
``num_colors`` (without replacement within a graph); each of its nodes gets that colour as a
one-hot vector plus Gaussian noise of scale ``feature_noise``. The colour says which nodes belong
together (as a functional group would in a molecule) but the colours are assigned at random, so
they carry no information on the label.

**Why flat pooling finds it harder.** The label is a property of the *community graph*: whether the
chain closes into a ring, whether one community is a hub. A flat GNN with ``L`` message-passing
layers gives each node a summary of its ``L``-hop neighbourhood and then averages or sums those
summaries: it must infer the coarse shape from local views in which a bridge edge is one edge
among many intra-community edges, and the number of nodes, edges and bridges varies with ``k``,
the community sizes and the bridges per link, so simple counts overlap between classes (a ring of
``k`` communities has as many links as a chain of ``k + 1``). A hierarchical model that pools each
community into one cluster sees the community graph directly: one message-passing step on the
coarsened graph crosses a whole community. Chain and ring differ by a single coarse link (the
hardest pair); clique is the easiest class. Ground truth: every graph carries ``community``
(the planted community of each node), so a learned assignment can be compared with it.
"""

from __future__ import annotations

import numpy as np
import torch

from companion.data._registry import register

CLASS_NAMES = ("chain", "ring", "star", "clique")


def _community_links(shape: int, k: int) -> list[tuple[int, int]]:
    if shape == 0:
        return [(i, i + 1) for i in range(k - 1)]
    if shape == 1:
        return [(i, (i + 1) % k) for i in range(k)]
    if shape == 2:
        return [(0, i) for i in range(1, k)]
    return [(i, j) for i in range(k) for j in range(i + 1, k)]


def _one_graph(label: int, rng: np.random.Generator, communities: tuple[int, int],
               community_size: tuple[int, int], p_in: float, num_colors: int, feature_noise: float):
    from torch_geometric.data import Data

    k = int(rng.integers(communities[0], communities[1] + 1))
    sizes = rng.integers(community_size[0], community_size[1] + 1, size=k)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    edges: set[tuple[int, int]] = set()
    for start, size in zip(starts, sizes):
        order = start + rng.permutation(size)
        edges.update((int(min(a, b)), int(max(a, b))) for a, b in zip(order[:-1], order[1:]))
        for i in range(size):
            for j in range(i + 1, size):
                if rng.random() < p_in:
                    edges.add((int(start + i), int(start + j)))
    for a, b in _community_links(label, k):
        for _ in range(int(rng.integers(1, 3))):
            u = int(starts[a] + rng.integers(sizes[a]))
            v = int(starts[b] + rng.integers(sizes[b]))
            edges.add((min(u, v), max(u, v)))
    n = int(sizes.sum())
    community = torch.from_numpy(np.repeat(np.arange(k), sizes)).long()
    colors = rng.choice(num_colors, size=k, replace=False)
    x = torch.zeros(n, num_colors)
    x[torch.arange(n), torch.from_numpy(colors[community.numpy()]).long()] = 1.0
    x += feature_noise * torch.from_numpy(rng.standard_normal((n, num_colors))).float()
    e = torch.tensor(sorted(edges), dtype=torch.long).t()
    edge_index = torch.cat([e, e.flip(0)], dim=1)
    return Data(x=x, edge_index=edge_index, y=torch.tensor([label]), community=community,
                num_nodes=n)


@register("hier_graphs", "generator",
          "communities joined as chain/ring/star/clique (4 classes); the label is the community-level shape")
def load_hier_graphs(num_graphs: int = 400, seed: int = 0, communities: tuple[int, int] = (4, 6),
                     community_size: tuple[int, int] = (4, 7), p_in: float = 0.7, num_colors: int = 6,
                     feature_noise: float = 0.1, num_classes: int = 4) -> list:
    """A list of ``num_graphs`` PyG ``Data`` graphs, balanced over classes, in seeded random order.

    ``num_classes`` keeps the first classes of (chain, ring, star, clique): ``2`` gives the
    hardest pair, chain versus ring. Each graph has ``x`` (``num_colors`` features),
    ``edge_index`` (undirected, both directions), ``y`` and ``community`` (planted community per node).
    """
    if num_graphs < 1:
        raise ValueError(f"num_graphs must be >= 1, got {num_graphs}")
    if not 2 <= num_classes <= 4:
        raise ValueError(f"num_classes must be in 2..4, got {num_classes}")
    lo, hi = communities
    if not 3 <= lo <= hi:
        raise ValueError(f"communities must be (lo, hi) with 3 <= lo <= hi, got {communities}")
    if not 2 <= community_size[0] <= community_size[1]:
        raise ValueError(f"community_size must be (lo, hi) with 2 <= lo <= hi, got {community_size}")
    if not 0.0 <= p_in <= 1.0:
        raise ValueError(f"p_in must be in [0, 1], got {p_in}")
    if num_colors < hi:
        raise ValueError(f"num_colors must be >= the largest number of communities ({hi}), got {num_colors}")
    rng = np.random.default_rng(seed)
    labels = np.arange(num_graphs) % num_classes
    rng.shuffle(labels)
    return [_one_graph(int(lab), rng, (lo, hi), community_size, p_in, num_colors, feature_noise)
            for lab in labels]
