"""Stored expected outputs of the checked exercises, for the student edition of the package.

The student package (``python -m companion.student``, see :func:`companion.student.build_package`)
ships no reference solutions: each reference is run once on its seeded cases when the package is
built, and its outputs are stored as JSON beside the case inputs' fingerprints. In that package,
:func:`companion.exercises.evaluate` compares a student's function with the stored outputs, with
the same comparison and the same messages as with the reference.

- :func:`encode` / :func:`decode` turn an output into strict JSON and back, bit for bit: tensors
  and arrays as the base64 of their bytes with dtype and shape; tuples, dicts (whatever their
  keys), NumPy scalars and non-finite floats tagged, so that a value comes back with its type.
- :func:`fingerprint` summarises a case's inputs (their structure exactly, their numbers as a few
  sums), and :func:`same_inputs` compares two fingerprints, so that the student package notices
  when its generated cases are not those the outputs were stored for.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

__all__ = ["encode", "decode", "fingerprint", "same_inputs"]

FORMAT = 1  # the version of the stored files' layout


# ---------------------------------------------------------------- outputs, bit for bit


def _array(arr: np.ndarray) -> dict[str, Any]:
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"cannot store an array of dtype {arr.dtype} (only numbers and bools)")
    little = arr.astype(arr.dtype.newbyteorder("<"), copy=False)  # one byte order in the file
    # tobytes(order="C") rather than np.ascontiguousarray, which makes a 0-d array 1-d
    return {"dtype": little.dtype.str, "shape": list(arr.shape),
            "data": base64.b64encode(little.tobytes(order="C")).decode("ascii")}


def _unarray(d: Mapping[str, Any]) -> np.ndarray:
    stored = np.dtype(d["dtype"])
    raw = base64.b64decode(d["data"])
    # astype copies into native byte order: a writable array that torch.from_numpy accepts
    return np.frombuffer(raw, dtype=stored).reshape(d["shape"]).astype(stored.newbyteorder("="))


def encode(value: Any) -> Any:
    """``value`` as JSON-able data that :func:`decode` turns back into the same types and bits.

    Raises ``TypeError`` for what cannot be stored (modules, functions, arbitrary objects).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):  # before int/float: np.float64 is a float subclass
        if value.dtype.kind not in "biufc":
            raise TypeError(f"cannot store a NumPy scalar of dtype {value.dtype}")
        return {"$numpy": _array(np.asarray(value))}
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # JSON has no NaN or infinity; finite floats round-trip exactly through repr
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        if t.dtype == torch.bfloat16:
            raise TypeError("cannot store a bfloat16 tensor (NumPy has no such dtype)")
        return {"$tensor": _array(t.resolve_conj().resolve_neg().numpy())}
    if isinstance(value, np.ndarray):
        return {"$ndarray": _array(value)}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):  # tagged, so keys keep their type and order
        return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


def decode(data: Any) -> Any:
    """The value that :func:`encode` stored as ``data``."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if len(data) != 1:
        raise ValueError(f"not a stored value: a dict with keys {sorted(data)}")
    (tag, body), = data.items()
    if tag == "$float":
        return float(body)
    if tag == "$numpy":
        return _unarray(body)[()]
    if tag == "$tensor":
        return torch.from_numpy(_unarray(body))
    if tag == "$ndarray":
        return _unarray(body)
    if tag == "$tuple":
        return tuple(decode(v) for v in body)
    if tag == "$dict":
        return {decode(k): decode(v) for k, v in body}
    raise ValueError(f"not a stored value: unknown tag {tag!r}")


# ---------------------------------------------------------------- inputs, summarised


def _sums(arr: np.ndarray) -> list[float]:
    """Sum, sum of squares and a position-weighted sum: a changed or permuted entry moves one."""
    a = arr.astype(np.complex128 if arr.dtype.kind == "c" else np.float64).reshape(-1)
    if a.dtype.kind == "c":
        a = np.concatenate([a.real, a.imag])
    weights = 1.0 + (np.arange(a.size) % 7) / 7.0
    return [float(a.sum()), float((a * a).sum()), float((a * weights).sum())]


def _walk(value: Any, shape: list[str], numbers: list[float], depth: int) -> None:
    if depth > 8:  # self-referencing objects: their type is enough
        shape.append(f"<{type(value).__name__}>")
        return
    if value is None or isinstance(value, str):
        shape.append(repr(value))
    elif isinstance(value, (bool, np.bool_)):
        shape.append("bool")
        numbers.append(float(value))
    elif isinstance(value, (int, float, np.integer, np.floating)):
        shape.append("int" if isinstance(value, (int, np.integer)) else "float")
        numbers.append(float(value))
    elif isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        shape.append(f"tensor{tuple(t.shape)}{str(t.dtype).replace('torch.', '')}")
        numbers += _sums(t.float().numpy() if t.dtype == torch.bfloat16 else t.resolve_conj().numpy())
    elif isinstance(value, np.ndarray):
        shape.append(f"array{value.shape}{value.dtype}")
        numbers += _sums(value) if value.dtype.kind in "biufc" else [float(len(repr(value)))]
    elif isinstance(value, torch.nn.Module):
        shape.append(f"module {type(value).__name__} ({'train' if value.training else 'eval'})")
        for name, tensor in sorted(value.state_dict().items()):
            shape.append(name)
            _walk(tensor, shape, numbers, depth + 1)
    elif isinstance(value, Mapping):
        shape.append(f"dict of {len(value)}")
        for k in sorted(value, key=repr):
            shape.append(repr(k))
            _walk(value[k], shape, numbers, depth + 1)
    elif isinstance(value, (list, tuple)):
        shape.append(f"{type(value).__name__} of {len(value)}")
        for v in value:
            _walk(v, shape, numbers, depth + 1)
    elif callable(value) and hasattr(value, "__code__"):
        # a function given as input (a game's value function): its name, and the data it
        # carries in default arguments and closures, which is where a seeded case puts it
        shape.append(f"function {getattr(value, '__qualname__', '?')}")
        carried = list(value.__defaults__ or ()) + list((value.__kwdefaults__ or {}).values())
        carried += [c.cell_contents for c in (value.__closure__ or ()) if not callable(c.cell_contents)]
        for v in carried:
            _walk(v, shape, numbers, depth + 1)
    else:
        shape.append(f"<{type(value).__name__}>")


def fingerprint(args: tuple, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-able summary of one case's inputs: ``shape`` (types, shapes, dtypes, strings,
    exactly) and ``numbers`` (each number, and three sums of each tensor or array)."""
    shape: list[str] = []
    numbers: list[float] = []
    _walk((tuple(args), dict(kwargs)), shape, numbers, 0)
    return {"shape": " ".join(shape), "numbers": encode(numbers)}


def same_inputs(a: Mapping[str, Any], b: Mapping[str, Any], rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Whether two fingerprints describe the same inputs.

    Numbers are compared with a tolerance, not bit for bit: a linear-algebra routine used to make
    a case (a QR factorisation) may round its last bits differently on another CPU, which changes
    neither the case nor its expected output beyond the checks' tolerances.
    """
    if a["shape"] != b["shape"]:
        return False
    x, y = np.asarray(decode(a["numbers"]), float), np.asarray(decode(b["numbers"]), float)
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True))
