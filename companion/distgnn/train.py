"""The two distributed workflows, written as one function each that every worker runs.

``train_full_graph(rank, world_size, data, parts, config)``: full-graph training. Each worker
owns a partition, exchanges the halo rows before every layer, and all-reduces the gradients.

``train_minibatch(rank, world_size, data, parts, config)``: mini-batch training. Each worker
samples fan-out neighbourhoods of its own training seeds, fetches the remote feature rows
(through an optional cache), and DistributedDataParallel all-reduces the gradients.

With ``world_size == 1`` both run without a process group: that is the single-process
baseline. Every worker returns a dict of its measurements; :func:`summarise` merges them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.distributed as dist
import torch.nn.functional as F

from companion.distgnn.cache import CACHE_POLICIES, FeatureStore
from companion.distgnn.comm import CommMeter
from companion.distgnn.halo import HaloPlan, halo_exchange
from companion.distgnn.local import LocalPartition, make_partition, peak_rss_mb
from companion.distgnn.models import GCN, SAGE
from companion.distgnn.sampler import NeighborSampler
from companion.utils import progress, seed_everything

__all__ = ["DistConfig", "train_full_graph", "train_minibatch", "train_full_graph_local", "train_minibatch_local",
           "stale_grad_halo", "finish_stale", "summarise", "TRAIN_KINDS", "SETUP_KINDS", "WORKFLOWS_LOCAL"]

# traffic that happens every training epoch (setup, cache filling and evaluation are reported apart)
TRAIN_KINDS = ("halo_fwd", "halo_bwd", "stale_fwd", "stale_bwd", "grad", "fetch_meta", "fetch_ids", "fetch_rows")


@dataclass
class DistConfig:
    """Hyper-parameters of one distributed run (the same on every worker)."""

    mode: str = "full"                  # "full" (full-graph) or "minibatch"
    hidden: int = 32
    num_layers: int = 2
    epochs: int = 50
    lr: float = 0.01
    weight_decay: float = 5e-4
    dropout: float = 0.5
    stale: bool = False                 # full-graph: historical (one epoch old) halo embeddings
    stale_grads: bool = True            # stale mode: one-epoch-old halo gradients too (PipeGCN); False: none
    zero_halo: bool = False             # full-graph control: the hidden halo is zeros in training
    fanouts: list[int] = field(default_factory=lambda: [10, 5])
    batch_size: int = 256               # global batch; each of P workers takes batch_size // P seeds
    cache_fraction: float = 0.0         # cache capacity as a share of the nodes a worker owns
    cache_policy: str = "degree"
    eval_batch_size: int = 2048
    seed: int = 0
    progress: bool = False

    def __post_init__(self) -> None:
        if self.mode not in ("full", "minibatch"):
            raise ValueError(f"mode must be 'full' or 'minibatch', got {self.mode!r}")
        if self.epochs < 1 or self.hidden < 1 or self.batch_size < 1:
            raise ValueError("epochs, hidden and batch_size must be >= 1")
        if not 0.0 <= self.cache_fraction:
            raise ValueError(f"cache_fraction must be >= 0, got {self.cache_fraction}")
        if self.zero_halo and (self.mode != "full" or self.stale):
            raise ValueError("zero_halo is a control of fresh full-graph training: mode 'full', stale False")
        if self.cache_policy not in CACHE_POLICIES:
            raise ValueError(f"cache_policy must be one of {sorted(CACHE_POLICIES)}, got {self.cache_policy!r}")


def _epoch_bytes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in TRAIN_KINDS if after.get(k, 0) - before.get(k, 0)}


def _allreduce_grads(model: torch.nn.Module, meter: CommMeter) -> None:
    """Sum the gradients of all workers in one flat buffer (one collective per step)."""
    grads = [p.grad for p in model.parameters()]
    flat = torch.cat([g.flatten() for g in grads])
    meter.all_reduce(flat, kind="grad")
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def _global_counts(meter: CommMeter, values: list[float], device: torch.device) -> list[float]:
    t = torch.tensor(values, dtype=torch.float64, device=device)
    meter.all_reduce(t, kind="eval")
    return t.tolist()


def _check_world(data, parts: torch.Tensor, world_size: int) -> None:
    if world_size > data.num_nodes:
        raise ValueError(f"more workers ({world_size}) than nodes ({data.num_nodes})")
    if parts.numel() != data.num_nodes:
        raise ValueError(f"parts has {parts.numel()} entries for {data.num_nodes} nodes")


def _setup_bytes(meter: CommMeter) -> int:
    """Bytes sent once before training: the input halo and the cache filling."""
    return meter.total("setup") + meter.total("cache_fill")


def _plan_to(plan: HaloPlan, device: torch.device) -> HaloPlan:
    """The plan with its index tensors on ``device`` (split sizes stay on the CPU)."""
    if device.type == "cpu":
        return plan
    return HaloPlan(plan.rank, plan.world_size, plan.owned, plan.halo, plan.recv_counts,
                    [s.to(device) for s in plan.send_index], plan.edge_index.to(device), plan.edge_weight.to(device))


class _StaleGradHalo(torch.autograd.Function):
    """PipeGCN's stale halo gradients: the forward returns the given (stale) halo rows; the backward
    sends this iteration's halo gradients to their owners without waiting (they arrive during the
    next iteration) and hands the owned rows the gradients the others sent one iteration earlier."""

    @staticmethod
    def forward(ctx, h_owned: torch.Tensor, rows: torch.Tensor, plan: HaloPlan, meter: CommMeter,
                state: dict) -> torch.Tensor:
        ctx.plan, ctx.meter, ctx.state, ctx.n = plan, meter, state, h_owned.shape[0]
        return rows.clone()

    @staticmethod
    def backward(ctx, grad_halo: torch.Tensor):
        plan, meter, state = ctx.plan, ctx.meter, ctx.state
        d = grad_halo.shape[1]
        grad = grad_halo.new_zeros(ctx.n, d)
        pending = state.pop("pending", None)
        if pending is not None:  # the first iteration has no earlier gradients: the remote part is 0
            meter.wait(pending[0], kind="stale_bwd_wait")  # also copies the rows into pending[1]
            for idx, g in zip(plan.send_index, pending[1]):
                grad.index_add_(0, idx, g)  # adjoint of the gather h_owned[idx]
        if "record" in state:  # tests: what was used now, what is sent now
            state["record"].append({"used": grad.detach().clone(), "sent": grad_halo.detach().clone()})
        chunks = list(grad_halo.contiguous().split(plan.recv_counts.tolist()))
        back = [grad_halo.new_empty(idx.numel(), d) for idx in plan.send_index]
        work = meter.all_to_all(back, chunks, kind="stale_bwd", async_op=True)
        state["pending"] = (work, back)
        return grad, None, None, None, None


def stale_grad_halo(h_owned: torch.Tensor, rows: torch.Tensor, plan: HaloPlan, meter: CommMeter,
                    state: dict) -> torch.Tensor:
    """``rows`` (stale halo rows, constant) joined to ``h_owned`` by stale gradients (PipeGCN).

    ``state`` carries the in-flight gradient exchange from one call to the next; every worker must
    call this (and backward through it) once per iteration. ``finish_stale(state, meter)`` waits
    for the last exchange.
    """
    return _StaleGradHalo.apply(h_owned, rows.detach(), plan, meter, state)


def finish_stale(state: dict, meter: CommMeter) -> None:
    """Wait for a stale exchange still in flight (the end of training)."""
    pending = state.pop("pending", None)
    if pending is not None:
        meter.wait(pending[0], kind="stale_bwd_wait")


def train_full_graph(rank: int, world_size: int, data, parts: torch.Tensor, config: DistConfig) -> dict:
    """Full-graph GCN training of worker ``rank`` on the whole ``data`` (it takes its partition
    in memory; the launchers load it from disk instead, see :func:`train_full_graph_local`)."""
    _check_world(data, parts, world_size)
    return train_full_graph_local(make_partition(data, parts, rank, world_size, "full"), config)


def train_full_graph_local(part: LocalPartition, config: DistConfig, device: torch.device | str = "cpu") -> dict:
    """Full-graph GCN training on one worker's partition; returns its measurements.

    The input features are constant, so the input halo is exchanged once before training (counted
    as ``setup``) in both modes. Fresh mode then exchanges the hidden layer's halo every layer,
    forward and backward. Stale mode uses the hidden halo rows of the previous iteration and, with
    ``config.stale_grads`` (PipeGCN), the halo gradients of the previous iteration; without it no
    gradient goes back to the owners of halo rows. ``config.zero_halo`` is the control of stale
    mode: everything as in fresh mode (the input halo sent once, exact halos at evaluation) except
    the hidden layer's halo, which is zeros during training and never sent, so only the gradients
    cross per epoch. What it costs in accuracy is what the training-time hidden halo, the part
    stale mode approximates, is worth.
    """
    device = torch.device(device)
    rank, world_size = part.rank, part.world_size
    cpu0 = time.process_time()
    seed_everything(config.seed)
    meter = CommMeter(rank, world_size)
    plan = _plan_to(part.plan, device)
    x, y = part.x.to(device), part.y.to(device)
    train, test, val = (m.to(device) for m in (part.train_mask, part.test_mask, part.val_mask))
    n_train = part.num_train
    model = GCN(x.shape[1], config.hidden, part.num_classes, config.num_layers, config.dropout).to(device)
    torch.manual_seed(config.seed * 1009 + rank)  # same initial weights everywhere, own dropout masks
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    # the input halo never changes: sent once, before training, whatever the mode
    x_halo = halo_exchange(x, plan, meter, kind="setup").detach()
    state: dict[int, object] = {}
    grad_state: dict[int, dict] = {}

    def exact(i: int, h: torch.Tensor) -> torch.Tensor:
        return x_halo if i == 0 else halo_exchange(h, plan, meter, kind="halo")

    def zeros(i: int, h: torch.Tensor) -> torch.Tensor:
        return x_halo if i == 0 else h.new_zeros(plan.halo.numel(), h.shape[1])

    fresh = zeros if config.zero_halo else exact

    def stale(i: int, h: torch.Tensor) -> torch.Tensor:
        if i == 0:
            return x_halo
        pending = state.get(i)
        if pending is None:  # first epoch: nothing historical yet
            old = halo_exchange(h.detach(), plan, meter, kind="stale")
        else:
            work, recv = pending
            meter.wait(work, kind="stale_wait")
            old = torch.cat(recv)
        hd = h.detach()
        send = [hd[idx] for idx in plan.send_index]
        recv = [hd.new_empty(int(c), hd.shape[1]) for c in plan.recv_counts]
        work = meter.all_to_all(recv, send, kind="stale_fwd", async_op=True)
        state[i] = (work, recv)
        if config.stale_grads:
            return stale_grad_halo(h, old, plan, meter, grad_state.setdefault(i, {}))
        return old

    epoch_times, epoch_bytes, losses = [], [], []
    for _ in progress(range(config.epochs), desc=f"full-graph rank {rank}", disable=not config.progress):
        t0 = time.perf_counter()
        before = meter.snapshot()
        model.train()
        out = model(x, plan.edge_index, plan.edge_weight, halo=stale if config.stale else fresh)
        # sum over my training nodes / global count: the all-reduced gradient is the global mean's
        loss = F.cross_entropy(out[train], y[train], reduction="sum") / n_train
        opt.zero_grad()
        loss.backward()
        _allreduce_grads(model, meter)
        opt.step()
        t1 = time.perf_counter()
        meter.mark("epoch", t0, t1)
        epoch_times.append(t1 - t0)
        epoch_bytes.append(_epoch_bytes(before, meter.snapshot()))
        losses.append(float(loss.detach()))
    for i, pending in list(state.items()):
        if pending is not None:
            meter.wait(pending[0], kind="stale_wait")
    for gs in grad_state.values():
        finish_stale(gs, meter)

    model.eval()
    with torch.no_grad():
        pred = model(x, plan.edge_index, plan.edge_weight,
                     halo=lambda i, h: x_halo if i == 0 else halo_exchange(h, plan, meter, kind="eval_halo")
                     ).argmax(1)
    c = _global_counts(meter, [float((pred[test] == y[test]).sum()), float(test.sum()),
                               float((pred[val] == y[val]).sum()), float(val.sum())], device)
    params = sum(p.numel() for p in model.parameters())
    return {
        "rank": rank, "world_size": world_size, "mode": "full", "stale": config.stale,
        "stale_grads": bool(config.stale and config.stale_grads), "zero_halo": config.zero_halo,
        "epoch_times": epoch_times, "epoch_bytes": epoch_bytes, "losses": losses,
        "test_acc": c[0] / max(c[1], 1), "val_acc": c[2] / max(c[3], 1),
        "owned": plan.num_owned, "halo": plan.halo.numel(), "rows_sent_per_layer": plan.rows_sent_per_layer(),
        "data_bytes": part.nbytes() + 4 * params, "partition_bytes": part.nbytes(), "peak_rss_mb": peak_rss_mb(),
        "structure_bytes": part.nbytes(structure_only=True), "edge_share": part.edge_share(),
        "setup_bytes": _setup_bytes(meter),
        "bytes_by_kind": meter.snapshot(), "events": meter.events, "origin": meter.origin,
        "comm_seconds": dict(meter.seconds), "cpu_seconds": time.process_time() - cpu0,
    }


def train_minibatch(rank: int, world_size: int, data, parts: torch.Tensor, config: DistConfig) -> dict:
    """Mini-batch GraphSAGE training of worker ``rank`` on the whole ``data`` (it takes its
    partition in memory; the launchers load it from disk, see :func:`train_minibatch_local`)."""
    _check_world(data, parts, world_size)
    return train_minibatch_local(make_partition(data, parts, rank, world_size, "minibatch",
                                                hops=len(config.fanouts) - 1), config)


def train_minibatch_local(part: LocalPartition, config: DistConfig, device: torch.device | str = "cpu") -> dict:
    """Mini-batch GraphSAGE training on one worker's partition, remote features fetched (and
    optionally cached). Sampling runs on the CPU over the partition's structure (the in-edges of
    its nodes and of their in-neighbours: all a 2-hop sample from its own seeds visits)."""
    device = torch.device(device)
    rank, world_size = part.rank, part.world_size
    cpu0 = time.process_time()
    seed_everything(config.seed)
    meter = CommMeter(rank, world_size)
    n = part.num_nodes
    owned = part.owned
    seeds_all = owned[part.train_mask]
    if seeds_all.numel() == 0:  # before the first collective (launchers check the partition earlier)
        raise ValueError(f"worker {rank} owns no training node; use fewer workers or more training nodes")
    store = FeatureStore(part.x.to(device), owned, part.parts, meter)
    sampler = NeighborSampler(part.sample_edges, n, config.fanouts)
    cache_bytes = 0
    if config.cache_fraction > 0 and world_size > 1:
        capacity = int(config.cache_fraction * owned.numel())
        extra = {"seed": config.seed} if config.cache_policy == "random" else {}
        ids = CACHE_POLICIES[config.cache_policy](part.sample_edges, part.parts, rank, capacity,
                                                  in_degree=part.in_degree, **extra)
        cache_bytes = store.build_cache(ids).nbytes()
    model = SAGE(part.x.shape[1], config.hidden, part.num_classes, config.num_layers, config.dropout).to(device)
    net = model
    if world_size > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        net = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
        net.register_comm_hook(None, meter.ddp_hook("grad"))
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    g = torch.Generator().manual_seed(config.seed * 1009 + rank)
    torch.manual_seed(config.seed * 1009 + rank)

    per_worker = max(1, config.batch_size // world_size)
    steps = max(1, math.ceil(part.num_train / config.batch_size))
    y = part.y.to(device)

    def labels(ids: torch.Tensor) -> torch.Tensor:
        return y[torch.searchsorted(owned, ids).to(device)]  # seeds are owned; owned is sorted

    epoch_times, epoch_bytes, losses = [], [], []
    for epoch in progress(range(config.epochs), desc=f"mini-batch rank {rank}", disable=not config.progress):
        t0 = time.perf_counter()
        before = meter.snapshot()
        net.train()
        order = seeds_all[torch.randperm(seeds_all.numel(), generator=g)]
        order = order.repeat(math.ceil(steps * per_worker / order.numel()))  # cycle if few seeds
        total = 0.0
        for s in range(steps):
            seeds = order[s * per_worker:(s + 1) * per_worker]
            sub = sampler.sample(seeds, g)
            x = store.fetch(sub.n_id)
            out = net(x, sub.edge_index.to(device))[:sub.batch_size]
            loss = F.cross_entropy(out, labels(seeds))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach())
        t1 = time.perf_counter()
        meter.mark("epoch", t0, t1)
        epoch_times.append(t1 - t0)
        epoch_bytes.append(_epoch_bytes(before, meter.snapshot()))
        losses.append(total / steps)
    lookups = (store.remote_lookups, store.fetched_rows)
    hits = (store.cache.hits, store.cache.lookups) if store.cache is not None else (0, 0)

    # evaluation: sampled inference on each worker's own test/val nodes, in lockstep
    model.eval()
    counts = []
    with torch.no_grad():
        for mask in (part.test_mask, part.val_mask):
            nodes = owned[mask]
            local_steps = torch.tensor([math.ceil(nodes.numel() / config.eval_batch_size)], dtype=torch.float64,
                                       device=device)
            if world_size > 1:
                dist.all_reduce(local_steps, op=dist.ReduceOp.MAX)
            correct = 0
            for s in range(int(local_steps)):
                seeds = nodes[s * config.eval_batch_size:(s + 1) * config.eval_batch_size]
                sub = sampler.sample(seeds, g)
                x = store.fetch(sub.n_id, kind="eval")
                if seeds.numel():
                    pred = model(x, sub.edge_index.to(device))[:seeds.numel()].argmax(1)
                    correct += int((pred == labels(seeds)).sum())
            counts += [float(correct), float(nodes.numel())]
    c = _global_counts(meter, counts, device)
    params = sum(p.numel() for p in model.parameters())
    return {
        "rank": rank, "world_size": world_size, "mode": "minibatch", "stale": False, "stale_grads": False,
        "epoch_times": epoch_times, "epoch_bytes": epoch_bytes, "losses": losses,
        "test_acc": c[0] / max(c[1], 1), "val_acc": c[2] / max(c[3], 1),
        "owned": owned.numel(), "remote_lookups": lookups[0], "fetched_rows": lookups[1],
        "cache_hits": hits[0], "cache_lookups": hits[1], "cache_bytes": cache_bytes,
        "data_bytes": part.nbytes() + cache_bytes + 4 * params, "partition_bytes": part.nbytes(),
        "structure_bytes": part.nbytes(structure_only=True), "edge_share": part.edge_share(),
        "sample_edges": part.sample_edges.shape[1], "peak_rss_mb": peak_rss_mb(),
        "setup_bytes": _setup_bytes(meter),
        "bytes_by_kind": meter.snapshot(), "events": meter.events, "origin": meter.origin, "comm_seconds": dict(meter.seconds),
        "steps_per_epoch": steps, "cpu_seconds": time.process_time() - cpu0,
    }


WORKFLOWS_LOCAL: dict[str, Callable[..., dict]] = {"full": train_full_graph_local, "minibatch": train_minibatch_local}


def summarise(results: list[dict], skip_first: int = 1) -> dict:
    """Merge the per-worker dicts of one run into one table row.

    Epoch time: the slowest worker's mean over the epochs after the first ``skip_first`` (warm-up,
    and the exact first epoch of stale mode). Bytes per epoch: summed over workers. Cache hit
    rate: hits / remote lookups over all workers. Memory: the largest worker's data bytes.
    CPU seconds: summed over workers (each worker's ``time.process_time`` over its run).
    """
    if not results:
        raise ValueError("no worker results to summarise")
    results = sorted(results, key=lambda r: r["rank"])
    e = len(results[0]["epoch_times"])
    k = min(skip_first, e - 1)
    epoch_time = max(sum(r["epoch_times"][k:]) / (e - k) for r in results)
    per_epoch = [sum(sum(r["epoch_bytes"][i].values()) for r in results) for i in range(k, e)]
    by_kind: dict[str, float] = {}
    for r in results:
        for i in range(k, e):
            for kind, b in r["epoch_bytes"][i].items():
                by_kind[kind] = by_kind.get(kind, 0) + b / (e - k)
    hits = sum(r.get("cache_hits", 0) for r in results)
    lookups = sum(r.get("cache_lookups", 0) for r in results)
    remote = sum(r.get("remote_lookups", 0) for r in results)
    fetched = sum(r.get("fetched_rows", 0) for r in results)
    row = {
        "mode": results[0]["mode"], "stale": results[0]["stale"], "workers": results[0]["world_size"],
        "epochs": e, "epoch_time_s": epoch_time, "bytes_per_epoch": sum(per_epoch) / len(per_epoch),
        "bytes_by_kind": by_kind, "test_acc": results[0]["test_acc"], "val_acc": results[0]["val_acc"],
        "final_loss": sum(r["losses"][-1] for r in results) / len(results),
        "max_data_mb_per_worker": max(r["data_bytes"] for r in results) / 2**20,
        "max_partition_mb": max(r.get("partition_bytes", 0) for r in results) / 2**20,
        # the graph structure a worker holds (halo plan, or sampling edges and graph-length maps):
        # what does not shrink as 1/P when sampling reaches beyond the partition
        "max_structure_mb": max(r.get("structure_bytes", 0) for r in results) / 2**20,
        "max_edge_share": max(r.get("edge_share", 0.0) for r in results),
        "setup_bytes": sum(r.get("setup_bytes", 0) for r in results),
        "max_peak_rss_mb": max(r["peak_rss_mb"] for r in results),
        "cpu_seconds": sum(r.get("cpu_seconds", 0.0) for r in results),
    }
    # CPU time of the whole run (evaluation included) per epoch: unlike wall time, it does not
    # shrink when workers run side by side, so it shows what distribution costs in compute
    row["cpu_seconds_per_epoch"] = row["cpu_seconds"] / e
    if all("rss_base_mb" in r for r in results):
        # memory of the worker processes (set by the launchers): an idle worker that imported torch
        # (base), what loading its partition added, and the peak during training above the base
        row["rss_base_mb"] = max(r["rss_base_mb"] for r in results)
        row["rss_graph_mb"] = max(r["rss_loaded_mb"] - r["rss_base_mb"] for r in results)
        row["rss_train_mb"] = max(r["peak_rss_mb"] - r["rss_base_mb"] for r in results)
    if results[0]["mode"] == "full":
        row["stale_grads"] = bool(results[0].get("stale_grads", False))
        row["zero_halo"] = bool(results[0].get("zero_halo", False))
    if results[0]["mode"] == "full":
        row["halo_total"] = sum(r["halo"] for r in results)
    else:
        row["cache_hit_rate"] = hits / lookups if lookups else 0.0
        row["remote_lookups_per_epoch"] = remote / e
        row["fetched_rows_per_epoch"] = fetched / e
    return row
