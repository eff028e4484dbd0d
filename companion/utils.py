"""Shared helpers: seeding, device choice, threads, a generic training loop, timing and paths."""

from __future__ import annotations

import os
import platform
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from companion import PORTABLE_NUMERICS, _default_threads, _numerics_mode

REPO_ROOT = Path(__file__).resolve().parent.parent

__all__ = ["seed_everything", "get_device", "progress", "History", "train", "accuracy", "Timer",
           "torch_threads", "set_threads", "set_compute_device", "repo_path", "package_versions",
           "machine_info", "numerics_info"]


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch so that a rerun gives the same numbers.

    Returns a ``torch.Generator`` seeded with ``seed`` for code that wants its own stream.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    return torch.Generator().manual_seed(seed)


def get_device(prefer: str | None = None) -> torch.device:
    """The device to run on: ``prefer`` if given, else CUDA when available, else CPU."""
    if prefer is not None:
        if prefer.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device {prefer!r} requested but CUDA is not available")
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def progress(iterable: Iterable | None = None, **kwargs) -> tqdm:
    """A ``tqdm.auto`` progress bar; ``COMPANION_NO_PROGRESS=1`` silences every bar (tests, CI logs).

    The variable wins over a caller's ``disable`` (``--no-progress``, and a CLI whose output is a
    log, set it). Under a CLI's overall bar (:class:`companion.cli.RunProgress`) a bar takes the
    next free line below it and is erased when it ends (``leave=False``).
    """
    if os.environ.get("COMPANION_NO_PROGRESS") == "1":
        kwargs["disable"] = True
    kwargs.setdefault("disable", False)
    kwargs.setdefault("leave", False)
    kwargs.setdefault("mininterval", 0.5)
    return tqdm(iterable, **kwargs)


@dataclass
class History:
    """Per-epoch records of a training run (``history.values["loss"]`` is a list)."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def log(self, **metrics: float) -> None:
        for key, value in metrics.items():
            self.values.setdefault(key, []).append(float(value))

    def last(self, key: str) -> float:
        return self.values[key][-1]

    def __getitem__(self, key: str) -> list[float]:
        return self.values[key]


def train(
    model: torch.nn.Module,
    step: Callable[[torch.nn.Module, object], torch.Tensor | dict[str, torch.Tensor]],
    batches: Callable[[int], Iterable] | Iterable,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    evaluate: Callable[[torch.nn.Module], dict[str, float]] | None = None,
    desc: str = "train",
    clip_grad: float | None = None,
) -> History:
    """The one generic training loop of the book.

    ``step(model, batch)`` returns the loss to minimise, or a dict whose ``"loss"`` entry is
    minimised and whose other entries are logged (as epoch means). ``batches`` is an iterable
    reused every epoch, or a function ``epoch -> iterable`` (for reshuffling). ``evaluate(model)``
    runs after every epoch in ``eval`` mode under ``torch.no_grad`` and its metrics are logged.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    history = History()
    bar = progress(range(epochs), desc=desc)
    for epoch in bar:
        model.train()
        sums: dict[str, float] = {}
        count = 0
        for batch in batches(epoch) if callable(batches) else batches:
            out = step(model, batch)
            terms = out if isinstance(out, dict) else {"loss": out}
            if "loss" not in terms:
                raise ValueError("step() returned a dict without a 'loss' entry")
            optimizer.zero_grad()
            terms["loss"].backward()
            if clip_grad is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
            optimizer.step()
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + float(value.detach())
            count += 1
        if count == 0:
            raise ValueError("batches yielded nothing: an empty data loader?")
        history.log(**{k: v / count for k, v in sums.items()})
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                history.log(**evaluate(model))
        bar.set_postfix({k: f"{v[-1]:.3g}" for k, v in history.values.items()})
    model.eval()
    return history


