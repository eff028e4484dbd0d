"""Launchers: ``torch.multiprocessing`` for the notebook and tests, ``torchrun`` for the CLI.

:func:`run_workers` starts ``world_size`` processes on this machine, gives each a gloo process
group (every tensor here lives on the CPU; NCCL would need them on GPUs), runs one of the
workflows of :mod:`companion.distgnn.train` in each, and returns the list of their results.
Every child uses one intra-op thread (several processes share few cores) and destroys its
process group before it exits, so nothing is left hanging after a notebook cell.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from companion.distgnn.train import DistConfig, train_full_graph, train_minibatch

__all__ = ["free_port", "run_workers", "run_function", "init_process_group", "WORKFLOWS", "load_graph"]

WORKFLOWS: dict[str, Callable[..., dict]] = {"full": train_full_graph, "minibatch": train_minibatch}


def free_port() -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def init_process_group(rank: int, world_size: int, port: int | None = None, backend: str = "gloo") -> str:
    """Join the default process group and return the backend.

    Every tensor of this package lives on the CPU, so the backend is gloo. NCCL only moves CUDA
    tensors: a GPU version would put the features, the model and the exchange buffers on
    ``cuda:LOCAL_RANK`` and pass ``backend="nccl"`` (not done or tested here: no GPU).
    ``MASTER_ADDR``/``MASTER_PORT`` are set here when not already set (torchrun sets them).
    """
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"backend must be 'gloo' or 'nccl', got {backend!r}")
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    if port is not None:
        os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group(backend, rank=rank, world_size=world_size)
    return backend


def load_graph(spec: dict):
    """Build a dataset from ``{"name": ..., **kwargs}`` through the registry (each worker calls it)."""
    from companion import data

    spec = dict(spec)
    return data.load(spec.pop("name"), **spec)


def _entry(rank: int, world_size: int, port: int, mode: str, graph: Any, parts: torch.Tensor,
           config: DistConfig, out_dir: str) -> None:
    torch.set_num_threads(1)
    os.environ["COMPANION_NO_PROGRESS"] = "1"
    g = load_graph(graph) if isinstance(graph, dict) else graph
    if world_size > 1:
        init_process_group(rank, world_size, port)
    try:
        result = WORKFLOWS[mode](rank, world_size, g, parts, config)
        torch.save(result, Path(out_dir) / f"rank{rank}.pt")
    finally:
        if world_size > 1:
            dist.barrier()
            dist.destroy_process_group()


def _call(rank: int, world_size: int, port: int, fn: Callable[..., Any], args: tuple, out_dir: str) -> None:
    torch.set_num_threads(1)
    init_process_group(rank, world_size, port)
    try:
        torch.save(fn(rank, world_size, *args), Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.barrier()
        dist.destroy_process_group()


def run_function(fn: Callable[..., Any], world_size: int, args: tuple = (), start_method: str = "forkserver") -> list[Any]:
    """Run ``fn(rank, world_size, *args)`` in ``world_size`` local processes joined in a gloo group.

    ``fn`` must be importable (defined at the top level of a module). Returns the values it
    returned, by rank. Used by the tests and the notebook for small distributed checks.
    """
    if world_size < 2:
        raise ValueError(f"run_function needs world_size >= 2 (got {world_size}); call fn directly otherwise")
    if start_method == "forkserver":
        mp.set_forkserver_preload(["companion.distgnn.launch"])
    with tempfile.TemporaryDirectory() as out_dir:
        mp.start_processes(_call, args=(world_size, free_port(), fn, args, out_dir), nprocs=world_size,
                           join=True, start_method=start_method)
        return [torch.load(Path(out_dir) / f"rank{r}.pt", weights_only=False) for r in range(world_size)]


def run_workers(world_size: int, graph: Any, parts: torch.Tensor, config: DistConfig,
                start_method: str = "forkserver") -> list[dict]:
    """Run ``config.mode`` on ``world_size`` local processes; returns the per-worker result dicts.

    ``graph`` is a PyG ``Data`` (pickled to each child: fine for small graphs) or a registry spec
    ``{"name": "sbm_features", "num_nodes": 200000, ...}`` that each child builds itself.
    ``world_size == 1`` runs in this process, without a process group (the single-process baseline).
    ``start_method="forkserver"`` (default) imports torch and this package once in a server
    process and forks every later worker from it: about a second per launch instead of the
    several seconds a ``"spawn"`` child needs to import torch and PyG again.
    """
    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got {world_size}")
    n = parts.numel()
    if world_size > n:
        raise ValueError(f"more workers ({world_size}) than nodes ({n})")
    if int(parts.max()) >= world_size:
        raise ValueError(f"parts uses {int(parts.max()) + 1} parts but world_size={world_size}")
    if world_size == 1:
        g = load_graph(graph) if isinstance(graph, dict) else graph
        return [WORKFLOWS[config.mode](0, 1, g, parts, config)]
    if start_method == "forkserver":
        mp.set_forkserver_preload(["companion.distgnn.launch"])
    with tempfile.TemporaryDirectory() as out_dir:
        mp.start_processes(_entry, args=(world_size, free_port(), config.mode, graph, parts, config, out_dir),
                           nprocs=world_size, join=True, start_method=start_method)
        return [torch.load(Path(out_dir) / f"rank{r}.pt", weights_only=False) for r in range(world_size)]
