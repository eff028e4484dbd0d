"""The full MNIST (LeCun et al.) from its published IDX files in a local folder.

Download the four files from the MNIST page (or a mirror) and put them, gzipped or not, in one
folder: ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
``t10k-labels-idx1-ubyte`` (each optionally ending in ``.gz``). Pass ``root=`` that folder, or set
``COMPANION_DATA`` so that the files sit in ``$COMPANION_DATA/mnist/``. Nothing is downloaded.

IDX format: a 4-byte magic number (two zero bytes, a type code — 0x08 for unsigned bytes — and
the number of dimensions), one big-endian int32 per dimension, then the values in C order.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import torch

from companion.data._registry import local_root, register

FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
HINT = ("Download the four MNIST IDX files (" + ", ".join(FILES.values()) + ", optionally .gz) "
        "and pass root=<that folder> or put them in $COMPANION_DATA/mnist/.")


IDX = "IDX file (bytes 00 00 08 <ndim>, one big-endian int32 size per dimension, then the unsigned bytes)"


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzipped when its name ends in ``.gz``) into an unsigned-byte array.

    Raises ``ValueError`` naming the file when it is empty, not gzip (for ``.gz``), not IDX,
    truncated, or holds no values; ``FileNotFoundError`` when it is missing.
    """
    path = Path(path)
    gz = path.suffix == ".gz"
    what = f"a gzip-compressed {IDX}" if gz else f"an {IDX}"
    raw = path.read_bytes()
    if not raw:
        raise ValueError(f"{path} is empty: expected {what}")
    if gz:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError; a cut stream an EOFError
            raise ValueError(f"{path}: expected {what}; it does not decompress ({type(err).__name__}: {err})") from None
    elif raw[:2] == b"\x1f\x8b":
        raise ValueError(f"{path} is gzip-compressed but its name has no .gz: expected {what} "
                         "(rename it to end in .gz, or gunzip it)")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file: expected an {IDX}, got first bytes {raw[:4].hex(' ')}")
    if raw[2] != 0x08:
        raise ValueError(f"{path}: only unsigned-byte IDX files (type 0x08) are supported, got 0x{raw[2]:02x}")
    ndim = raw[3]
    if ndim == 0:
        raise ValueError(f"{path}: expected an {IDX} with at least one dimension, got 0")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated header ({len(raw)} bytes for {ndim} dimensions); expected an {IDX}")
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">i4"))
    if min(shape) < 1:
        raise ValueError(f"{path}: header says shape {shape}, an empty array: expected an {IDX} "
                         "with every size >= 1")
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise ValueError(f"{path}: header says {shape} = {expected} values, found {len(raw) - header} bytes "
                         f"({'truncated' if len(raw) - header < expected else 'trailing bytes'}); expected an {IDX}")
    return np.frombuffer(raw[header:], dtype=np.uint8).reshape(shape)


def _find(root: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise FileNotFoundError(f"mnist: {stem}[.gz] not found in {root}. {HINT}")


@register("mnist", "local", "the full MNIST (60,000 / 10,000) from the IDX files in a local folder")
def load_mnist(root: str | Path | None = None, flat: bool = False) -> dict[str, torch.Tensor]:
    """The official MNIST split: ``x_train`` (60000, 1, 28, 28) in [0, 1], ``y_train``, ``x_test``, ``y_test``.

    ``flat=True`` gives images as (N, 784) rows.
    """
    folder = local_root(root, "mnist", HINT)
    out: dict[str, torch.Tensor] = {}
    paths: dict[str, Path] = {}
    for key, stem in FILES.items():
        paths[key] = _find(folder, stem)
        arr = read_idx(paths[key])
        if key.startswith("x"):
            if arr.ndim != 3 or arr.shape[1:] != (28, 28):
                raise ValueError(f"{paths[key]}: expected an IDX file of 28x28 images (N, 28, 28), got shape {arr.shape}")
            t = torch.from_numpy(arr.astype(np.float32) / 255.0)
            out[key] = t.reshape(len(t), -1) if flat else t.unsqueeze(1)
        else:
            if arr.ndim != 1:
                raise ValueError(f"{paths[key]}: expected an IDX file of labels (N,), got shape {arr.shape}")
            if arr.max() > 9:
                raise ValueError(f"{paths[key]}: expected labels in 0..9, got values up to {arr.max()}")
            out[key] = torch.from_numpy(arr.astype(np.int64))
    for split in ("train", "test"):
        if len(out[f"x_{split}"]) != len(out[f"y_{split}"]):
            raise ValueError(f"mnist: {paths[f'x_{split}']} holds {len(out[f'x_{split}'])} images but "
                             f"{paths[f'y_{split}']} {len(out[f'y_{split}'])} labels")
    return out
