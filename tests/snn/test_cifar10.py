import pickle

import numpy as np
import pytest

from companion import data


def _write_batch(path, n, seed):
    rng = np.random.default_rng(seed)
    batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": rng.integers(0, 10, n).tolist()}
    with open(path, "wb") as f:
        pickle.dump(batch, f)
    return batch


def test_cifar10_reads_tiny_local_folder(tmp_path):
    b1 = _write_batch(tmp_path / "data_batch_1", 5, 0)
    _write_batch(tmp_path / "data_batch_2", 3, 1)
    bt = _write_batch(tmp_path / "test_batch", 4, 2)
    out = data.load("cifar10", root=tmp_path)
    assert out["x_train"].shape == (8, 3, 32, 32) and out["x_test"].shape == (4, 3, 32, 32)
    assert out["y_train"][:5].tolist() == b1[b"labels"] and out["y_test"].tolist() == bt[b"labels"]
    # channel-major layout: the first 1024 values are the red plane, row-major
    assert out["x_train"][0, 0, 0, 1].item() == pytest.approx(b1[b"data"][0, 1] / 255.0)
    assert out["x_train"][0, 2, 31, 31].item() == pytest.approx(b1[b"data"][0, 3071] / 255.0)
    assert data.available()["cifar10"].source == "local"
    assert data.load("cifar10", root=tmp_path, n_train=2)["x_train"].shape[0] == 2


def test_cifar10_missing_files_say_what_to_download(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="cifar-10-python.tar.gz"):
        data.load("cifar10", root=tmp_path)
    monkeypatch.delenv("COMPANION_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="COMPANION_DATA"):
        data.load("cifar10")
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"labels": [1]}))
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps({b"labels": [1]}))
    with pytest.raises(ValueError, match="not a CIFAR-10 batch"):
        data.load("cifar10", root=tmp_path)
