"""Launchers: ``torch.multiprocessing`` for the notebook and tests, ``torchrun`` for the CLI.

:func:`run_workers` writes the partitions to disk (:mod:`companion.distgnn.local`), starts
``world_size`` processes on this machine, each of which loads only its own partition folder and
joins a process group (gloo on the CPU by default; NCCL with one GPU per worker, ``cuda:rank``),
runs one of the workflows of :mod:`companion.distgnn.train`, and returns the list of their
results, with each worker's memory: its resident set before and after loading its partition.

A distributed run must never hang on one failed worker: the others would wait forever inside
a collective for a partner that is gone. So the launcher watches every process, and when one
fails (or the launcher itself is interrupted, Ctrl-C) it terminates the rest before it raises;
a worker that fails skips the closing barrier; and every collective has a timeout
(``timeout_s``) as the last line of defence, for launchers that do not watch (torchrun does).
"""

from __future__ import annotations

import os
import socket
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from companion.distgnn.local import load_partition, rss_mb, write_partitions
from companion.distgnn.partition import empty_parts
from companion.distgnn.train import WORKFLOWS_LOCAL, DistConfig, train_full_graph, train_minibatch
from companion.utils import set_threads

__all__ = ["free_port", "run_workers", "run_partitioned", "run_function", "init_process_group",
           "leave_process_group", "check_training_nodes", "check_backend", "worker_device", "WORKFLOWS",
           "load_graph", "DEFAULT_TIMEOUT_S", "BACKENDS"]

BACKENDS = ("gloo", "nccl")

WORKFLOWS: dict[str, Callable[..., dict]] = {"full": train_full_graph, "minibatch": train_minibatch}

# seconds a collective may wait for its partners: long enough for the slowest worker to build a
# 200k-node graph before the first one, short enough that a lost partner ends the run
DEFAULT_TIMEOUT_S = 300
STOP_GRACE_S = 3.0  # after SIGTERM, how long a worker may take before it gets SIGKILL


