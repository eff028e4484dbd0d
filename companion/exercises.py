"""Checked exercises: ``check("ch08.assign", my_function)`` compares a student's function with
the reference on seeded inputs and prints a friendly pass/fail with the first mismatch.

Each chapter registers its checks in ``companion/<method>/exercises.py`` with :func:`exercise`;
the prefix of the key (``ch08``) says which chapter module to import.

Whatever the student's function does (returns the wrong shape, a string, ``None``, a tuple of the
wrong length, NaN, or raises), :func:`check` prints one sentence that names the exercise, the
test case, the part of the result (``part 2 of 2``) and what was expected and received, and
returns ``False``; it raises only when it is called wrongly (an unknown key, a non-callable).
:func:`evaluate` returns the same verdict as a :class:`Verdict` without printing (the grader
uses it).

In the student edition of the package (:func:`companion.student.build_package`), the chapters'
``exercises`` modules register no reference solutions: :func:`expected` registers a key with its
case generator only, and :func:`evaluate` compares with the outputs that :func:`freeze` stored
when the edition was built (``companion/_expected/chNN.json``), with the same messages.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch

from companion import expected as _store

__all__ = ["exercise", "expected", "check", "evaluate", "freeze", "Verdict", "keys", "CHAPTERS", "EXPECTED_DIR"]

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


# where the student edition keeps the outputs that freeze() stored, one JSON file per chapter
EXPECTED_DIR = Path(__file__).resolve().parent / "_expected"


@dataclass
class Exercise:
    """A registered check: the reference solution (``None`` in the student edition, which
    compares with stored outputs instead), the seeded cases and the tolerances."""

    key: str
    reference: Callable[..., Any] | None
    cases: Callable[[], Iterable[tuple[tuple, dict]]]  # seeded (args, kwargs) inputs
    atol: float
    rtol: float


@dataclass
class Verdict:
    """The outcome of one check: ``passed``, and otherwise the first mismatch as a sentence.

    ``case`` is the 1-based test case that failed (``None`` when all passed); ``message`` is the
    full line that :func:`check` prints.
    """

    key: str
    passed: bool
    message: str
    case: int | None = None

    def __bool__(self) -> bool:
        return self.passed


_EXERCISES: dict[str, Exercise] = {}


def exercise(key: str, cases: Callable[[], Iterable[tuple[tuple, dict]]], atol: float = 1e-5, rtol: float = 1e-4):
    """Decorator: register the decorated function as the reference solution of ``key``.

    ``cases()`` yields ``(args, kwargs)`` inputs, built from a fixed seed.
    """
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        _EXERCISES[key] = Exercise(key, fn, cases, atol, rtol)
        return fn

    return wrap


def expected(key: str, cases: Callable[[], Iterable[tuple[tuple, dict]]], atol: float = 1e-5,
             rtol: float = 1e-4) -> None:
    """Register ``key`` without a reference: the student edition's checks compare with the
    outputs stored in ``EXPECTED_DIR/<chapter>.json`` (same arguments as :func:`exercise`)."""
    _EXERCISES[key] = Exercise(key, None, cases, atol, rtol)


def freeze(chapters: Iterable[str] | None = None) -> dict[str, dict]:
    """Run every reference once on its seeded cases: ``{chapter prefix: stored file content}``.

    Each exercise stores, per case, the fingerprint of its inputs (taken before any reference
    runs, as :func:`evaluate` takes it) and the reference's output, encoded by
    :mod:`companion.expected`. Raises ``ValueError`` for an unknown chapter or an exercise that
    has no reference (freezing the student edition itself).
    """
    chapters = list(CHAPTERS) if chapters is None else list(chapters)
    unknown = [c for c in chapters if c not in CHAPTERS]
    if unknown:
        raise ValueError(f"unknown chapters {unknown}; chapters are {sorted(CHAPTERS)}")
    out = {}
    for chapter in chapters:
        stored = {}
        for key in keys(chapter):
            ex = _EXERCISES[key]
            if ex.reference is None:
                raise ValueError(f"{key} has no reference solution to run (this is the student edition)")
            cases = list(ex.cases())
            prints = [_store.fingerprint(args, kwargs) for args, kwargs in cases]
            try:
                wants = [_store.encode(ex.reference(*args, **kwargs)) for args, kwargs in cases]
            except TypeError as err:
                raise ValueError(f"cannot store the reference output of {key}: {err}") from err
            stored[key] = {"cases": [{"inputs": p, "expected": w} for p, w in zip(prints, wants)]}
        out[chapter] = {"format": _store.FORMAT, "chapter": chapter,
                        "made_by": "companion.exercises.freeze: each reference run on its seeded cases",
                        "exercises": stored}
    return out


def _stored_outputs(ex: Exercise, cases: list[tuple[tuple, dict]]) -> list[Any]:
    """The stored outputs of ``ex``'s cases, after checking that the cases are those they were
    stored for (a stale or missing file is a broken edition, not a wrong answer: it raises)."""
    chapter = ex.key.split(".", 1)[0]
    path = EXPECTED_DIR / f"{chapter}.json"
    rebuild = "rebuild the student edition (python -m companion.student)"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))["exercises"][ex.key]["cases"]
    except (OSError, ValueError, KeyError) as err:
        raise RuntimeError(f"{ex.key}: the stored expected outputs are missing or unreadable ({path}: "
                           f"{type(err).__name__}: {err}); {rebuild}") from err
    if len(stored) != len(cases):
        raise RuntimeError(f"{ex.key}: {len(cases)} test cases, but {len(stored)} stored outputs; {rebuild}")
    for i, ((args, kwargs), case) in enumerate(zip(cases, stored)):
        if not _store.same_inputs(_store.fingerprint(args, kwargs), case["inputs"]):
            raise RuntimeError(f"{ex.key}: case {i + 1} of {len(cases)} is not the case its expected output "
                               f"was stored for (the inputs changed since the edition was built); {rebuild}")
    return [_store.decode(case["expected"]) for case in stored]


def _lookup(key: str) -> Exercise:
    if not isinstance(key, str):
        raise ValueError(f"the exercise key must be a string such as 'ch08.coarsen', got {type(key).__name__}")
    if key not in _EXERCISES:
        prefix = key.split(".", 1)[0]
        if prefix not in CHAPTERS:
            raise ValueError(f"unknown exercise {key!r}: the key starts with a chapter such as 'ch08.'")
        importlib.import_module(CHAPTERS[prefix])
    if key not in _EXERCISES:
        known = ", ".join(keys(key.split(".", 1)[0]))
        raise ValueError(f"unknown exercise {key!r}; this chapter has: {known or 'none'}")
    return _EXERCISES[key]


def keys(chapter: str) -> list[str]:
    """The registered exercise keys of a chapter prefix (``"ch08"``), sorted."""
    if chapter in CHAPTERS:
        importlib.import_module(CHAPTERS[chapter])
    return sorted(k for k in _EXERCISES if k.split(".", 1)[0] == chapter)


# ---------------------------------------------------------------- describing values


def _describe(value: Any, limit: int = 80) -> str:
    """A short phrase for a value: its type, and its shape or its value when small."""
    if value is None:
        return "None"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} ({str(value.dtype).replace('torch.', '')})"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} ({value.dtype})"
    if isinstance(value, (bool, np.bool_)):
        return f"a bool ({bool(value)})"
    if isinstance(value, (int, float, np.integer, np.floating)):
        kind = "an int" if isinstance(value, (int, np.integer)) else "a float"
        return f"{kind} ({_fmt(value)})"
    if isinstance(value, str):
        text = value if len(value) <= limit else value[:limit] + "..."
        return f"a string ({text!r})"
    if isinstance(value, Mapping):
        return f"a dict with keys {_keys(value)}"
    if isinstance(value, (list, tuple)):
        kind = "a list" if isinstance(value, list) else "a tuple"
        if value and all(_is_scalar(v) for v in value) and len(value) <= 8:
            return f"{kind} {_short(value, limit)}"
        return f"{kind} of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, torch.nn.Module):
        return f"a {type(value).__name__} module"
    return f"an object of type {type(value).__name__}"


def _keys(mapping: Mapping) -> list:
    try:
        return sorted(mapping)
    except TypeError:
        return list(mapping)


def _short(value: Any, limit: int = 80) -> str:
    try:
        text = repr(value)
    except Exception:  # a student's object whose repr fails
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def _fmt(x: Any) -> str:
    try:
        x = x.item() if hasattr(x, "item") else x
        if isinstance(x, (bool, np.bool_)):
            return str(bool(x))
        if isinstance(x, (int, np.integer)):
            return str(int(x))
        return f"{float(x):.6g}"
    except Exception:
        return _short(x)


def _is_scalar(value: Any) -> bool:
    """A plain Python or NumPy number (not a tensor: a tuple of tensors is compared part by part)."""
    return isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating))


def _is_numeric(value: Any) -> bool:
    """A tensor, an array, a number, or a (nested) list/tuple of plain numbers."""
    if isinstance(value, (torch.Tensor, np.ndarray)) or _is_scalar(value):
        return True
    if isinstance(value, (list, tuple)):
        return (len(value) > 0 and all(_is_scalar(v) or (isinstance(v, (list, tuple)) and _is_numeric(v))
                                       for v in value) and _as_array(value) is not None)  # not ragged
    return False


def _as_array(value: Any) -> np.ndarray | None:
    """``value`` as a float (or complex) array, or None when it is not numeric."""
    if isinstance(value, (str, bytes, Mapping)) or value is None:
        return None
    try:
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            if value.is_complex():
                return value.numpy()
            return value.double().numpy()
        if isinstance(value, (list, tuple)):
            value = [_as_array(v) if isinstance(v, (torch.Tensor, list, tuple)) else v for v in value]
            if any(v is None for v in value):
                return None
        arr = np.asarray(value)
        if arr.dtype == object or arr.dtype.kind in "USV":
            return None
        return arr if arr.dtype.kind == "c" else arr.astype(float)
    except Exception:  # ragged lists, objects without __array__
        return None


# ---------------------------------------------------------------- comparing


def _at(where: list[str]) -> str:
    return ", ".join(where) + ": " if where else ""


def _compare(got: Any, want: Any, atol: float, rtol: float, where: list[str] | None = None) -> str | None:
    """None when ``got`` equals ``want`` within tolerance, else a sentence on the first mismatch.

    ``where`` locates the value inside the result (``["part 2 of 2"]``, ``["key 'mrr'"]``).
    """
    where = where or []
    if want is None:
        return None if got is None else f"{_at(where)}expected None, got {_describe(got)}"
    if isinstance(want, Mapping):
        if not isinstance(got, Mapping):
            return f"{_at(where)}expected a dict with keys {_keys(want)}, got {_describe(got)}"
        missing = [k for k in want if k not in got]
        extra = [k for k in got if k not in want]
        if missing or extra:
            parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else [])
            return f"{_at(where)}expected a dict with keys {_keys(want)}, got keys {_keys(got)} ({'; '.join(parts)})"
        for k in want:
            msg = _compare(got[k], want[k], atol, rtol, where + [f"key {k!r}"])
            if msg:
                return msg
        return None
    if _is_numeric(want):
        return _compare_numeric(got, want, atol, rtol, where)
    if isinstance(want, (list, tuple)):
        kind = "tuple" if isinstance(want, tuple) else "list"
        n = len(want)
        if not isinstance(got, (list, tuple)):
            return f"{_at(where)}expected a {kind} of {n} parts, got {_describe(got)}"
        if len(got) != n:
            got_kind = "tuple" if isinstance(got, tuple) else "list"
            return f"{_at(where)}expected a {kind} of {n} parts, got a {got_kind} of {len(got)}"
        for i, (g, w) in enumerate(zip(got, want)):
            label = f"part {i + 1} of {n}" if isinstance(want, tuple) else f"item {i} of {n}"
            msg = _compare(g, w, atol, rtol, where + [label])
            if msg:
                return msg
        return None
    if isinstance(want, str):
        return None if got == want else f"{_at(where)}expected {_describe(want)}, got {_describe(got)}"
    try:
        if type(got) is type(want) and bool(got == want):
            return None
    except Exception:
        pass
    return f"{_at(where)}expected {_describe(want)}, got {_describe(got)}"


def _compare_numeric(got: Any, want: Any, atol: float, rtol: float, where: list[str]) -> str | None:
    want_arr = _as_array(want)
    got_arr = _as_array(got)
    if got_arr is None:
        return f"{_at(where)}expected {_describe(want)}, got {_describe(got)}"
    if got_arr.shape != want_arr.shape:
        if isinstance(want, (torch.Tensor, np.ndarray)) and isinstance(got, (torch.Tensor, np.ndarray)):
            return f"{_at(where)}expected {_describe(want)}, got {_describe(got)}"
        return (f"{_at(where)}expected shape {want_arr.shape} ({_describe(want)}), "
                f"got shape {got_arr.shape} ({_describe(got)})")
    bad = ~np.isclose(got_arr, want_arr, atol=atol, rtol=rtol, equal_nan=True)
    if not bad.any():
        return None
    if got_arr.ndim == 0:
        return f"{_at(where)}expected {_fmt(want_arr)}, got {_fmt(got_arr)}"
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    n_bad, n = int(bad.sum()), bad.size
    return (f"{_at(where)}at index {list(idx)} of shape {want_arr.shape}: expected {_fmt(want_arr[idx])}, "
            f"got {_fmt(got_arr[idx])} ({n_bad} of {n} entries differ)")


def _inputs(args: tuple, kwargs: dict) -> str:
    parts = [_describe(a, limit=30) for a in args] + [f"{k}={_describe(v, limit=30)}" for k, v in kwargs.items()]
    text = "; ".join(parts)
    return text if len(text) <= 240 else text[:240] + "..."


def _name(fn: Any) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def evaluate(key: str, fn: Callable[..., Any]) -> Verdict:
    """Run ``fn`` and the reference of exercise ``key`` on the same seeded inputs; never prints.

    Raises ``ValueError`` only for an unknown ``key`` or a ``fn`` that is not callable; anything
    ``fn`` does (raise, return the wrong thing) becomes a failed :class:`Verdict`. In the student
    edition the reference's outputs are read from its stored file, and a missing or stale file
    raises ``RuntimeError``.
    """
    ex = _lookup(key)
    if not callable(fn):
        raise ValueError(f"check({key!r}, ...) needs your function as its second argument (the name, "
                         f"without calling it), got {_describe(fn)}")
    cases = list(ex.cases())
    # fingerprints are taken before fn runs: an answer that changes its inputs in place must not
    # make a good edition look stale
    stored = _stored_outputs(ex, cases) if ex.reference is None else None
    for i, (args, kwargs) in enumerate(cases):
        where = f"case {i + 1} of {len(cases)}"
        want = ex.reference(*args, **kwargs) if stored is None else stored[i]
        try:
            got = fn(*args, **kwargs)
        except NotImplementedError as err:
            said = f"NotImplementedError: {err}" if str(err) else "NotImplementedError"
            return Verdict(key, False, f"✗ {key}: {where}: {_name(fn)} is not written yet (it raised {said})",
                           i + 1)
        except (Exception, SystemExit) as err:  # a student's bug is a message, not a traceback
            return Verdict(key, False, f"✗ {key}: {where}: {_name(fn)} raised {type(err).__name__}: {err} "
                                       f"(inputs: {_inputs(args, kwargs)})", i + 1)
        try:
            msg = _compare(got, want, ex.atol, ex.rtol)
        except Exception as err:  # an object the comparison cannot handle
            msg = f"could not compare your result ({_describe(got)}) with {_describe(want)}: {err}"
        if msg:
            return Verdict(key, False, f"✗ {key}: {where}: {msg} (inputs: {_inputs(args, kwargs)})", i + 1)
    return Verdict(key, True, f"✓ {key}: your function matches the reference on every test case.")


def check(key: str, fn: Callable[..., Any], verbose: bool = True, strict: bool = False) -> bool:
    """Run ``fn`` and the reference of exercise ``key`` on the same seeded inputs.

    Prints a pass message, or the first input on which they differ and how; returns the verdict
    (``True``/``False``), so a notebook writes ``assert exercises.check("ch08.coarsen", my_coarsen)``.

    With ``strict=True`` a failed check raises ``AssertionError`` whose message is that sentence
    (and prints nothing), so the cell's error says what went wrong rather than a bare
    ``AssertionError``: the check cells of the student edition are written this way.
    """
    __tracebackhide__ = True  # pytest shows the error without this frame
    verdict = evaluate(key, fn)
    if strict and not verdict.passed:
        raise AssertionError(verdict.message)
    if verbose:
        print(verdict.message)
    return verdict.passed

