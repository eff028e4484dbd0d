"""Checked exercises of the distributed-training chapter (keys ``ch02.*``)."""

from __future__ import annotations

import torch

from companion.distgnn.cache import degree_policy
from companion.distgnn.partition import partition_quality
from companion.exercises import exercise


def _graphs():
    g = torch.Generator().manual_seed(2)
    for n, e, p in ((8, 12, 2), (30, 60, 3), (50, 120, 4)):
        src = torch.randint(0, n, (e,), generator=g)
        dst = torch.randint(0, n, (e,), generator=g)
        keep = src != dst
        und = torch.unique(torch.stack([torch.minimum(src, dst), torch.maximum(src, dst)])[:, keep], dim=1)
        edge_index = torch.cat([und, und.flip(0)], dim=1)
        parts = torch.arange(n) % p
        parts = parts[torch.randperm(n, generator=g)]
        yield edge_index, parts, p


def _cut_cases():
    for edge_index, parts, p in _graphs():
        yield (edge_index, parts, p), {}


@exercise("ch02.edge_cut_halo", _cut_cases)
def edge_cut_and_halo(edge_index: torch.Tensor, parts: torch.Tensor, num_parts: int) -> tuple[int, list[int]]:
    """Reference: (undirected edges cut, halo size of every part) of a partition."""
    q = partition_quality(edge_index, parts, num_parts)
    return q["edge_cut"], q["halo_sizes"]


def _policy_cases():
    for edge_index, parts, p in _graphs():
        for rank, capacity in ((0, 3), (p - 1, 5)):
            yield (edge_index, parts, rank, capacity), {}


@exercise("ch02.cache_policy", _policy_cases)
def cache_policy(edge_index: torch.Tensor, parts: torch.Tensor, rank: int, capacity: int) -> torch.Tensor:
    """Reference: the ``capacity`` remote nodes of highest degree (ties: smaller id first), sorted."""
    return degree_policy(edge_index, parts, rank, capacity)


def _bytes_cases():
    for edge_index, parts, p in _graphs():
        for dim in (1, 16):
            yield (edge_index, parts, p, dim), {}


@exercise("ch02.halo_bytes", _bytes_cases)
def halo_bytes_per_layer(edge_index: torch.Tensor, parts: torch.Tensor, num_parts: int, dim: int) -> int:
    """Reference: bytes all workers together send in the forward halo exchange of one layer
    whose input has ``dim`` float32 columns: every halo row is sent once, ``4 * dim`` bytes."""
    return partition_quality(edge_index, parts, num_parts)["total_halo"] * dim * 4
