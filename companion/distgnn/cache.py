"""Remote features for mini-batch training: a partitioned feature store and a cache of hot nodes.

Worker :math:`p` stores the features of the nodes it owns. A sampled batch also touches nodes
owned elsewhere; their rows are *fetched*: one all-to-all of the requested ids, one all-to-all
of the feature rows back. A static cache (as in PaGraph) keeps a copy of some remote rows,
chosen once before training by a *policy*; a lookup that hits the cache needs no fetch. On a
skewed-degree graph a few hubs appear in most sampled neighbourhoods, so caching them by
degree removes a large share of the fetches with a small cache.
"""

from __future__ import annotations

from typing import Callable

import torch

from companion.distgnn.comm import CommMeter

__all__ = ["degree_policy", "random_policy", "halo_degree_policy", "CACHE_POLICIES", "FeatureCache", "FeatureStore"]


def _remote(parts: torch.Tensor, rank: int) -> torch.Tensor:
    return torch.nonzero(parts != rank).flatten()


def degree_policy(edge_index: torch.Tensor, parts: torch.Tensor, rank: int, capacity: int,
                  in_degree: torch.Tensor | None = None) -> torch.Tensor:
    """The ``capacity`` remote nodes of highest (in-)degree, ties broken by the smaller id; sorted ids.

    ``in_degree`` (N,): the global in-degrees, for a worker that holds only part of ``edge_index``.
    """
    if capacity < 0:
        raise ValueError(f"capacity must be >= 0, got {capacity}")
    deg = torch.bincount(edge_index[1], minlength=parts.numel()) if in_degree is None else in_degree
    cand = _remote(parts, rank)
    # stable sort on -degree keeps ascending ids among equal degrees
    order = torch.argsort(-deg[cand], stable=True)
    return torch.sort(cand[order[:capacity]]).values


def halo_degree_policy(edge_index: torch.Tensor, parts: torch.Tensor, rank: int, capacity: int,
                       in_degree: torch.Tensor | None = None) -> torch.Tensor:
    """Remote nodes ranked by the number of edges into this worker's nodes (1-hop demand), then degree.

    ``edge_index`` needs every in-edge of this worker's nodes; ``in_degree`` as in :func:`degree_policy`.
    """
    if capacity < 0:
        raise ValueError(f"capacity must be >= 0, got {capacity}")
    src, dst = edge_index
    n = parts.numel()
    into = (parts[dst] == rank) & (parts[src] != rank)
    demand = torch.bincount(src[into], minlength=n)
    deg = torch.bincount(dst, minlength=n) if in_degree is None else in_degree
    cand = _remote(parts, rank)
    score = demand[cand].double() * (n + 1) + deg[cand].double()
    order = torch.argsort(-score, stable=True)
    return torch.sort(cand[order[:capacity]]).values


def random_policy(edge_index: torch.Tensor, parts: torch.Tensor, rank: int, capacity: int, seed: int = 0,
                  in_degree: torch.Tensor | None = None) -> torch.Tensor:
    """``capacity`` remote nodes chosen uniformly at random (the baseline a policy must beat)."""
    if capacity < 0:
        raise ValueError(f"capacity must be >= 0, got {capacity}")
    cand = _remote(parts, rank)
    perm = torch.randperm(cand.numel(), generator=torch.Generator().manual_seed(seed + rank))
    return torch.sort(cand[perm[:capacity]]).values


CACHE_POLICIES: dict[str, Callable[..., torch.Tensor]] = {
    "degree": degree_policy, "halo_degree": halo_degree_policy, "random": random_policy}


