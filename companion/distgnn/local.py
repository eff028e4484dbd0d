"""Partition-local workers: each partition written to disk once, each worker loads only its own.

A worker that rebuilds the whole graph and keeps only its rows holds the whole graph in memory,
which defeats the reason to partition. Here a preprocessing step (one process that can hold the
whole graph once, as DistDGL's partition step does) writes one folder per partition::

    DIR/part{r}/node.pt    owned global ids, features, labels, masks, sizes (both workflows)
    DIR/part{r}/halo.pt    full-graph training: the HaloPlan (halo ids, send lists, local graph)
    DIR/part{r}/sample.pt  mini-batch training: the in-edges of the owned nodes and of their
                           (L-1)-hop in-neighbours (all that L-hop sampling from owned seeds
                           visits), the partition book (owner of every node) and global in-degrees

A worker loads ``node.pt`` and the file of its workflow, nothing else. What grows with the whole
graph on every worker is two vectors of ``N`` int64 (the partition book and the in-degrees, used
to route feature requests and rank cache candidates) and, in mini-batch training, the sampler's
and feature store's ``N``-entry index arrays; everything else is the partition's own.
Feature rows of remote nodes are fetched from their owners (:class:`~.cache.FeatureStore`).
Across machines each machine needs only the folders of its own ranks.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from companion.distgnn.halo import HaloPlan, build_halo_plan

__all__ = ["LocalPartition", "make_partition", "write_partitions", "load_partition", "partition_folder",
           "rss_mb", "peak_rss_mb", "MODES"]

MODES = ("full", "minibatch")
_NODE_KEYS = ("owned", "x", "y", "train_mask", "val_mask", "test_mask")


def rss_mb() -> float:
    """Resident set size of this process now, in MB (``/proc/self/statm``; psutil elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux
        import psutil

        return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    """The largest resident set size of this process so far, in MB (``getrusage``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass
class LocalPartition:
    """What worker ``rank`` holds: its nodes' data and the structure of its workflow.

    ``plan`` is set for full-graph training; ``sample_edges`` (2, E_p) global ids, ``parts``
    (N,) and ``in_degree`` (N,) for mini-batch training.
    """

    rank: int
    world_size: int
    num_nodes: int
    num_classes: int
    num_train: int              # training nodes of the whole graph (the loss is their mean)
    owned: torch.Tensor
    x: torch.Tensor
    y: torch.Tensor
    train_mask: torch.Tensor
    val_mask: torch.Tensor
    test_mask: torch.Tensor
    plan: HaloPlan | None = None
    sample_edges: torch.Tensor | None = None
    parts: torch.Tensor | None = None
    in_degree: torch.Tensor | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor this partition holds, by name (the plan's fields as ``plan.<name>``)."""
        out = {k: getattr(self, k) for k in _NODE_KEYS}
        for k in ("sample_edges", "parts", "in_degree"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        if self.plan is not None:
            for k in ("owned", "halo", "recv_counts", "edge_index", "edge_weight"):
                out[f"plan.{k}"] = getattr(self.plan, k)
            for r, s in enumerate(self.plan.send_index):
                out[f"plan.send_index.{r}"] = s
        return out

    def nbytes(self, structure_only: bool = False) -> int:
        """Bytes of the tensors this worker loaded (the plan's owned ids are the partition's own);
        ``structure_only``: only the graph structure (everything but the node data of ``node.pt``)."""
        seen, total = set(), 0
        tensors = self.tensors()
        if structure_only:
            seen = {(t.untyped_storage().data_ptr(), t.numel()) for k, t in tensors.items() if k in _NODE_KEYS}
        for t in tensors.values():
            key = (t.untyped_storage().data_ptr(), t.numel())
            if key not in seen:
                seen.add(key)
                total += t.numel() * t.element_size()
        return total


    def edge_share(self) -> float:
        """Share of the graph's directed edges this worker holds: its in-edges (full-graph), or the
        in-edges its sampler can reach (mini-batch); ``extra["num_edges"]`` is the graph's count."""
        total = self.extra.get("num_edges")
        if not total:
            return float("nan")
        if self.plan is not None:
            held = self.plan.edge_index.shape[1] - self.plan.num_owned  # without the self-loops
        else:
            held = self.sample_edges.shape[1]
        return held / total


def _sample_edges(edge_index: torch.Tensor, parts: torch.Tensor, rank: int, hops: int) -> torch.Tensor:
    """In-edges of the owned nodes and of every node within ``hops`` in-hops of them, in the
    original edge order (so sampling from them draws exactly what sampling the whole graph draws)."""
    src, dst = edge_index
    inside = parts == rank
    for _ in range(hops):
        grow = inside.clone()
        grow[src[inside[dst]]] = True
        inside = grow
    return edge_index[:, inside[dst]].clone()


def make_partition(data, parts: torch.Tensor, rank: int, world_size: int, mode: str,
                   hops: int = 1) -> LocalPartition:
    """Worker ``rank``'s share of ``data`` (a PyG ``Data``) for workflow ``mode``, in memory.

    ``hops`` (mini-batch only): sampling depth minus one, 1 for a 2-layer model.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if parts.numel() != data.num_nodes:
        raise ValueError(f"parts has {parts.numel()} entries for {data.num_nodes} nodes")
    if world_size > data.num_nodes:
        raise ValueError(f"more workers ({world_size}) than nodes ({data.num_nodes})")
    owned = torch.nonzero(parts == rank).flatten()
    part = LocalPartition(rank, world_size, int(data.num_nodes), int(data.y.max()) + 1, int(data.train_mask.sum()),
                          owned, data.x[owned].clone(), data.y[owned].clone(), data.train_mask[owned].clone(),
                          data.val_mask[owned].clone(), data.test_mask[owned].clone())
    src, dst = data.edge_index
    part.extra["num_edges"] = int((src != dst).sum())
    if mode == "full":
        part.plan = build_halo_plan(data.edge_index, parts, rank, world_size)
    else:
        part.sample_edges = _sample_edges(data.edge_index, parts, rank, hops)
        part.parts = parts.clone()
        part.in_degree = torch.bincount(data.edge_index[1], minlength=data.num_nodes)
    return part


def partition_folder(root: str | Path, rank: int) -> Path:
    """``root/part{rank}``: the folder of one partition."""
    return Path(root) / f"part{rank}"


def write_partitions(data, parts: torch.Tensor, root: str | Path, world_size: int,
                     modes: tuple[str, ...] = MODES, hops: int = 1, ranks: list[int] | None = None) -> Path:
    """Write ``root/part{r}/`` for every rank ``r`` (or only ``ranks``): node data and one file per
    workflow in ``modes``. Returns ``root``. Run once, by a process that holds the whole graph."""
    root = Path(root)
    if int(parts.max()) >= world_size or int(parts.min()) < 0:
        raise ValueError(f"parts must hold ids in [0, {world_size}), got [{int(parts.min())}, {int(parts.max())}]")
    for r in (range(world_size) if ranks is None else ranks):
        folder = partition_folder(root, r)
        folder.mkdir(parents=True, exist_ok=True)
        node = None
        for mode in modes:
            p = make_partition(data, parts, r, world_size, mode, hops)
            if node is None:
                node = {k: getattr(p, k) for k in _NODE_KEYS}
                node.update(rank=r, world_size=world_size, num_nodes=p.num_nodes, num_classes=p.num_classes,
                            num_train=p.num_train, num_edges=p.extra["num_edges"])
                torch.save(node, folder / "node.pt")
            if mode == "full":
                torch.save(p.plan, folder / "halo.pt")
            else:
                torch.save({"sample_edges": p.sample_edges, "parts": p.parts, "in_degree": p.in_degree},
                           folder / "sample.pt")
    return root


def load_partition(root: str | Path, rank: int, world_size: int, mode: str) -> LocalPartition:
    """Load ``root/part{rank}``: the node data and the file of workflow ``mode`` (nothing else).

    Raises ``FileNotFoundError`` naming the folder when it is missing (across machines: copy each
    machine's own partitions to it) and ``ValueError`` when it was written for another world size.
    """
    folder = partition_folder(root, rank)
    need = folder / ("halo.pt" if mode == "full" else "sample.pt")
    for f in (folder / "node.pt", need):
        if not f.is_file():
            raise FileNotFoundError(f"partition file {f} not found: write the partitions first "
                                    f"(--write-partitions), and on several machines copy each machine's "
                                    f"own part folders to it")
    node = torch.load(folder / "node.pt", weights_only=False)
    if node["world_size"] != world_size or node["rank"] != rank:
        raise ValueError(f"{folder} holds part {node['rank']} of {node['world_size']}, "
                         f"but this worker is rank {rank} of {world_size}")
    part = LocalPartition(rank, world_size, node["num_nodes"], node["num_classes"], node["num_train"],
                          *(node[k] for k in _NODE_KEYS))
    if "num_edges" in node:
        part.extra["num_edges"] = node["num_edges"]
    if mode == "full":
        part.plan = torch.load(need, weights_only=False)
    else:
        s = torch.load(need, weights_only=False)
        part.sample_edges, part.parts, part.in_degree = s["sample_edges"], s["parts"], s["in_degree"]
    return part
