"""Small distributed checks, run with :func:`companion.distgnn.launch.run_function` by the tests
and the notebook: each function is what one worker does, and returns what the caller compares."""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F

from companion.distgnn.cache import FeatureStore
from companion.distgnn.comm import CommMeter
from companion.distgnn.halo import build_halo_plan, halo_exchange
from companion.distgnn.models import GCN

__all__ = ["gcn_forward_backward", "meter_roundtrip", "fetch_rows", "fail_on_rank", "worker_threads"]


def gcn_forward_backward(rank: int, world_size: int, data, parts: torch.Tensor, state: dict) -> dict:
    """Worker ``rank``'s GCN output rows and its (all-reduced) gradients for the weights ``state``.

    The loss is the global mean cross-entropy over the training nodes, so after summing the
    workers' gradients every worker holds the single-process gradient.
    """
    meter = CommMeter(rank, world_size)
    plan = build_halo_plan(data.edge_index, parts, rank, world_size)
    model = GCN(data.x.shape[1], state["convs.0.lin.weight"].shape[0], int(data.y.max()) + 1, dropout=0.0)
    model.load_state_dict(state)
    x, y, train = data.x[plan.owned], data.y[plan.owned], data.train_mask[plan.owned]
    out = model(x, plan.edge_index, plan.edge_weight, halo=lambda i, h: halo_exchange(h, plan, meter))
    loss = F.cross_entropy(out[train], y[train], reduction="sum") / int(data.train_mask.sum())
    loss.backward()
    grads = {k: p.grad.clone() for k, p in model.named_parameters()}
    for g in grads.values():
        meter.all_reduce(g, kind="grad")
    return {"owned": plan.owned, "out": out.detach(), "grads": grads, "bytes": meter.snapshot(),
            "halo": plan.halo.numel()}


def meter_roundtrip(rank: int, world_size: int, rows: list[int], dim: int) -> dict:
    """Worker ``rank`` sends ``rows[r]`` rows of width ``dim`` (filled with its rank) to each r, then
    all-reduces a vector of length ``dim``; returns what it received and the meter's counts."""
    meter = CommMeter(rank, world_size)
    send = [torch.full((rows[r], dim), float(rank)) for r in range(world_size)]
    recv = [torch.empty(rows[rank], dim) for _ in range(world_size)]
    meter.all_to_all(recv, send, kind="a2a")
    v = torch.ones(dim)
    meter.all_reduce(v, kind="reduce")
    return {"recv": recv, "reduced": v, "bytes": meter.snapshot()}


def fetch_rows(rank: int, world_size: int, data, parts: torch.Tensor, ids: torch.Tensor, cache_ids: torch.Tensor | None) -> dict:
    """Worker ``rank`` fetches the feature rows of global ``ids`` (optionally through a cache)."""
    meter = CommMeter(rank, world_size)
    owned = torch.nonzero(parts == rank).flatten()
    store = FeatureStore(data.x[owned], owned, parts, meter)
    if cache_ids is not None:
        store.build_cache(cache_ids[parts[cache_ids] != rank])
        meter.reset()
    rows = store.fetch(ids)
    return {"rows": rows, "bytes": meter.snapshot(), "fetched": store.fetched_rows, "remote": store.remote_lookups}


def fail_on_rank(rank: int, world_size: int, failing: int) -> float:
    """Worker ``failing`` raises; every other worker waits in an all-reduce that it never joins.

    What a launcher must survive: without supervision the others would block until the timeout.
    """
    if rank == failing:
        raise RuntimeError(f"worker {rank} fails on purpose")
    t = torch.ones(1)
    dist.all_reduce(t)
    return float(t)


def worker_threads(rank: int, world_size: int) -> int:
    """The torch intra-op threads of worker ``rank`` (the launcher's ``threads``)."""
    return torch.get_num_threads()


def stale_grad_rounds(rank: int, world_size: int, data, parts: torch.Tensor, rounds: int, width: int = 3) -> dict:
    """Worker ``rank`` runs ``rounds`` iterations through :func:`~.train.stale_grad_halo` with a
    loss whose gradient on halo row ``v`` at iteration ``t`` is ``v * (t + 1) + column``, and
    returns the gradient its owned rows received at each iteration (PipeGCN: the one sent at
    iteration ``t - 1``; zero at the first)."""
    from companion.distgnn.train import finish_stale, stale_grad_halo

    meter = CommMeter(rank, world_size)
    plan = build_halo_plan(data.edge_index, parts, rank, world_size)
    state: dict = {"record": []}
    h = torch.zeros(plan.num_owned, width, requires_grad=True)
    received = []
    for t in range(rounds):
        out = stale_grad_halo(h, torch.zeros(plan.halo.numel(), width), plan, meter, state)
        w = plan.halo.double()[:, None] * (t + 1) + torch.arange(width)
        h.grad = None
        (out * w.float()).sum().backward()
        received.append(h.grad.clone())
    finish_stale(state, meter)
    return {"owned": plan.owned, "received": received, "bytes": meter.snapshot()}