class FeatureCache:
    """A static cache: rows of ``features`` for the global ids ``ids``; counts hits and lookups."""

    def __init__(self, ids: torch.Tensor, features: torch.Tensor, num_nodes: int):
        if ids.numel() != features.shape[0]:
            raise ValueError(f"{ids.numel()} ids but {features.shape[0]} feature rows")
        self.slot = torch.full((num_nodes,), -1, dtype=torch.long, device=features.device)
        self.slot[ids] = torch.arange(ids.numel())
        self.features = features
        self.ids = ids
        self.hits = 0
        self.lookups = 0

    def lookup(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(hit mask over ``ids``, cached rows of the hits)."""
        s = self.slot[ids]
        hit = s >= 0
        self.hits += int(hit.sum())
        self.lookups += ids.numel()
        return hit, self.features[s[hit]]

    @property
    def hit_rate(self) -> float:
        return self.hits / self.lookups if self.lookups else 0.0

    def nbytes(self) -> int:
        return self.features.numel() * self.features.element_size()


class FeatureStore:
    """Worker ``meter.rank``'s rows of the feature matrix, and :meth:`fetch` for any global ids.

    Every worker must call :meth:`fetch` the same number of times (it runs collectives).
    """

    def __init__(self, x_owned: torch.Tensor, owned: torch.Tensor, parts: torch.Tensor, meter: CommMeter):
        self.x = x_owned
        self.parts = parts.to(x_owned.device)
        self.meter = meter
        # the bookkeeping lives beside the features: NCCL moves only tensors on the GPU
        self.local = torch.full((parts.numel(),), -1, dtype=torch.long, device=x_owned.device)
        self.local[owned.to(x_owned.device)] = torch.arange(owned.numel(), device=x_owned.device)
        self.cache: FeatureCache | None = None
        self.remote_lookups = 0
        self.fetched_rows = 0

    def _fetch_remote(self, ids: torch.Tensor, kind: str) -> torch.Tensor:
        """Rows of remote ``ids`` via two all-to-alls (ids out, features back)."""
        m, world, f = self.meter, self.meter.world_size, self.x.shape[1]
        owner = self.parts[ids]
        order = torch.argsort(owner, stable=True)
        counts = torch.bincount(owner, minlength=world)
        asked = list(ids[order].split(counts.tolist()))
        their_counts = m.exchange_counts(counts, kind=f"{kind}_meta")
        dev = self.x.device
        requests = [torch.empty(int(c), dtype=torch.long, device=dev) for c in their_counts]
        m.all_to_all(requests, asked, kind=f"{kind}_ids")
        replies = [self.x[self.local[r]] for r in requests]
        rows = [torch.empty(int(c), f, device=dev) for c in counts]
        m.all_to_all(rows, replies, kind=f"{kind}_rows")
        out = torch.empty(ids.numel(), f, device=dev)
        out[order] = torch.cat(rows) if rows else out[:0]
        return out

    def fetch(self, ids: torch.Tensor, kind: str = "fetch") -> torch.Tensor:
        """Feature rows for global ``ids``: local rows, cache hits, and fetched misses."""
        ids = ids.to(self.x.device)
        out = torch.empty(ids.numel(), self.x.shape[1], device=self.x.device)
        mine = self.local[ids] >= 0
        out[mine] = self.x[self.local[ids[mine]]]
        rem_pos = torch.nonzero(~mine).flatten()
        self.remote_lookups += rem_pos.numel()
        if self.cache is not None and rem_pos.numel():
            hit, rows = self.cache.lookup(ids[rem_pos])
            out[rem_pos[hit]] = rows
            rem_pos = rem_pos[~hit]
        self.fetched_rows += rem_pos.numel()
        if self.meter.world_size > 1:
            out[rem_pos] = self._fetch_remote(ids[rem_pos], kind)
        return out

    def build_cache(self, ids: torch.Tensor) -> FeatureCache:
        """Fill a cache with the rows of ``ids`` (fetched once, counted under ``"cache_fill"``)."""
        rows = self.fetch(ids, kind="cache_fill") if self.meter.world_size > 1 else self.x[self.local[ids]]
        self.remote_lookups = self.fetched_rows = 0
        self.cache = FeatureCache(ids.to(rows.device), rows, self.parts.numel())
        return self.cache
