"""A CPU stand-in for a CUDA device, to test the ``--device cuda`` paths on a machine without a GPU.

Inside ``with fake_cuda() as mixups:`` torch says it has a GPU, and a tensor or module moved to
``cuda`` (``.to``, ``.cuda()``, a factory with ``device="cuda"``) stays a CPU tensor but is marked
as living on the GPU (its storage is; ``tensor.device`` then says ``cuda``). Every result of an op
on a marked tensor is marked too. What CUDA would refuse is recorded in ``mixups`` (and the run
goes on, so that one run lists every place):

- an op on marked and unmarked tensors (0-d CPU tensors allowed, as CUDA allows them; CPU
  indices of an indexing op allowed, as CUDA allows them);
- ``numpy()`` of a marked tensor;
- a CPU ``torch.Generator`` driving a draw on the GPU.

The numbers are the CPU's, so a fake-GPU run also gives the CPU run's results. Limits: what
composite kernels allocate inside from their inputs' real options (``torch.sparse.mm``,
``one_hot``) is treated as beside their inputs; the marks hold every marked tensor alive until the
block ends (use it for reduced runs). It relies on torch internals (dispatch modes, the
``Tensor.device`` property): written for the pinned torch 2.13.
"""

from __future__ import annotations

import contextlib
import traceback
from typing import Any, Iterator
from unittest import mock

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

CUDA = torch.device("cuda")
_ON_GPU: dict[int, torch.Tensor] = {}  # storage address -> a tensor that holds it (kept alive: no reuse)
_MIXUPS: list[str] = []
_QUIET = [0]  # > 0 inside a composite kernel (see the module docstring)
_COMPOSITES = {torch.nn.functional.one_hot}
_NEUTRAL = {torch.ops.aten.copy_.default, torch.ops.aten._to_copy.default, torch.ops.aten.detach.default,
            torch.ops.aten.lift_fresh.default, torch.ops.aten.alias.default,
            torch.ops.aten._local_scalar_dense.default, torch.ops.aten.set_.source_Tensor}
_INDEX = {torch.ops.aten.index.Tensor, torch.ops.aten.index_put_.default, torch.ops.aten.index_put.default,
          torch.ops.aten._index_put_impl_.default}


def _addresses(t: torch.Tensor) -> list[int]:
    if t.layout == torch.sparse_coo:
        return [p for part in (t._indices(), t._values()) for p in _addresses(part)]
    if t.layout != torch.strided:
        return []
    try:
        p = t.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError):  # no storage (an uninitialised parameter)
        return []
    return [p] if p else []


def on_gpu(t: torch.Tensor) -> bool:
    """Whether ``t`` lives on the fake GPU."""
    return any(p in _ON_GPU for p in _addresses(t))


def _mark(t: Any) -> Any:
    if isinstance(t, torch.Tensor):
        for p in _addresses(t):
            _ON_GPU[p] = t
    return t


def _unmark(t: torch.Tensor) -> torch.Tensor:
    for p in _addresses(t):
        _ON_GPU.pop(p, None)
    return t


def _mixup(what: str) -> None:
    frames = [f for f in traceback.extract_stack()[:-3] if "/companion/" in f.filename]
    where = " <- ".join(f"{f.filename.split('/companion/')[-1]}:{f.lineno}" for f in reversed(frames[-4:]))
    _MIXUPS.append(f"{what} at {where or '?'}")


def _is_cuda(device: Any) -> bool:
    return isinstance(device, (str, torch.device)) and torch.device(device).type == "cuda"


_REAL_DEVICE = torch._C.TensorBase.device
_REAL_MATERIALIZE = torch.nn.parameter.UninitializedTensorMixin.materialize


def _fake_device(self: torch.Tensor) -> torch.device:
    return CUDA if on_gpu(self) else _REAL_DEVICE.__get__(self)


def _materialize(self, *args, **kwargs) -> None:  # a lazy parameter moved to the GPU before its shape is known
    _REAL_MATERIALIZE(self, *args, **kwargs)
    if getattr(self, "_fake_cuda", False):
        _mark(self)


def _target(args: tuple, kwargs: dict) -> tuple[Any, list, dict]:
    """The device that ``Tensor.to(*args, **kwargs)`` asks for (None: none), and the arguments with
    it replaced by the CPU."""
    device, args = kwargs.get("device"), list(args)
    for i, a in enumerate(args[1:], 1):
        if isinstance(a, torch.Tensor):
            device = CUDA if on_gpu(a) else torch.device("cpu")
            args[i] = a.dtype
        elif isinstance(a, (str, torch.device)):
            device, args[i] = torch.device(a), torch.device("cpu")
    if "device" in kwargs:
        kwargs = {**kwargs, "device": torch.device("cpu")}
    return device, args, kwargs


