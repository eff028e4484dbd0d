"""Fixtures shared by every chapter's tests."""

import pickle
import socket

import numpy as np
import pytest
import scipy.sparse as sp


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test (loaders must work offline)."""
    def refuse(*args, **kwargs):
        raise AssertionError("tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` run only where torch sees a CUDA GPU."""
    gpu_tests = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_tests:
        return
    import torch

    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
        for item in gpu_tests:
            item.add_marker(skip)


def pytest_generate_tests(metafunc):
    """A test asking for ``mutant`` runs once per wrong answer in its module's ``MUTANTS``
    (``{exercise key: [wrong answers]}``), as ``(key, wrong)``, with the answer's name as its id."""
    if "mutant" in metafunc.fixturenames:
        pairs = [(k, f) for k, fs in metafunc.module.MUTANTS.items() for f in fs]
        metafunc.parametrize("mutant", pairs, ids=[f"{k}-{f.__name__}" for k, f in pairs])


@pytest.fixture
def check_rejects():
    """``check(key, wrong)``: the exercise's check must fail ``wrong``, naming the case it failed on."""
    from companion import exercises

    def check(key, wrong):
        verdict = exercises.evaluate(key, wrong)
        assert not verdict.passed, f"{key} accepts the wrong answer {wrong.__name__}"
        assert verdict.message.startswith(f"✗ {key}: case "), verdict.message

    return check


@pytest.fixture
def rejects_before_work(monkeypatch, capsys, tmp_path):
    """Check that a chapter's CLI refuses a bad flag before doing any work.

    Returns ``check(main, argv, flag, *, forbid=((module, "name"), ...))``, which replaces each
    ``module.name`` in ``forbid`` (the chapter's work functions) with one that raises
    ``AssertionError("<name> started before the arguments were checked")``, changes into
    ``tmp_path``, and calls ``main(argv)``. It asserts that main exits with status 2, that the
    flag's name is in stderr, and that no ``./results`` folder was created; it returns stderr so
    that a test can assert more about the message.
    """
    def check(main, argv, flag, *, forbid=()):
        for module, name in forbid:
            monkeypatch.setattr(module, name, _refuse(name))
        monkeypatch.chdir(tmp_path)
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert flag in err, err
        assert not (tmp_path / "results").exists()
        return err

    return check


def _refuse(name):
    """A stand-in for the work function ``name`` that fails the test if it is ever called."""
    def no_work(*args, **kwargs):
        raise AssertionError(f"{name} started before the arguments were checked")

    return no_work


def write_planetoid(raw, n_train=4, n_all=520, n_test=10, f=5):
    """Kipf's eight files for a tiny 'cora' (the format PyG's Planetoid reads) in folder ``raw``."""
    rng = np.random.default_rng(0)
    raw.mkdir(parents=True)
    onehot = lambda k: np.eye(2)[rng.integers(0, 2, k)]  # noqa: E731
    items = {"x": sp.csr_matrix(rng.random((n_train, f))), "y": onehot(n_train),
             "allx": sp.csr_matrix(rng.random((n_all, f))), "ally": onehot(n_all),
             "tx": sp.csr_matrix(rng.random((n_test, f))), "ty": onehot(n_test),
             "graph": {i: [(i + 1) % (n_all + n_test)] for i in range(n_all + n_test)}}
    for key, value in items.items():
        (raw / f"ind.cora.{key}").write_bytes(pickle.dumps(value))
    test_index = "\n".join(str(n_all + i) for i in range(n_test)) + "\n"
    (raw / "ind.cora.test.index").write_text(test_index)
    return raw


def write_tu(raw, name="TINY"):
    """Two TU-format graphs in folder ``raw``: a triangle (label 1), a 2-node path (label 2)."""
    raw.mkdir(parents=True)
    edges = [(1, 2), (2, 1), (2, 3), (3, 2), (1, 3), (3, 1), (4, 5), (5, 4)]
    (raw / f"{name}_A.txt").write_text("".join(f"{a}, {b}\n" for a, b in edges))
    (raw / f"{name}_graph_indicator.txt").write_text("1\n1\n1\n2\n2\n")
    (raw / f"{name}_graph_labels.txt").write_text("1\n2\n")
    (raw / f"{name}_node_labels.txt").write_text("0\n1\n0\n1\n1\n")
    return raw


@pytest.fixture
def tiny_planetoid():
    """:func:`write_planetoid`, for the tests of the local Planetoid loader."""
    return write_planetoid


@pytest.fixture
def tiny_tu():
    """:func:`write_tu`, for the tests of the local TU loader."""
    return write_tu
