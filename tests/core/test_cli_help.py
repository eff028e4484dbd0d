"""Every chapter CLI's parser: help on every flag, each default said once, an example, finite numbers,
and ``--device`` (listed, and an absent GPU refused before any work).

The parsers are captured without running anything: ``parse_args`` is replaced by a function that
hands the parser back, so each CLI's ``main`` stops right where its work would begin.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
from pathlib import Path

import pytest
import torch

from companion.cli import DEVICES, FlattenList, HelpFormatter

NO_CUDA = ("companion.carried", "companion.tracking")  # their compute path is CPU-only (distgnn: --device cuda means NCCL)
CLIS = ["companion.snn", "companion.distgnn", "companion.subgraphx", "companion.alinet",
        "companion.minibert", "companion.minibert.pretrain", "companion.minibert.baselines", "companion.kgcn", "companion.lds",
        "companion.lds.benchmark", "companion.diffpool", "companion.advgan", "companion.carried",
        "companion.tracking"]


_spec = importlib.util.spec_from_file_location("cli_parsers", Path(__file__).with_name("cli_parsers.py"))
_parsers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_parsers)
cli_module, capture_parser = _parsers.cli_module, _parsers.capture_parser


PARSERS = {m: capture_parser(m) for m in CLIS}


def _options(parser: argparse.ArgumentParser):
    return [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]


@pytest.mark.parametrize("module", CLIS)
def test_every_flag_has_help_with_its_default_said_once(module):
    parser = PARSERS[module]
    assert parser.formatter_class is HelpFormatter
    formatter = parser._get_formatter()
    for action in _options(parser):
        flag = action.option_strings[0]
        assert action.help and action.help.strip(), f"{module} {flag} has no help text"
        text = formatter._get_help_string(action) % {"prog": parser.prog}
        assert text.lower().count("default") <= 1, f"{module} {flag}: default said twice: {text!r}"
        assert "(default: None)" not in text and "default: []" not in text, f"{module} {flag}: {text!r}"
        assert not re.search(r"default: [\[(]", text), f"{module} {flag} shows its default as Python: {text!r}"


@pytest.mark.parametrize("module", CLIS)
def test_help_shows_an_example_command(module):
    text = PARSERS[module].format_help()
    assert f"python -m {module}" in (PARSERS[module].epilog or ""), f"{module}: no example in --help"
    assert "examples:" in text


@pytest.mark.parametrize("module", CLIS)
def test_numeric_flags_refuse_nan_and_infinity_before_any_work(module, capsys):
    parser = PARSERS[module]
    for action in _options(parser):
        kind = getattr(action.type, "__name__", "")
        if action.type is float:
            pytest.fail(f"{module} {action.option_strings[0]}: plain float type; use cli.float_in")
        if not kind.startswith("number") and "numbers" not in kind:
            continue
        for bad in ("nan", "inf", "-inf"):
            with pytest.raises(SystemExit) as exit_info:
                parser.parse_args([action.option_strings[0], bad])
            assert exit_info.value.code == 2
            assert action.option_strings[0] in capsys.readouterr().err


@pytest.mark.parametrize("module", CLIS)
def test_list_flags_are_space_separated(module):
    for action in _options(PARSERS[module]):
        kind = getattr(action.type, "__name__", "")
        if kind.startswith(("integers", "numbers", "names")):
            assert isinstance(action, FlattenList) and action.nargs == "+", \
                f"{module} {action.option_strings[0]}: a list flag must be space-separated (cli.add_list_argument)"


def test_old_comma_lists_are_read_with_a_note(capsys):
    from companion.cli import add_list_argument, int_list

    p = argparse.ArgumentParser()
    add_list_argument(p, "--ks", int_list(1), default=[5])
    assert p.parse_args(["--ks", "5", "6", "8"]).ks == [5, 6, 8]
    assert capsys.readouterr().err == ""
    assert p.parse_args(["--ks", "5,6", "8"]).ks == [5, 6, 8]
    assert "--ks read as '--ks 5 6 8': lists are space-separated" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        p.parse_args(["--ks", "0"])


@pytest.mark.parametrize("module", CLIS)
def test_help_lists_device_with_cpu_as_default(module):
    parser = PARSERS[module]
    action = next(a for a in parser._actions if "--device" in a.option_strings)
    assert tuple(action.choices) == DEVICES and action.default == "cpu"
    text = " ".join(parser.format_help().split())
    assert "--device {cpu,cuda,auto}" in text and "default" in action.help
    if module in NO_CUDA:
        assert "cpu only" in action.help and "cuda is refused" in action.help
    else:
        assert "auto (cuda when available, else cpu)" in text


@pytest.mark.parametrize("module", CLIS)
def test_device_cuda_without_a_gpu_is_refused_before_any_work(module, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        cli_module(module).main(["--device", "cuda"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --device:" in err and "--device cpu" in err
    assert ("CPU only" if module in NO_CUDA else "torch.cuda.is_available() is False") in err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("module", NO_CUDA)
def test_cpu_only_clis_refuse_cuda_beside_a_gpu_too(module, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(SystemExit) as exit_info:
        cli_module(module).main(["--device", "cuda"])
    assert exit_info.value.code == 2
    assert "this chapter computes on the CPU only" in capsys.readouterr().err
