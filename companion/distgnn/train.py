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
import resource
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.distributed as dist
import torch.nn.functional as F

from companion.distgnn.cache import CACHE_POLICIES, FeatureStore
from companion.distgnn.comm import CommMeter
from companion.distgnn.halo import HaloPlan, build_halo_plan, halo_exchange
from companion.distgnn.models import GCN, SAGE
from companion.distgnn.sampler import NeighborSampler
from companion.utils import progress, seed_everything

__all__ = ["DistConfig", "train_full_graph", "train_minibatch", "summarise", "TRAIN_KINDS"]

# traffic that happens every training epoch (setup, cache filling and evaluation are reported apart)
TRAIN_KINDS = ("halo_fwd", "halo_bwd", "stale_fwd", "grad", "fetch_meta", "fetch_ids", "fetch_rows")


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
        if self.cache_policy not in CACHE_POLICIES:
            raise ValueError(f"cache_policy must be one of {sorted(CACHE_POLICIES)}, got {self.cache_policy!r}")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


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


def _global_counts(meter: CommMeter, values: list[float]) -> list[float]:
    t = torch.tensor(values, dtype=torch.float64)
    meter.all_reduce(t, kind="eval")
    return t.tolist()


def _check_world(data, parts: torch.Tensor, world_size: int) -> None:
    if world_size > data.num_nodes:
        raise ValueError(f"more workers ({world_size}) than nodes ({data.num_nodes})")
    if parts.numel() != data.num_nodes:
        raise ValueError(f"parts has {parts.numel()} entries for {data.num_nodes} nodes")


def train_full_graph(rank: int, world_size: int, data, parts: torch.Tensor, config: DistConfig) -> dict:
    """Full-graph GCN training of worker ``rank``; returns its measurements (see module docstring)."""
    _check_world(data, parts, world_size)
    cpu0 = time.process_time()
    seed_everything(config.seed)
    meter = CommMeter(rank, world_size)
    plan: HaloPlan = build_halo_plan(data.edge_index, parts, rank, world_size)
    x = data.x[plan.owned]
    y = data.y[plan.owned]
    train, test, val = (m[plan.owned] for m in (data.train_mask, data.test_mask, data.val_mask))
    n_train = int(data.train_mask.sum())
    model = GCN(x.shape[1], config.hidden, int(data.y.max()) + 1, config.num_layers, config.dropout)
    torch.manual_seed(config.seed * 1009 + rank)  # same initial weights everywhere, own dropout masks
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    # stale mode: layer-0 inputs are constant, so their halo is exchanged once; hidden layers use
    # the previous epoch's halo rows, whose exchange overlaps with the next epoch's compute
    state: dict[int, object] = {}
    if config.stale:
        state[0] = halo_exchange(x, plan, meter, kind="setup").detach()

    def exact(i: int, h: torch.Tensor) -> torch.Tensor:
        return halo_exchange(h, plan, meter, kind="halo")

    def stale(i: int, h: torch.Tensor) -> torch.Tensor:
        if i == 0:
            return state[0]
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
        return old

    epoch_times, epoch_bytes, losses = [], [], []
    for _ in progress(range(config.epochs), desc=f"full-graph rank {rank}", disable=not config.progress):
        t0 = time.perf_counter()
        before = meter.snapshot()
        model.train()
        out = model(x, plan.edge_index, plan.edge_weight, halo=stale if config.stale else exact)
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
        if i > 0 and pending is not None:
            meter.wait(pending[0], kind="stale_wait")

    model.eval()
    with torch.no_grad():
        pred = model(x, plan.edge_index, plan.edge_weight,
                     halo=lambda i, h: halo_exchange(h, plan, meter, kind="eval_halo")).argmax(1)
    c = _global_counts(meter, [float((pred[test] == y[test]).sum()), float(test.sum()),
                               float((pred[val] == y[val]).sum()), float(val.sum())])
    params = sum(p.numel() for p in model.parameters())
    return {
        "rank": rank, "world_size": world_size, "mode": "full", "stale": config.stale,
        "epoch_times": epoch_times, "epoch_bytes": epoch_bytes, "losses": losses,
        "test_acc": c[0] / max(c[1], 1), "val_acc": c[2] / max(c[3], 1),
        "owned": plan.num_owned, "halo": plan.halo.numel(), "rows_sent_per_layer": plan.rows_sent_per_layer(),
        "data_bytes": plan.data_bytes(x.shape[1]) + 4 * params, "peak_rss_mb": _peak_rss_mb(),
        "bytes_by_kind": meter.snapshot(), "events": meter.events, "origin": meter.origin,
        "comm_seconds": dict(meter.seconds), "cpu_seconds": time.process_time() - cpu0,
    }


