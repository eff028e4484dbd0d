"""Checked exercises: ``check("ch08.assign", my_function)`` compares a student's function with
the reference on seeded inputs and prints a friendly pass/fail with the first mismatch.

Each chapter registers its checks in ``companion/<method>/exercises.py`` with :func:`exercise`;
the prefix of the key (``ch08``) says which chapter module to import.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import torch

# chapter prefix -> companion subpackage that registers its checks
CHAPTERS = {
    "ch00": "companion.intro.exercises",
    "ch01": "companion.snn.exercises",
    "ch02": "companion.distgnn.exercises",
    "ch03": "companion.subgraphx.exercises",
    "ch04": "companion.alinet.exercises",
    "ch05": "companion.minibert.exercises",
    "ch06": "companion.kgcn.exercises",
    "ch07": "companion.lds.exercises",
    "ch08": "companion.diffpool.exercises",
    "ch09": "companion.advgan.exercises",
    "ch10": "companion.carried.exercises",
    "ch11": "companion.tracking.exercises",
}


@dataclass
class Exercise:
    key: str
    reference: Callable[..., Any]
    cases: Callable[[], Iterable[tuple[tuple, dict]]]  # seeded (args, kwargs) inputs
    atol: float
    rtol: float


_EXERCISES: dict[str, Exercise] = {}


def exercise(key: str, cases: Callable[[], Iterable[tuple[tuple, dict]]], atol: float = 1e-5, rtol: float = 1e-4):
    """Decorator: register the decorated function as the reference solution of ``key``.

    ``cases()`` yields ``(args, kwargs)`` inputs, built from a fixed seed.
    """
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        _EXERCISES[key] = Exercise(key, fn, cases, atol, rtol)
        return fn

    return wrap


def _lookup(key: str) -> Exercise:
    if key not in _EXERCISES:
        prefix = key.split(".", 1)[0]
        if prefix not in CHAPTERS:
            raise ValueError(f"unknown exercise {key!r}: the key starts with a chapter such as 'ch08.'")
        importlib.import_module(CHAPTERS[prefix])
    if key not in _EXERCISES:
        known = ", ".join(k for k in sorted(_EXERCISES) if k.startswith(key.split(".", 1)[0]))
        raise ValueError(f"unknown exercise {key!r}; this chapter has: {known or 'none'}")
    return _EXERCISES[key]


def _to_numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)):
        return type(value)(_to_numpy(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    return value


def _compare(got: Any, want: Any, atol: float, rtol: float, where: str = "result") -> str | None:
    """None when equal within tolerance, else a sentence describing the first mismatch."""
    got, want = _to_numpy(got), _to_numpy(want)
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return f"{where}: expected a dict with keys {sorted(want)}, got {got!r:.200}"
        for k in want:
            msg = _compare(got[k], want[k], atol, rtol, f"{where}[{k!r}]")
            if msg:
                return msg
        return None
    if isinstance(want, (list, tuple)) and not np.isscalar(want):
        try:
            want_arr = np.asarray(want, dtype=float)
        except (TypeError, ValueError):
            if not isinstance(got, (list, tuple)) or len(got) != len(want):
                return f"{where}: expected a sequence of length {len(want)}, got {got!r:.200}"
            for i, (g, w) in enumerate(zip(got, want)):
                msg = _compare(g, w, atol, rtol, f"{where}[{i}]")
                if msg:
                    return msg
            return None
        want = want_arr
    try:
        got_arr = np.asarray(got, dtype=float)
        want_arr = np.asarray(want, dtype=float)
    except (TypeError, ValueError):
        return None if got == want else f"{where}: expected {want!r:.200}, got {got!r:.200}"
    if got_arr.shape != want_arr.shape:
        return f"{where}: expected shape {want_arr.shape}, got {got_arr.shape}"
    bad = ~np.isclose(got_arr, want_arr, atol=atol, rtol=rtol, equal_nan=True)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if got_arr.ndim else ()
        return (f"{where}{list(idx) if idx else ''}: expected {want_arr[idx] if idx else want_arr.item():.6g}, "
                f"got {got_arr[idx] if idx else got_arr.item():.6g}")
    return None


def check(key: str, fn: Callable[..., Any], verbose: bool = True) -> bool:
    """Run ``fn`` and the reference of exercise ``key`` on the same seeded inputs.

    Prints a pass message, or the first input on which they differ and how; returns the verdict.
    """
    if not callable(fn):
        raise ValueError(f"check() needs your function as its second argument, got {type(fn).__name__}")
    ex = _lookup(key)
    for i, (args, kwargs) in enumerate(ex.cases()):
        want = ex.reference(*args, **kwargs)
        try:
            got = fn(*args, **kwargs)
        except Exception as err:  # a student's bug is a message, not a traceback
            if verbose:
                print(f"✗ {key}: case {i + 1} raised {type(err).__name__}: {err}")
            return False
        msg = _compare(got, want, ex.atol, ex.rtol)
        if msg:
            if verbose:
                print(f"✗ {key}: case {i + 1}: {msg}")
            return False
    if verbose:
        print(f"✓ {key}: your function matches the reference on every test case.")
    return True