class _Functions(TorchFunctionMode):
    """Moves, factories and ``numpy()``: what the Python API says about devices."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.Tensor.numpy, torch.Tensor.__array__) and on_gpu(args[0]):
            _mixup("numpy() of a cuda tensor")
        elif func is torch.Tensor.cuda:
            return _mark(args[0].clone())
        elif func is torch.Tensor.cpu:
            return _unmark(args[0].clone()) if on_gpu(args[0]) else func(*args, **kwargs)
        elif func is torch.Tensor.to:
            device, a, k = _target(args, kwargs)
            if isinstance(args[0], torch.nn.parameter.UninitializedTensorMixin):
                args[0]._fake_cuda = _is_cuda(device)
                return args[0]
            out = func(*a, **k)
            if device is None:
                return out
            if _is_cuda(device):
                return out if on_gpu(args[0]) else _mark(out.clone() if out is args[0] else out)
            return _unmark(out.clone() if out is args[0] else out) if on_gpu(args[0]) else out
        elif func in _COMPOSITES:
            flat, _ = tree_flatten((args, kwargs))
            gpu = any(isinstance(t, torch.Tensor) and on_gpu(t) for t in flat)
            _QUIET[0] += 1
            try:
                out = func(*args, **kwargs)
            finally:
                _QUIET[0] -= 1
            return _mark(out) if gpu else out
        elif _is_cuda(kwargs.get("device")):
            gen = kwargs.get("generator")
            if gen is not None and gen.device.type != "cuda":
                _mixup(f"{getattr(func, '__name__', func)}: a CPU generator draws on the GPU")
            out = func(*args, **{**kwargs, "device": torch.device("cpu")})
            # a real move copies: never mark memory that a CPU source (a numpy array) still holds
            return _mark(out.clone() if isinstance(out, torch.Tensor) else out)
        return func(*args, **kwargs)


class _Ops(TorchDispatchMode):
    """Every aten op: where its inputs live, and its outputs marked where they do."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _QUIET[0] or func is torch.ops.aten.copy_.default:  # copies between devices are allowed
            return func(*args, **kwargs)
        tensors = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        checked = tensors
        if func is torch.ops.aten._sparse_addmm.default:
            checked = [args[1], args[2]]  # its zero `self` is made inside from the CPU options
        elif func in _INDEX:
            checked = [args[0]] + [a for a in args[2:3] if isinstance(a, torch.Tensor)]  # CPU indices are fine
        gpu = [t for t in checked if on_gpu(t)]
        if gpu and func not in _NEUTRAL:
            cpu = [tuple(t.shape) for t in checked if not on_gpu(t) and t.dim() > 0 and t.numel() > 0]
            if cpu:
                _mixup(f"{func}: GPU and CPU tensors mixed (CPU shapes {cpu})")
            if kwargs.get("generator") is not None:
                _mixup(f"{func}: a CPU generator draws on the GPU")
        out = func(*args, **kwargs)
        if gpu and func is not torch.ops.aten._local_scalar_dense.default:
            for o in tree_flatten(out)[0]:
                if isinstance(o, torch.Tensor) and not any(o is t for t in tensors):
                    _mark(o)
        return out


@contextlib.contextmanager
def fake_cuda() -> Iterator[list[str]]:
    """Run the block as if torch had one GPU (see the module docstring); yields the list of mix-ups."""
    _ON_GPU.clear()
    _MIXUPS.clear()
    try:
        with mock.patch("torch.cuda.is_available", lambda: True), \
                mock.patch("torch.cuda.get_device_name", lambda *a: "fake GPU"), \
                mock.patch("torch.cuda.synchronize", lambda *a: None), \
                mock.patch("torch.cuda.device_count", lambda: 1), \
                mock.patch.object(torch.Tensor, "device", property(_fake_device), create=True), \
                mock.patch.object(torch.Tensor, "is_cuda", property(on_gpu), create=True), \
                mock.patch.object(torch.nn.parameter.UninitializedTensorMixin, "materialize", _materialize), \
                _Functions(), _Ops():
            yield _MIXUPS
    finally:
        _ON_GPU.clear()