@torch.no_grad()
def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of rows whose arg-max equals the label."""
    if logits.ndim != 2 or labels.ndim != 1 or logits.shape[0] != labels.shape[0]:
        raise ValueError(
            f"expected logits (N, C) and labels (N,), got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    return (logits.argmax(dim=1) == labels).float().mean().item()


class Timer:
    """Wall-clock and CPU timer: ``with Timer() as t: ...; t.seconds, t.cpu_seconds``.

    ``cpu_seconds`` is this process's CPU time (``time.process_time``): on a shared machine it
    leaves out the time other processes hold the cores.
    """

    def __enter__(self) -> "Timer":
        self.start, self.cpu_start = time.perf_counter(), time.process_time()
        self.seconds = self.cpu_seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start
        self.cpu_seconds = time.process_time() - self.cpu_start


@contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Run the block with ``model`` in evaluation mode, then give it back its training flag."""
    was = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Temporarily run torch with ``n`` intra-op threads."""
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def set_threads(n: int | None = None) -> int:
    """Use ``n`` threads for torch's intra-op pool, OpenMP and BLAS, here and in child processes.

    Sets ``torch.set_num_threads(n)``, limits every BLAS and OpenMP pool loaded in this process
    (through ``threadpoolctl``) and exports ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
    ``MKL_NUM_THREADS`` for processes started later. ``n=None`` takes ``COMPANION_THREADS``
    (default 1). ``import companion`` applies this policy already; call it to change it.
    Returns ``n``.
    """
    if n is None:
        n = _default_threads()
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an int >= 1 (threads), got {n!r}")
    n = int(n)
    for name in THREAD_ENV:
        os.environ[name] = str(n)
    _limit_threads(n)
    return n


def _limit_threads(n: int) -> None:
    torch.set_num_threads(n)
    threadpool_limits(limits=n)  # not used as a context manager: the limit stays


def _apply_thread_policy() -> None:
    """The policy of ``import companion`` for pools that already exist (numpy/torch imported first).

    ``COMPANION_THREADS`` if set, else the user's ``OMP_NUM_THREADS`` (``companion/__init__`` set it
    to 1 when unset); the environment is left as it is.
    """
    if "COMPANION_THREADS" in os.environ:
        n = _default_threads()
    else:
        try:
            n = max(1, int(os.environ.get("OMP_NUM_THREADS", "1").split(",")[0]))
        except ValueError:
            n = 1
    _limit_threads(n)


_COMPUTE_DEVICE = "cpu"  # what machine_info records; a CLI's start_run sets it from --device


def set_compute_device(device: torch.device | str) -> str:
    """Record where this process computes (``cpu`` or ``cuda``), for :func:`machine_info`'s ``device``.

    ``companion.cli.start_run`` calls it with the device of ``--device``; it moves nothing.
    Returns the device type recorded.
    """
    global _COMPUTE_DEVICE
    _COMPUTE_DEVICE = torch.device(device).type
    return _COMPUTE_DEVICE


def repo_path(*parts: str) -> Path:
    """A path inside the repository (works from a notebook's folder, a test, or a CLI)."""
    return REPO_ROOT.joinpath(*parts)


def package_versions(names: Iterable[str] = ("torch", "numpy", "torch-geometric", "scikit-learn")) -> dict[str, str]:
    """Installed versions of ``names`` (``"absent"`` for a missing package)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def _cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, object]:
    """What machine a result was measured on, and where it computed (``device``: ``cpu`` or ``cuda``,
    as :func:`set_compute_device` recorded it; ``cpu`` unless a CLI ran with ``--device cuda``)."""
    info: dict[str, object] = {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": _COMPUTE_DEVICE,
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def numerics_info() -> dict[str, object]:
    """The numerics policy of this process and the code paths actually in force.

    ``policy`` is ``portable`` or ``native`` (``COMPANION_NUMERICS``); ``in_force`` what the
    libraries report: torch's vector level, whether numpy runs its AVX-512 loops, OpenBLAS's core
    types. ``baseline`` is true when the portable pins took effect, so the run's bits match every
    other machine at the baseline (a CPU without AVX2, or numpy/torch used before ``import
    companion``, makes it false). Results files record this; ``companion.reproduce`` reads it.
    """
    from threadpoolctl import threadpool_info

    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as features
    mode = _numerics_mode()
    in_force = {
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "numpy_avx512": bool(features.get("X86_V4") or features.get("AVX512_SKX")),
        "openblas_core": sorted({str(p.get("architecture")) for p in threadpool_info()
                                 if p.get("internal_api") == "openblas"}),
    }
    baseline = (mode == "portable" and in_force["torch_cpu_capability"] == "AVX2"
                and not in_force["numpy_avx512"]
                and all(core == "Haswell" for core in in_force["openblas_core"]))
    return {"policy": mode,
            "pinned": {k: os.environ.get(k) for k in PORTABLE_NUMERICS},
            "in_force": in_force, "baseline": baseline}


_apply_thread_policy()  # once, when companion.utils is first imported
