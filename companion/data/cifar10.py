"""CIFAR-10 from a local ``cifar-10-batches-py`` folder (the paper's image dataset; never downloaded here).

The folder is the one inside the official "CIFAR-10 python version" archive
(https://www.cs.toronto.edu/~kriz/cifar.html, ``cifar-10-python.tar.gz``): pickled dicts
``data_batch_1`` .. ``data_batch_5`` and ``test_batch``, each with ``b"data"`` (N, 3072) uint8
rows (1024 red, 1024 green, 1024 blue values of a 32x32 image, row-major) and ``b"labels"``.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from companion.data._registry import local_root, register

TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
HINT = ("Download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, unpack it, and pass "
        "root=<path to cifar-10-batches-py> (or set COMPANION_DATA to the folder that contains cifar10/ holding "
        "those files).")


EXPECTED = ("a CIFAR-10 python batch: a pickled dict with b'data', an (N, 3072) uint8 array, and "
            "b'labels', N integers in 0..9")
# the globals a CIFAR-10 batch pickles (numpy arrays, under numpy 1's and 2's module names, any
# protocol; bytes as protocol 2 writes them from Python 3); any other is refused, so a corrupt or
# foreign pickle cannot run code while we read it
_ALLOWED = {(f"numpy.{core}.{mod}", name) for core in ("core", "_core")
            for mod, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer"))}
_ALLOWED |= {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing the global {module}.{name}, which a CIFAR-10 batch does not hold")
        return super().find_class(module, name)


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(data (N, 3072) uint8, labels (N,) int64)`` of one batch file; ``ValueError`` naming it if it is not one."""
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty: expected {EXPECTED}")
    try:
        with open(path, "rb") as f:
            batch = _BatchUnpickler(f, encoding="bytes").load()
    except Exception as err:  # a corrupt pickle raises almost anything (EOFError, KeyError, ...)
        raise ValueError(f"{path}: expected {EXPECTED}; it does not unpickle "
                         f"({type(err).__name__}: {err})") from None
    if not isinstance(batch, dict):
        raise ValueError(f"{path} is not a CIFAR-10 batch: expected {EXPECTED}, got a pickled {type(batch).__name__}")
    missing = [k for k in (b"data", b"labels") if k not in batch]
    if missing:
        raise ValueError(f"{path} is not a CIFAR-10 batch: no {missing[0]!r} entry; expected {EXPECTED}")
    data = batch[b"data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        got = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(f"{path}: expected {EXPECTED}; b'data' is a {got}")
    try:
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as err:
        raise ValueError(f"{path}: expected {EXPECTED}; b'labels' are not integers ({err})") from None
    if labels.ndim != 1 or len(labels) != len(data):
        raise ValueError(f"{path}: expected {EXPECTED}; got data {data.shape} and labels {labels.shape}")
    if len(labels) == 0:
        raise ValueError(f"{path} holds no images: expected {EXPECTED} with N >= 1")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: expected {EXPECTED}; labels span {labels.min()}..{labels.max()}")
    return data, labels


@register("cifar10", "local", "CIFAR-10 (60,000 32x32 colour images, 10 classes) from a local cifar-10-batches-py folder")
def load_cifar10(root: str | Path | None = None, n_train: int | None = None, n_test: int | None = None
                 ) -> dict[str, torch.Tensor]:
    """``x_train, y_train, x_test, y_test`` with images (N, 3, 32, 32) float in [0, 1].

    ``root`` is the ``cifar-10-batches-py`` folder (default ``$COMPANION_DATA/cifar10``);
    ``n_train``/``n_test`` keep the first rows (the files are already shuffled). Training batches
    that are missing are skipped, but at least one and ``test_batch`` must be there.
    """
    folder = local_root(root, "cifar10", HINT)
    train_paths = [folder / f for f in TRAIN_FILES if (folder / f).is_file()]
    if not train_paths or not (folder / TEST_FILE).is_file():
        raise FileNotFoundError(f"cifar10: {folder} needs data_batch_1..5 and {TEST_FILE}. {HINT}")
    parts = [_read_batch(p) for p in train_paths]
    x_tr = np.concatenate([p[0] for p in parts])
    y_tr = np.concatenate([p[1] for p in parts])
    x_te, y_te = _read_batch(folder / TEST_FILE)
    out = {}
    for part, x, y, n in (("train", x_tr, y_tr, n_train), ("test", x_te, y_te, n_test)):
        if n is not None:
            if not 0 < n <= len(y):
                raise ValueError(f"n_{part} must be in 1..{len(y)}, got {n}")
            x, y = x[:n], y[:n]
        out[f"x_{part}"] = torch.from_numpy(x.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)
        out[f"y_{part}"] = torch.from_numpy(y)
    return out
