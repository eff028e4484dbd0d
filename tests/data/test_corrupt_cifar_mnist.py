"""Corrupt, truncated and empty local files: a ValueError that names the file and the expected format."""

import gzip
import pickle
import re
import struct

import numpy as np
import pytest

from companion import data
from companion.data.mnist_idx import FILES, read_idx


def _idx(arr) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    return bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "i" * arr.ndim, *arr.shape) + arr.tobytes()


def _batch(n: int = 3, labels=None) -> bytes:
    rng = np.random.default_rng(0)
    return pickle.dumps({b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         b"labels": list(range(n)) if labels is None else labels})


def _cifar_folder(folder, test_bytes: bytes) -> None:
    (folder / "data_batch_1").write_bytes(_batch())
    (folder / "test_batch").write_bytes(test_bytes)


class Evil:  # a pickle that would run code on load
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.parametrize("content, expected", [
    (b"", "is empty"),
    (b"not a pickle at all", "does not unpickle"),
    (_batch()[:100], "does not unpickle"),                     # truncated
    (pickle.dumps([1, 2, 3]), "got a pickled list"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}), "no b'labels' entry"),
    (pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}), r"shape \(2, 10\)"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}), "float32"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}), "labels"),
    (pickle.dumps({b"data": np.zeros((0, 3072), np.uint8), b"labels": []}), "holds no images"),
    (_batch(2, labels=[0, 12]), r"labels span 0\.\.12"),
    (pickle.dumps({b"data": Evil(), b"labels": [0]}), "refusing the global"),
], ids=["empty", "garbage", "truncated", "list", "no-labels", "shape", "dtype", "n-labels", "no-images",
        "label-range", "code"])
def test_corrupt_cifar_batch_names_the_file(tmp_path, content, expected, capsys):
    _cifar_folder(tmp_path, content)
    with pytest.raises(ValueError, match=expected) as err:
        data.load("cifar10", root=tmp_path)
    message = str(err.value)
    assert str(tmp_path / "test_batch") in message
    assert "CIFAR-10" in message  # what was expected
    assert "pwned" not in capsys.readouterr().out


def _mnist_folder(folder, gz: bool) -> None:
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (4, 28, 28)), "y_train": np.arange(4),
              "x_test": rng.integers(0, 256, (2, 28, 28)), "y_test": np.array([7, 2])}
    for key, stem in FILES.items():
        raw = _idx(arrays[key])
        (folder / (stem + (".gz" if gz else ""))).write_bytes(gzip.compress(raw) if gz else raw)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("content, expected", [
    (b"", "is empty"),
    (_idx(np.zeros((2, 28, 28)))[:50], "truncated"),
    (_idx(np.zeros((2, 28, 28))) + b"xx", "trailing bytes"),
    (b"\x01\x02\x03\x04abcd", "not an IDX file"),
    (b"\x00\x00\x0d\x03" + b"\x00" * 12, "type 0x08"),
    (b"\x00\x00\x08\x00", "at least one dimension"),
    (_idx(np.zeros((0, 28, 28))), r"shape \(0, 28, 28\)"),
    (_idx(np.zeros((2, 8, 8))), "28x28 images"),
], ids=["empty", "truncated", "trailing", "magic", "type", "ndim0", "no-images", "8x8"])
def test_corrupt_mnist_file_names_the_file(tmp_path, gz, content, expected):
    _mnist_folder(tmp_path, gz)
    name = FILES["x_test"] + (".gz" if gz else "")
    (tmp_path / name).write_bytes(gzip.compress(content) if gz and content else content)
    with pytest.raises(ValueError, match=expected) as err:
        data.load("mnist", root=tmp_path)
    assert str(tmp_path / name) in str(err.value)
    assert "IDX" in str(err.value)


@pytest.mark.parametrize("content, expected", [
    (b"not gzip at all", "does not decompress"),
    (gzip.compress(_idx(np.zeros((2, 28, 28))))[:30], "does not decompress"),
], ids=["not-gzip", "cut-stream"])
def test_corrupt_gzip_names_the_file_and_the_format(tmp_path, content, expected):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=expected) as err:
        read_idx(path)
    assert str(path) in str(err.value) and "gzip-compressed IDX" in str(err.value)


def test_gzip_without_gz_suffix_and_bad_labels(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(gzip.compress(_idx(np.zeros((2, 28, 28)))))
    with pytest.raises(ValueError, match=re.escape(f"{path} is gzip-compressed but its name has no .gz")):
        read_idx(path)
    _mnist_folder(tmp_path, gz=False)
    labels = tmp_path / FILES["y_train"]
    labels.write_bytes(_idx(np.array([0, 1, 2, 200])))
    with pytest.raises(ValueError, match=re.escape(f"{labels}: expected labels in 0..9")):
        data.load("mnist", root=tmp_path)
    labels.write_bytes(_idx(np.array([0, 1, 2])))
    with pytest.raises(ValueError, match="holds 4 images but .* 3 labels"):
        data.load("mnist", root=tmp_path)


def test_missing_file_is_file_not_found(tmp_path):
    _mnist_folder(tmp_path, gz=False)
    (tmp_path / FILES["y_test"]).unlink()
    with pytest.raises(FileNotFoundError, match=FILES["y_test"]):
        data.load("mnist", root=tmp_path)
