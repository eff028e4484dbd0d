"""``sbm_features``: a stochastic block model with class-correlated bag-of-words features (Cora-like).

What is planted:

- **Blocks = classes.** Each node gets one of ``num_classes`` labels (uniformly at random). The
  graph has about ``num_nodes * avg_degree / 2`` undirected edges; each edge picks a uniform
  random endpoint, and its other endpoint is a uniform node of the *same* class with probability
  ``homophily``, else a uniform node of another class. This is a planted-partition SBM
  (block-constant edge probabilities) sampled edge by edge in O(E), so it scales to 200k nodes
  with sparse ops: nothing of size N x N is ever built. Duplicate edges and self-loops are dropped,
  so the realised degree is slightly below ``avg_degree``. Cora has 2,708 nodes, 7 classes,
  average degree about 3.9 and edge homophily about 0.81; the defaults copy those.
- **Features.** Binary bag-of-words over ``num_features`` words. Every word fires with
  probability ``p_base``; each class owns ``num_features // num_classes`` topic words that fire
  with probability ``p_topic`` for its members. With the defaults a node has a few topic words
  among a similar number of noise words, so the features alone classify only moderately well
  and the graph adds a lot: the regime where a GCN beats an MLP, as on Cora.
- **Split.** Planetoid-style masks: ``train_per_class`` labelled nodes per class, then
  ``num_val`` validation and ``num_test`` test nodes, disjoint, all seeded.

This is a teaching instrument, not Cora: numbers measured on it are not comparable with
the Cora numbers of a paper.
"""

from __future__ import annotations

import torch

from companion.data._registry import register


def _sbm_edges(y: torch.Tensor, num_edges: int, homophily: float, num_classes: int, g: torch.Generator) -> torch.Tensor:
    n = y.numel()
    order = torch.argsort(y, stable=True)  # nodes grouped by class
    counts = torch.bincount(y, minlength=num_classes)
    starts = torch.cumsum(counts, 0) - counts
    src = torch.randint(0, n, (num_edges,), generator=g)
    same = torch.rand(num_edges, generator=g) < homophily
    # target class: own class, or a uniformly chosen other class (shift by 1..C-1)
    shift = torch.randint(1, max(num_classes, 2), (num_edges,), generator=g) % num_classes
    cls = torch.where(same, y[src], (y[src] + shift) % num_classes)
    size = counts[cls].clamp(min=1)
    offset = (torch.rand(num_edges, generator=g) * size).long().clamp(max=size - 1)
    dst = order[starts[cls] + offset]
    keep = src != dst
    src, dst = src[keep], dst[keep]
    lo, hi = torch.minimum(src, dst), torch.maximum(src, dst)
    key = torch.unique(lo * n + hi)  # drop duplicate edges
    lo, hi = key // n, key % n
    return torch.cat([torch.stack([lo, hi]), torch.stack([hi, lo])], dim=1)


@register("sbm_features", "generator",
          "stochastic block model with class-correlated bag-of-words features; Cora-like at 3k nodes, scales to 200k")
def load_sbm_features(
    num_nodes: int = 3000,
    num_classes: int = 7,
    avg_degree: float = 4.0,
    homophily: float = 0.8,
    num_features: int = 140,
    p_topic: float = 0.2,
    p_base: float = 0.04,
    train_per_class: int = 20,
    num_val: int = 500,
    num_test: int = 1000,
    seed: int = 0,
):
    """A PyG ``Data`` with ``x`` (N, F) 0/1 floats, ``edge_index`` (2, 2E) undirected, ``y`` (N,) and masks.

    Args:
        num_nodes: N (3,000 by default; 200,000 takes a few seconds and ~100 MB of features).
        num_classes: C, the number of blocks.
        avg_degree: target mean degree (before duplicates are removed).
        homophily: share of edges that join two nodes of the same class (edge homophily).
        num_features: vocabulary size F; each class owns ``F // C`` topic words.
        p_topic, p_base: firing probability of a node's own topic words and of every word.
        train_per_class, num_val, num_test: sizes of the Planetoid-style split.
        seed: everything is a function of the seed.
    """
    if num_classes < 2 or num_nodes < num_classes:
        raise ValueError(f"need num_classes >= 2 and num_nodes >= num_classes, got {num_nodes}, {num_classes}")
    if not 0.0 <= homophily <= 1.0:
        raise ValueError(f"homophily must be in [0, 1], got {homophily}")
    if avg_degree <= 0:
        raise ValueError(f"avg_degree must be > 0, got {avg_degree}")
    if not (0.0 <= p_base <= 1.0 and 0.0 <= p_topic <= 1.0):
        raise ValueError(f"p_base and p_topic must be probabilities, got {p_base}, {p_topic}")
    if num_features < num_classes:
        raise ValueError(f"num_features must be >= num_classes, got {num_features}")
    if train_per_class * num_classes + num_val + num_test > num_nodes:
        raise ValueError(
            f"split needs {train_per_class * num_classes + num_val + num_test} nodes but num_nodes={num_nodes}"
        )
    g = torch.Generator().manual_seed(int(seed))
    y = torch.randint(0, num_classes, (num_nodes,), generator=g)
    edge_index = _sbm_edges(y, int(round(num_nodes * avg_degree / 2)), homophily, num_classes, g)

    return node_classification_data(y, edge_index, num_classes, num_features, p_topic, p_base,
                                    train_per_class, num_val, num_test, g)


def node_classification_data(y: torch.Tensor, edge_index: torch.Tensor, num_classes: int, num_features: int,
                             p_topic: float, p_base: float, train_per_class: int, num_val: int, num_test: int,
                             g: torch.Generator):
    """Class-correlated bag-of-words features and a Planetoid-style split around a generated graph.

    Class ``c`` owns the topic words ``c * F // C .. (c + 1) * F // C - 1``; a node fires its own
    topic words with probability ``p_topic`` and every word with ``p_base``. The split takes
    ``train_per_class`` nodes of each class, then ``num_val`` and ``num_test`` of the rest. Shared
    by the graph generators of this package so that they differ only in their edges.
    """
    from torch_geometric.data import Data

    num_nodes = len(y)
    words = num_features // num_classes
    rate = torch.full((num_classes, num_features), p_base)
    for c in range(num_classes):
        rate[c, c * words:(c + 1) * words] = max(p_topic, p_base)
    x = (torch.rand(num_nodes, num_features, generator=g) < rate[y]).float()

    perm = torch.randperm(num_nodes, generator=g)
    train = torch.cat([perm[y[perm] == c][:train_per_class] for c in range(num_classes)])
    if train.numel() + num_val + num_test > num_nodes:
        raise ValueError(f"split needs {train.numel() + num_val + num_test} nodes but num_nodes={num_nodes}")
    rest = perm[~torch.isin(perm, train)]
    masks = {}
    for split, idx in (("train", train), ("val", rest[:num_val]), ("test", rest[num_val:num_val + num_test])):
        m = torch.zeros(num_nodes, dtype=torch.bool)
        m[idx] = True
        masks[split] = m
    return Data(x=x, edge_index=edge_index, y=y, train_mask=masks["train"], val_mask=masks["val"],
                test_mask=masks["test"])
