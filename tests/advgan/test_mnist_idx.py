import gzip
import struct

import numpy as np
import pytest
import torch

from companion import data
from companion.data.mnist_idx import read_idx


def _write_idx(path, arr, gz=False):
    arr = np.asarray(arr, dtype=np.uint8)
    raw = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "i" * arr.ndim, *arr.shape) + arr.tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


def _tiny_mnist(folder, gz=False):
    rng = np.random.default_rng(0)
    sfx = ".gz" if gz else ""
    xs = {"train": rng.integers(0, 256, (6, 28, 28)), "t10k": rng.integers(0, 256, (3, 28, 28))}
    ys = {"train": np.arange(6) % 10, "t10k": np.array([7, 2, 1])}
    for split in ("train", "t10k"):
        _write_idx(folder / f"{split}-images-idx3-ubyte{sfx}", xs[split], gz)
        _write_idx(folder / f"{split}-labels-idx1-ubyte{sfx}", ys[split], gz)
    return xs, ys


@pytest.mark.parametrize("gz", [False, True])
def test_loader_reads_tiny_idx_files(tmp_path, gz):
    xs, ys = _tiny_mnist(tmp_path, gz)
    out = data.load("mnist", root=tmp_path)
    assert out["x_train"].shape == (6, 1, 28, 28) and out["x_test"].shape == (3, 1, 28, 28)
    assert out["x_train"].dtype == torch.float32 and 0 <= out["x_train"].min() and out["x_train"].max() <= 1
    assert torch.allclose(out["x_test"][1, 0], torch.from_numpy(xs["t10k"][1] / 255.0).float())
    assert out["y_test"].tolist() == [7, 2, 1]
    assert data.load("mnist", root=tmp_path, flat=True)["x_train"].shape == (6, 784)


def test_loader_uses_companion_data_env(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    _tiny_mnist(tmp_path / "mnist")
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    assert data.load("mnist")["y_train"].tolist() == [0, 1, 2, 3, 4, 5]


def test_missing_file_says_what_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        data.load("mnist", root=tmp_path)


def test_bad_magic_and_truncated_file(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x00\x08\x01" + struct.pack(">i", 3) + b"abc")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(b"\x00\x00\x08\x01" + struct.pack(">i", 5) + b"abc")
    with pytest.raises(ValueError, match="header says"):
        read_idx(tmp_path / "short")
