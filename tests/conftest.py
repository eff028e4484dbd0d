"""Fixtures shared by every chapter's tests."""

import socket

import pytest


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test (loaders must work offline)."""
    def refuse(*args, **kwargs):
        raise AssertionError("tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


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