def train_minibatch(rank: int, world_size: int, data, parts: torch.Tensor, config: DistConfig) -> dict:
    """Mini-batch GraphSAGE training of worker ``rank`` with fetched (and optionally cached) features."""
    _check_world(data, parts, world_size)
    cpu0 = time.process_time()
    seed_everything(config.seed)
    meter = CommMeter(rank, world_size)
    n = data.num_nodes
    owned = torch.nonzero(parts == rank).flatten()
    seeds_all = owned[data.train_mask[owned]]
    if seeds_all.numel() == 0:  # before the first collective (launchers check the partition earlier)
        raise ValueError(f"worker {rank} owns no training node; use fewer workers or more training nodes")
    store = FeatureStore(data.x[owned], owned, parts, meter)
    sampler = NeighborSampler(data.edge_index, n, config.fanouts)
    cache_bytes = 0
    if config.cache_fraction > 0 and world_size > 1:
        capacity = int(config.cache_fraction * owned.numel())
        extra = {"seed": config.seed} if config.cache_policy == "random" else {}
        ids = CACHE_POLICIES[config.cache_policy](data.edge_index, parts, rank, capacity, **extra)
        cache_bytes = store.build_cache(ids).nbytes()
    model = SAGE(data.x.shape[1], config.hidden, int(data.y.max()) + 1, config.num_layers, config.dropout)
    net = model
    if world_size > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        net = DDP(model)
        net.register_comm_hook(None, meter.ddp_hook("grad"))
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    g = torch.Generator().manual_seed(config.seed * 1009 + rank)
    torch.manual_seed(config.seed * 1009 + rank)

    per_worker = max(1, config.batch_size // world_size)
    steps = max(1, math.ceil(int(data.train_mask.sum()) / config.batch_size))
    y = data.y

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
            out = net(x, sub.edge_index)[:sub.batch_size]
            loss = F.cross_entropy(out, y[seeds])
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
        for mask in (data.test_mask, data.val_mask):
            nodes = owned[mask[owned]]
            local_steps = torch.tensor([math.ceil(nodes.numel() / config.eval_batch_size)], dtype=torch.float64)
            if world_size > 1:
                dist.all_reduce(local_steps, op=dist.ReduceOp.MAX)
            correct = 0
            for s in range(int(local_steps)):
                seeds = nodes[s * config.eval_batch_size:(s + 1) * config.eval_batch_size]
                sub = sampler.sample(seeds, g)
                x = store.fetch(sub.n_id, kind="eval")
                if seeds.numel():
                    correct += int((model(x, sub.edge_index)[:seeds.numel()].argmax(1) == y[seeds]).sum())
            counts += [float(correct), float(nodes.numel())]
    c = _global_counts(meter, counts)
    params = sum(p.numel() for p in model.parameters())
    return {
        "rank": rank, "world_size": world_size, "mode": "minibatch", "stale": False,
        "epoch_times": epoch_times, "epoch_bytes": epoch_bytes, "losses": losses,
        "test_acc": c[0] / max(c[1], 1), "val_acc": c[2] / max(c[3], 1),
        "owned": owned.numel(), "remote_lookups": lookups[0], "fetched_rows": lookups[1],
        "cache_hits": hits[0], "cache_lookups": hits[1], "cache_bytes": cache_bytes,
        "data_bytes": store.x.numel() * 4 + cache_bytes + 4 * params, "peak_rss_mb": _peak_rss_mb(),
        "bytes_by_kind": meter.snapshot(), "events": meter.events, "origin": meter.origin, "comm_seconds": dict(meter.seconds),
        "steps_per_epoch": steps, "cpu_seconds": time.process_time() - cpu0,
    }


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
        "max_peak_rss_mb": max(r["peak_rss_mb"] for r in results),
        "cpu_seconds": sum(r.get("cpu_seconds", 0.0) for r in results),
    }
    # CPU time of the whole run (evaluation included) per epoch: unlike wall time, it does not
    # shrink when workers run side by side, so it shows what distribution costs in compute
    row["cpu_seconds_per_epoch"] = row["cpu_seconds"] / e
    if results[0]["mode"] == "full":
        row["halo_total"] = sum(r["halo"] for r in results)
    else:
        row["cache_hit_rate"] = hits / lookups if lookups else 0.0
        row["remote_lookups_per_epoch"] = remote / e
        row["fetched_rows_per_epoch"] = fetched / e
    return row