def free_port() -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def init_process_group(rank: int, world_size: int, port: int | None = None, backend: str = "gloo",
                       timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """Join the default process group and return the backend.

    gloo moves CPU tensors; NCCL moves CUDA tensors only, so with ``backend="nccl"`` the workers
    put their partition, model and exchange buffers on their GPU (:func:`worker_device`).
    ``MASTER_ADDR``/``MASTER_PORT`` are set here when not already set (torchrun sets them).
    Every collective of the group (and the rendezvous) fails after ``timeout_s`` seconds
    instead of waiting forever for a worker that died.
    """
    check_backend(backend)
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0 seconds, got {timeout_s}")
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    if port is not None:
        os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group(backend, rank=rank, world_size=world_size, timeout=timedelta(seconds=timeout_s))
    return backend


def check_backend(backend: str, gpus_needed: int = 1) -> None:
    """Raise ``ValueError`` for an unknown backend, or NCCL without enough CUDA devices."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "nccl":
        have = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if have < gpus_needed:
            raise ValueError(f"--backend nccl needs CUDA: one GPU per worker on this machine ({gpus_needed}), "
                             f"torch sees {have}; use --backend gloo (the CPU) here")


def worker_device(backend: str, local_rank: int) -> torch.device:
    """Where a worker computes: the CPU under gloo, ``cuda:local_rank`` (made current) under NCCL."""
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def leave_process_group(ok: bool) -> None:
    """Leave the default group: after a barrier when this worker succeeded, at once when it failed.

    A failed worker must not wait at the barrier: the others may be blocked in a collective it
    will never join, and the launcher can only stop them once this process has exited.
    """
    if not dist.is_initialized():
        return
    if ok:
        dist.barrier()
        dist.destroy_process_group()


def check_training_nodes(train_mask: torch.Tensor, parts: torch.Tensor, world_size: int, what: str = "") -> None:
    """Raise ``ValueError`` when a part owns no training node (mini-batch workers sample their own).

    ``what`` names the partition in the message (``"metis, seed 0"``).
    """
    empty = empty_parts(train_mask, parts, world_size)
    if empty:
        raise ValueError(
            f"{len(empty)} of {world_size} partitions{f' ({what})' if what else ''} own no training node "
            f"(parts {empty[:8]}{' ...' if len(empty) > 8 else ''}): a mini-batch worker draws its seeds "
            f"from its own training nodes; use fewer workers or more training nodes "
            f"({int(train_mask.sum())} now)")


def load_graph(spec: dict):
    """Build a dataset from ``{"name": ..., **kwargs}`` through the registry (each worker calls it)."""
    from companion import data

    spec = dict(spec)
    return data.load(spec.pop("name"), **spec)


def _set_worker_threads(threads: int) -> None:
    set_threads(threads)
    os.environ["COMPANION_NO_PROGRESS"] = "1"


def _entry(rank: int, world_size: int, port: int, out_dir: str, threads: int, timeout_s: float,
           mode: str, root: str, config: DistConfig, backend: str) -> None:
    _set_worker_threads(threads)
    base = rss_mb()  # an idle worker that has imported torch and this package
    device = worker_device(backend, rank)
    part = load_partition(root, rank, world_size, mode)  # its own folder, nothing else
    loaded = rss_mb()
    if world_size > 1:
        init_process_group(rank, world_size, port, backend=backend, timeout_s=timeout_s)
    ok = False
    try:
        result = WORKFLOWS_LOCAL[mode](part, config, device)
        result.update(rss_base_mb=base, rss_loaded_mb=loaded,
                      loaded_tensors={k: tuple(t.shape) for k, t in part.tensors().items()})
        torch.save(result, Path(out_dir) / f"rank{rank}.pt")
        ok = True
    finally:
        leave_process_group(ok)


def _call(rank: int, world_size: int, port: int, out_dir: str, threads: int, timeout_s: float,
          fn: Callable[..., Any], args: tuple) -> None:
    _set_worker_threads(threads)
    init_process_group(rank, world_size, port, timeout_s=timeout_s)
    ok = False
    try:
        torch.save(fn(rank, world_size, *args), Path(out_dir) / f"rank{rank}.pt")
        ok = True
    finally:
        leave_process_group(ok)


def _stop(processes: list) -> None:
    """SIGTERM every live worker, SIGKILL those still alive after a grace period, reap them all."""
    for p in processes:
        if p.is_alive():
            p.terminate()  # a worker blocked inside a gloo collective never runs Python handlers
    for p in processes:
        p.join(STOP_GRACE_S)
    for p in processes:
        if p.is_alive():
            p.kill()
        p.join()


def _supervise(entry: Callable[..., None], world_size: int, payload: tuple, threads: int, timeout_s: float,
               start_method: str) -> list[Any]:
    """Start ``world_size`` workers running ``entry(rank, world_size, port, out_dir, threads,
    timeout_s, *payload)`` and collect what they saved, by rank.

    The first worker to fail stops all the others (torch's ``ProcessContext.join``), and so does
    any exception in this process, ``KeyboardInterrupt`` included; nothing is left running.
    """
    if start_method == "forkserver":
        mp.set_forkserver_preload(["companion.distgnn.launch"])
    with tempfile.TemporaryDirectory() as out_dir:
        ctx = mp.start_processes(entry, args=(world_size, free_port(), out_dir, threads, timeout_s, *payload),
                                 nprocs=world_size, join=False, start_method=start_method)
        try:
            while not ctx.join(timeout=0.5):
                pass
        except (mp.ProcessRaisedException, mp.ProcessExitedException) as e:
            _stop(ctx.processes)
            lines = [line for line in str(e).splitlines() if line.strip()]
            raise RuntimeError(f"worker {e.error_index} of {world_size} failed ({lines[-1] if lines else e}), "
                               f"so the launcher stopped the others; its report:{e}") from None
        except BaseException:
            _stop(ctx.processes)
            raise
        missing = [r for r in range(world_size) if not (Path(out_dir) / f"rank{r}.pt").is_file()]
        if missing:  # torch's wrapper exits 0 on KeyboardInterrupt (e.g. Ctrl-C in a terminal)
            raise RuntimeError(f"workers {missing} of {world_size} stopped without a result (interrupted?)")
        return [torch.load(Path(out_dir) / f"rank{r}.pt", weights_only=False) for r in range(world_size)]


def run_function(fn: Callable[..., Any], world_size: int, args: tuple = (), start_method: str = "forkserver",
                 threads: int = 1, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[Any]:
    """Run ``fn(rank, world_size, *args)`` in ``world_size`` local processes joined in a gloo group.

    ``fn`` must be importable (defined at the top level of a module). Returns the values it
    returned, by rank. Used by the tests and the notebook for small distributed checks. A worker
    that raises stops the others; the ``RuntimeError`` raised here carries its traceback.
    """
    if world_size < 2:
        raise ValueError(f"run_function needs world_size >= 2 (got {world_size}); call fn directly otherwise")
    return _supervise(_call, world_size, (fn, args), threads, timeout_s, start_method)


def run_partitioned(root: str | Path, world_size: int, config: DistConfig, start_method: str = "forkserver",
                    threads: int = 1, timeout_s: float = DEFAULT_TIMEOUT_S, backend: str = "gloo") -> list[dict]:
    """Run ``config.mode`` on ``world_size`` local processes, worker ``r`` loading only ``root/part{r}``
    (written by :func:`~companion.distgnn.local.write_partitions`). ``world_size == 1`` runs one
    child too, so that its memory is measured like the others'. Returns the per-worker dicts."""
    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got {world_size}")
    check_backend(backend, world_size)
    return _supervise(_entry, world_size, (config.mode, str(root), config, backend), threads, timeout_s,
                      start_method)


def run_workers(world_size: int, graph: Any, parts: torch.Tensor, config: DistConfig,
                start_method: str = "forkserver", threads: int = 1,
                timeout_s: float = DEFAULT_TIMEOUT_S, backend: str = "gloo") -> list[dict]:
    """Run ``config.mode`` on ``world_size`` local processes; returns the per-worker result dicts.

    ``graph`` is a PyG ``Data`` or a registry spec ``{"name": "sbm_features", "num_nodes": 200000,
    ...}`` built here. This process writes the partitions to a temporary folder, and every worker
    loads only its own (:func:`run_partitioned`).
    ``world_size == 1`` with a ``Data`` runs in this process, without a process group (the
    single-process baseline of the notebook; its memory is not measured).
    ``start_method="forkserver"`` (default) imports torch and this package once in a server
    process and forks every later worker from it: about a second per launch instead of the
    several seconds a ``"spawn"`` child needs to import torch and PyG again. Each worker uses
    ``threads`` threads (several processes share the cores). A worker that fails stops the
    others, and the ``RuntimeError`` raised here carries its traceback.
    """
    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got {world_size}")
    n = parts.numel()
    if world_size > n:
        raise ValueError(f"more workers ({world_size}) than nodes ({n})")
    if int(parts.max()) >= world_size:
        raise ValueError(f"parts uses {int(parts.max()) + 1} parts but world_size={world_size}")
    check_backend(backend, world_size)
    g = load_graph(graph) if isinstance(graph, dict) else graph
    if config.mode == "minibatch":
        check_training_nodes(g.train_mask, parts, world_size)  # before any process starts
    if world_size == 1 and not isinstance(graph, dict) and backend == "gloo":
        before = torch.get_num_threads()
        # the in-process baseline gets the threads it is given, too (set_threads, not
        # _set_worker_threads: the caller's progress bars stay as they are)
        set_threads(threads)
        try:
            return [WORKFLOWS[config.mode](0, 1, g, parts, config)]
        finally:
            set_threads(before)
    with tempfile.TemporaryDirectory(prefix="distgnn-parts-") as root:
        write_partitions(g, parts, root, world_size, modes=(config.mode,), hops=len(config.fanouts) - 1)
        return run_partitioned(root, world_size, config, start_method, threads, timeout_s, backend)
