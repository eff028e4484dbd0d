"""Fixed-size neighbour sampling over the knowledge graph (the official ``data_loader.construct_adj``).

KGNN-LS does not convolve over an entity's full neighbourhood: every entity gets ``K``
(``neighbor_sample_size``) neighbours sampled once, stored in two adjacency tables, so a batch's
receptive field is a dense tensor of ``K**h`` entities at hop ``h``.
"""

from __future__ import annotations

import numpy as np
import torch


def build_adjacency(kg: np.ndarray | torch.Tensor, n_entities: int, neighbor_sample_size: int,
                    seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``K`` neighbours per entity from the undirected KG.

    ``kg``: (T, 3) integer rows ``(head, relation, tail)``; each triple links head and tail both
    ways with the same relation, as in the official loader. An entity with ``>= K`` neighbours gets
    ``K`` distinct ones; one with fewer gets ``K`` drawn with replacement; one with none is its own
    neighbour through relation 0 (so every row is filled). Returns ``adj_entity`` and
    ``adj_relation``, both int64 of shape (n_entities, K).
    """
    kg = np.asarray(kg.cpu() if isinstance(kg, torch.Tensor) else kg)
    if kg.ndim != 2 or kg.shape[1] != 3:
        raise ValueError(f"kg must have shape (T, 3) rows (head, relation, tail), got {kg.shape}")
    if neighbor_sample_size < 1:
        raise ValueError(f"neighbor_sample_size must be >= 1, got {neighbor_sample_size}")
    if len(kg) and (kg[:, [0, 2]].min() < 0 or kg[:, [0, 2]].max() >= n_entities):
        raise ValueError(f"kg entity ids must be in [0, {n_entities}), got range "
                         f"[{kg[:, [0, 2]].min()}, {kg[:, [0, 2]].max()}]")
    rng = np.random.default_rng(seed)
    k = neighbor_sample_size
    # undirected: both directions, grouped by source entity
    src = np.concatenate([kg[:, 0], kg[:, 2]])
    dst = np.concatenate([kg[:, 2], kg[:, 0]])
    rel = np.concatenate([kg[:, 1], kg[:, 1]])
    order = np.argsort(src, kind="stable")
    src, dst, rel = src[order], dst[order], rel[order]
    starts = np.searchsorted(src, np.arange(n_entities), side="left")
    ends = np.searchsorted(src, np.arange(n_entities), side="right")
    adj_entity = np.empty((n_entities, k), dtype=np.int64)
    adj_relation = np.zeros((n_entities, k), dtype=np.int64)
    for e in range(n_entities):
        n = ends[e] - starts[e]
        if n == 0:
            adj_entity[e] = e
            continue
        pick = starts[e] + rng.choice(n, size=k, replace=n < k)
        adj_entity[e], adj_relation[e] = dst[pick], rel[pick]
    return torch.from_numpy(adj_entity), torch.from_numpy(adj_relation)


def receptive_field(items: torch.Tensor, adj_entity: torch.Tensor, adj_relation: torch.Tensor,
                    n_iter: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The ``H = n_iter``-hop sampled neighbourhood of a batch of items (``get_neighbors``).

    Returns ``entities`` with shapes (B, 1), (B, K), ..., (B, K**H) and ``relations`` with shapes
    (B, K), ..., (B, K**H): ``relations[h][b, j]`` links ``entities[h][b, j // K]`` to
    ``entities[h + 1][b, j]``.
    """
    if items.ndim != 1:
        raise ValueError(f"items must be a 1-D tensor of item ids, got shape {tuple(items.shape)}")
    if n_iter < 1:
        raise ValueError(f"n_iter must be >= 1, got {n_iter}")
    b = items.shape[0]
    entities = [items.view(b, 1)]
    relations = []
    for h in range(n_iter):
        entities.append(adj_entity[entities[h]].reshape(b, -1))
        relations.append(adj_relation[entities[h]].reshape(b, -1))
    return entities, relations
