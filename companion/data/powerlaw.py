"""``powerlaw_graph``: an R-MAT (Graph500-style) graph with skewed degrees, for node classification.

What is planted:

- **Skewed degrees (R-MAT).** Each of about ``num_nodes * avg_degree / 2`` undirected edges
  picks its two endpoints by descending ``ceil(log2 num_nodes)`` levels of a recursive 2 x 2
  split of the adjacency matrix, choosing the quadrant with probabilities
  ``(a, b, c, 1 - a - b - c)`` (Graph500 uses 0.57, 0.19, 0.19, 0.05). Endpoints beyond
  ``num_nodes``, self-loops and duplicates are dropped and more edges are drawn until the target
  is met (O(E) work). Node ids are then randomly permuted, as in Graph500, so the hubs are not
  the small ids. The degree distribution is heavy-tailed: a few hubs touch a large share of the
  edges (and many nodes are isolated), which is where caching hot nodes pays off.
- **Labels that follow the graph.** Labels are uniform over ``num_classes``. For each R-MAT
  draw (u, v), with probability ``homophily`` the far end v is redrawn from the R-MAT endpoints
  of u's class (a draw from the endpoint list picks a node in proportion to its R-MAT degree),
  so hubs stay hubs while edges prefer their own class: a degree-corrected planted partition
  whose degrees come from R-MAT. The edge homophily is about ``h + (1 - h) / C``
  (:func:`edge_homophily` measures it). Isolated nodes have only their features.
- **Features.** Binary bag-of-words as in ``sbm_features``: every word fires with ``p_base``,
  and each class owns ``num_features // num_classes`` topic words firing with ``p_topic``.
- **Split.** ``train_per_class`` labelled nodes per class (fewer if a class is small), then
  ``num_val`` and ``num_test`` nodes, disjoint and seeded.
"""

from __future__ import annotations

import math

import torch

from companion.data._registry import register
from companion.data.sbm import node_classification_data


def _rmat_pairs(n: int, m: int, a: float, b: float, c: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``m`` R-MAT draws; the pairs whose endpoints fall beyond ``n`` are dropped."""
    scale = max(1, math.ceil(math.log2(n)))
    src = torch.zeros(m, dtype=torch.long)
    dst = torch.zeros(m, dtype=torch.long)
    for level in range(scale):
        u = torch.rand(m, generator=g)
        src |= (u >= a + b).long() << level                                   # quadrants c, d
        dst |= (((u >= a) & (u < a + b)) | (u >= a + b + c)).long() << level  # quadrants b, d
    ok = (src < n) & (dst < n)
    return src[ok], dst[ok]


def _powerlaw_edges(y: torch.Tensor, num_edges: int, homophily: float, a: float, b: float, c: float,
                    num_classes: int, g: torch.Generator) -> torch.Tensor:
    n = y.numel()
    relabel = torch.randperm(n, generator=g)  # Graph500 permutes vertex ids
    keys = torch.empty(0, dtype=torch.long)
    for _ in range(50):  # each round keeps most draws; a few rounds always suffice
        src, dst = _rmat_pairs(n, int(1.3 * (num_edges - keys.numel())) + 16, a, b, c, g)
        src, dst = relabel[src], relabel[dst]
        # rewire: with probability `homophily` the far end is redrawn from the R-MAT endpoints
        # of the source's class, so a node keeps its R-MAT popularity but prefers its own class
        pool = torch.cat([src, dst])
        pool = pool[torch.argsort(y[pool], stable=True)]
        counts = torch.bincount(y[pool], minlength=num_classes)
        starts = torch.cumsum(counts, 0) - counts
        cls = y[src]
        size = counts[cls].clamp(min=1)
        pick = pool[(starts[cls] + (torch.rand(src.numel(), generator=g) * size).long().clamp(max=size - 1))
                    .clamp(max=pool.numel() - 1)]
        same = (torch.rand(src.numel(), generator=g) < homophily) & (counts[cls] > 0)
        dst = torch.where(same, pick, dst)
        ok = src != dst
        lo, hi = torch.minimum(src[ok], dst[ok]), torch.maximum(src[ok], dst[ok])
        keys = torch.unique(torch.cat([keys, lo * n + hi]))
        if keys.numel() >= num_edges:
            break
    keys = keys[torch.randperm(keys.numel(), generator=g)[:num_edges]]
    und = torch.stack([keys // n, keys % n])
    return torch.cat([und, und.flip(0)], dim=1)


def edge_homophily(edge_index: torch.Tensor, y: torch.Tensor) -> float:
    """Share of edges joining two nodes of the same class."""
    return float((y[edge_index[0]] == y[edge_index[1]]).float().mean()) if edge_index.numel() else 0.0


@register("powerlaw_graph", "generator",
          "R-MAT (Graph500-style) skewed-degree graph with graph-smoothed labels and class-correlated features")
def load_powerlaw_graph(
    num_nodes: int = 3000,
    avg_degree: float = 8.0,
    a: float = 0.57,
    b: float = 0.19,
    c: float = 0.19,
    num_classes: int = 5,
    homophily: float = 0.7,
    num_features: int = 100,
    p_topic: float = 0.2,
    p_base: float = 0.05,
    train_per_class: int = 20,
    num_val: int = 500,
    num_test: int = 1000,
    seed: int = 0,
):
    """A PyG ``Data`` with ``x`` (N, F) 0/1 floats, undirected ``edge_index`` (2, 2E), ``y`` (N,) and masks.

    Args:
        num_nodes: N. avg_degree: target mean degree 2E/N.
        a, b, c: R-MAT quadrant probabilities (d = 1 - a - b - c); larger ``a`` means more skew.
        num_classes: C, labels uniform at random.
        homophily: probability that an edge's far end is redrawn inside the source's class.
        num_features, p_topic, p_base: the bag-of-words features (see the module docstring).
        train_per_class, num_val, num_test: split sizes. seed: everything depends on it.
    """
    if num_nodes < 2 or num_classes < 2 or num_nodes < num_classes:
        raise ValueError(f"need num_nodes >= max(2, num_classes) and num_classes >= 2, got {num_nodes}, {num_classes}")
    if avg_degree <= 0 or avg_degree >= num_nodes - 1:
        raise ValueError(f"avg_degree must be in (0, num_nodes - 1), got {avg_degree}")
    if min(a, b, c) < 0 or a + b + c > 1:
        raise ValueError(f"a, b, c must be >= 0 with a + b + c <= 1, got {a}, {b}, {c}")
    if not 0.0 <= homophily <= 1.0:
        raise ValueError(f"homophily must be in [0, 1], got {homophily}")
    if not (0.0 <= p_base <= 1.0 and 0.0 <= p_topic <= 1.0):
        raise ValueError(f"p_base and p_topic must be probabilities, got {p_base}, {p_topic}")
    if num_features < num_classes:
        raise ValueError(f"num_features must be >= num_classes, got {num_features}")
    if num_val + num_test + num_classes > num_nodes:
        raise ValueError(f"split needs more than num_val + num_test = {num_val + num_test} of {num_nodes} nodes")
    g = torch.Generator().manual_seed(int(seed))
    y = torch.randint(0, num_classes, (num_nodes,), generator=g)
    edge_index = _powerlaw_edges(y, int(round(num_nodes * avg_degree / 2)), homophily, a, b, c, num_classes, g)

    return node_classification_data(y, edge_index, num_classes, num_features, p_topic, p_base,
                                    train_per_class, num_val, num_test, g)
