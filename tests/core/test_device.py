"""``--device cpu|cuda|auto``: resolved and checked before any work, recorded without changing the
committed commands, the same results on the CPU with or without it; the GPU paths keep every
tensor on one device (a fake GPU on the CPU, :mod:`fake_cuda`), and run on a real one where there is one.
Every CLI's ``--help`` and its refusal of an absent GPU: ``test_cli_help.py``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
from pathlib import Path

import pytest
import torch

from companion import cli
from companion.results import bit_comparable, compare_summaries, load_results
from companion.utils import machine_info, set_compute_device

_spec = importlib.util.spec_from_file_location("fake_cuda", Path(__file__).with_name("fake_cuda.py"))
fake_cuda_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_cuda_module)


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


@pytest.fixture(autouse=True)
def cpu_afterwards():
    yield
    set_compute_device("cpu")  # what start_run recorded must not leak into other tests' files


def toy_parser(**kw) -> argparse.ArgumentParser:
    return cli.chapter_parser("python -m companion.toy", "toy", **kw)


def test_resolve_device_without_a_gpu(no_gpu):
    assert cli.resolve_device("cpu") == torch.device("cpu")
    assert cli.resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ValueError) as e:
        cli.resolve_device("cuda")
    message = str(e.value)
    assert message.startswith("--device cuda: no CUDA device here")
    assert "torch.cuda.is_available() is False" in message and "--device cpu" in message and "auto" in message
    with pytest.raises(ValueError, match="choose from cpu, cuda, auto"):
        cli.resolve_device("gpu")


def test_resolve_device_with_a_gpu_and_for_a_cpu_only_chapter(a_gpu):
    assert cli.resolve_device("cuda") == torch.device("cuda")
    assert cli.resolve_device("auto") == torch.device("cuda")
    assert cli.resolve_device("auto", no_cuda="NumPy only") == torch.device("cpu")
    with pytest.raises(ValueError, match=r"--device cuda: this chapter computes on the CPU only \(NumPy only\)"):
        cli.resolve_device("cuda", no_cuda="NumPy only")


def test_the_parser_refuses_an_absent_gpu_naming_the_flag(no_gpu, capsys):
    p = toy_parser()
    assert p.parse_args([]).device == "cpu"
    assert p.parse_args(["--device", "auto"]).device == "cpu"  # resolved as it is read
    with pytest.raises(SystemExit) as e:
        p.parse_args(["--device", "cuda"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "argument --device: no CUDA device here" in err and "--device cpu" in err
    with pytest.raises(SystemExit):
        p.parse_args(["--device", "gpu"])
    assert "invalid choice: 'gpu'" in capsys.readouterr().err


def test_the_recorded_command_says_the_device_only_off_the_cpu(no_gpu, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = toy_parser()
    for argv in (["--seeds", "1"], ["--device", "cpu", "--seeds", "1"], ["--device=auto", "--seeds", "1"]):
        run = cli.start_run(p, p.parse_args(argv), module="companion.toy", chapter="99_toy", argv=argv)
        assert run.command == "python -m companion.toy --seeds 1" and run.device == torch.device("cpu")
        assert machine_info()["device"] == "cpu"
    assert cli.device_argv(["--device", "auto", "--seeds", "1"], torch.device("cuda")) == \
        ["--device", "cuda", "--seeds", "1"]
    assert cli.device_argv(["--seeds", "1", "--device=cuda", "--device", "cuda"], "cuda") == \
        ["--seeds", "1", "--device", "cuda"]


def test_a_gpu_run_is_recorded_and_never_bit_compared(a_gpu, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "fake GPU")
    p = toy_parser()
    argv = ["--device", "auto", "--out", str(tmp_path)]
    args = p.parse_args(argv)
    run = cli.start_run(p, args, module="companion.toy", chapter="99_toy", argv=argv)
    assert args.device == "cuda" and run.device == torch.device("cuda")
    assert run.command == "python -m companion.toy --device cuda"
    assert machine_info()["device"] == "cuda"
    cpu = {"numerics": {"baseline": True}, "packages": {}, "machine": {}}  # a file from before --device: CPU
    ok, why = bit_comparable(cpu, {**cpu, "machine": {"device": "cuda"}})
    assert not ok and "cuda" in why
    assert bit_comparable(cpu, {**cpu, "machine": {"device": "cpu"}})[0]


# reduced runs of three torch chapters (their tests' tiny settings)
REDUCED = {
    "companion.snn": ["--data", "digits", "--n-train", "200", "--n-test", "100", "--epochs", "2",
                      "--teacher-epochs", "1", "--loss", "plain", "kd+logits", "--encoding", "rate", "--seeds", "0"],
    "companion.kgcn": ["--n-users", "30", "--n-items", "40", "--density", "0.2", "--epochs", "2", "--topk-users", "5",
                       "--models", "BPR-MF", "KGCN-LS", "Popularity"],
    "companion.lds": ["--dataset", "karate", "--seeds", "0", "--missing", "0.5", "--max-inner-steps", "4", "--tau", "2",
                      "--max-outer-iterations", "2", "--epochs", "5", "--n-samples", "2"],
}


def _run(module: str, argv: list[str], out: Path) -> dict:
    importlib.import_module(f"{module}.__main__").main([*argv, "--no-progress", "--out", str(out)])
    files = sorted(out.glob("*.json"))
    assert len(files) == 1, files
    return load_results(files[0])


@pytest.mark.parametrize("module", sorted(REDUCED))
def test_device_cpu_and_auto_give_the_run_without_the_flag(module, no_gpu, tmp_path):
    plain = _run(module, REDUCED[module], tmp_path / "plain")
    for device in ("cpu", "auto"):
        other = _run(module, [*REDUCED[module], "--device", device], tmp_path / device)
        assert compare_summaries(plain, other) == []  # bit for bit
        assert other["command"] == plain["command"] and "--device" not in plain["command"]
        assert other["machine"]["device"] == "cpu"


FAKE_GPU_RUNS = {**REDUCED, "companion.diffpool": [
    "--dataset", "hier_graphs", "--num-graphs", "40", "--folds", "4", "--max-folds", "1", "--epochs", "2",
    "--hidden", "8", "--batch-size", "16", "--models", "flat-mean", "diffpool", "diffpool-pyg", "diffpool-oracle"],
    "companion.advgan": ["--data", "digits", "--n-train", "120", "--n-test", "40", "--target-epochs", "1",
                         "--at-epochs", "1", "--at-steps", "1", "--pgd-steps", "2", "--gan-epochs", "1",
                         "--static-epochs", "1", "--mode", "all"]}


@pytest.mark.parametrize("module", sorted(FAKE_GPU_RUNS))
def test_device_cuda_keeps_every_tensor_on_the_gpu(module, tmp_path):
    """A reduced run with ``--device cuda`` on the fake GPU: no op mixes devices, and the
    numbers are the CPU's (the draws stay on the CPU); the file says cuda."""
    with fake_cuda_module.fake_cuda() as mixups:
        gpu = _run(module, [*FAKE_GPU_RUNS[module], "--device", "cuda"], tmp_path / "cuda")
    assert mixups == [], "\n".join(sorted(set(mixups))[:20])
    assert gpu["machine"]["device"] == "cuda" and gpu["command"].endswith("--device cuda")
    assert compare_summaries(_run(module, FAKE_GPU_RUNS[module], tmp_path / "cpu"), gpu) == []


@pytest.mark.gpu
@pytest.mark.parametrize("module", sorted(REDUCED))
def test_device_cuda_on_a_real_gpu(module, tmp_path):
    """Only where torch sees a GPU (skipped elsewhere): the reduced run on it, recorded as such.
    Its numbers may differ from the CPU's in the last bits, so only their shape is compared."""
    gpu = _run(module, [*REDUCED[module], "--device", "cuda"], tmp_path / "cuda")
    cpu = _run(module, REDUCED[module], tmp_path / "cpu")
    assert gpu["machine"]["device"] == "cuda" and gpu["command"].endswith("--device cuda")
    assert gpu["machine"].get("gpu")
    key = lambda r: (json.dumps(r["setting"], sort_keys=True), r["method"], r["metric"])  # noqa: E731
    assert sorted(map(key, gpu["summary"])) == sorted(map(key, cpu["summary"]))
