"""A neighbour sampler (GraphSAGE fan-outs) written from tensors.

PyG's ``NeighborLoader`` needs ``pyg-lib`` or ``torch-sparse``, which are not installed here, so
the chapter writes the sampler the library would provide: for a batch of seed nodes, hop by hop,
keep at most ``fanouts[l]`` in-neighbours of every frontier node, chosen uniformly *without*
replacement, and relabel the union of the visited nodes ``0..len(n_id)-1`` with the seeds first.
The result is what ``NeighborLoader`` yields: ``n_id`` (global ids), a local ``edge_index`` and
``batch_size``. Each worker samples from its own training seeds, over the edges it was given: the
whole graph's in one process, or in a partition-local worker the in-edges its seeds' samples can
reach (:mod:`companion.distgnn.local`); features stay partitioned and are fetched.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["SampledSubgraph", "NeighborSampler"]


@dataclass
class SampledSubgraph:
    n_id: torch.Tensor        # (n,) global ids; the first batch_size are the seeds
    edge_index: torch.Tensor  # (2, e) local ids, messages flow edge_index[0] -> edge_index[1]
    batch_size: int


class NeighborSampler:
    """Uniform fan-out sampling over the in-neighbours of ``edge_index`` (2, E) on ``num_nodes`` nodes."""

    def __init__(self, edge_index: torch.Tensor, num_nodes: int, fanouts: list[int] | tuple[int, ...]):
        if len(fanouts) == 0 or any(int(k) < 1 for k in fanouts):
            raise ValueError(f"fanouts must be a non-empty list of ints >= 1, got {list(fanouts)}")
        src, dst = edge_index
        order = torch.argsort(dst, stable=True)
        self.col = src[order].contiguous()  # in-neighbours grouped by destination
        self.rowptr = torch.zeros(num_nodes + 1, dtype=torch.long)
        self.rowptr[1:] = torch.cumsum(torch.bincount(dst, minlength=num_nodes), 0)
        self.fanouts = [int(k) for k in fanouts]
        self.num_nodes = num_nodes
        self._pos = torch.full((num_nodes,), -1, dtype=torch.long)  # global -> local, reset after each call

    def _pick(self, frontier: torch.Tensor, k: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(neighbour, frontier node) pairs: at most ``k`` distinct in-neighbours per frontier node."""
        start, deg = self.rowptr[frontier], self.rowptr[frontier + 1] - self.rowptr[frontier]
        seg = torch.repeat_interleave(torch.arange(frontier.numel()), deg)
        if seg.numel() == 0:
            return frontier.new_empty(0), frontier.new_empty(0)
        seg_start = torch.cumsum(deg, 0) - deg
        offset = torch.arange(seg.numel()) - seg_start[seg]
        # random key per candidate; sorting by (segment, key) and keeping the first k of each
        # segment is an exact uniform sample without replacement
        order = torch.argsort(seg.double() + torch.rand(seg.numel(), generator=g, dtype=torch.float64))
        seg, offset = seg[order], offset[order]
        rank = torch.arange(seg.numel()) - seg_start[seg]
        keep = rank < k
        seg, offset = seg[keep], offset[keep]
        return self.col[start[seg] + offset], frontier[seg]

    def sample(self, seeds: torch.Tensor, generator: torch.Generator | None = None) -> SampledSubgraph:
        """Sample the ``len(fanouts)``-hop computation graph of ``seeds`` (global ids, distinct)."""
        g = generator or torch.Generator().manual_seed(0)
        seeds = seeds.long()
        if seeds.numel() and (int(seeds.min()) < 0 or int(seeds.max()) >= self.num_nodes):
            raise ValueError(f"seed ids must be in [0, {self.num_nodes})")
        pos = self._pos
        n_id = [seeds]
        pos[seeds] = torch.arange(seeds.numel())
        count = seeds.numel()
        srcs, dsts = [], []
        frontier = seeds
        try:
            for k in self.fanouts:
                nbr, tgt = self._pick(frontier, k, g)
                new = torch.unique(nbr[pos[nbr] < 0])
                pos[new] = count + torch.arange(new.numel())
                count += new.numel()
                n_id.append(new)
                srcs.append(pos[nbr])
                dsts.append(pos[tgt])
                frontier = new
            n_id_t = torch.cat(n_id)
        finally:
            pos[torch.cat(n_id)] = -1
        edge_index = torch.stack([torch.cat(srcs), torch.cat(dsts)]) if srcs else torch.empty(2, 0, dtype=torch.long)
        return SampledSubgraph(n_id_t, edge_index, int(seeds.numel()))
