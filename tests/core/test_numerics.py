"""The numerics policy of ``import companion`` and how ``make reproduce`` judges a rerun.

Policy cases run in fresh interpreters: the libraries read their code-path variables once per
process, and this test session has loaded torch and numpy already.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from companion import PORTABLE_NUMERICS
from companion.reproduce import _compare
from companion.results import bit_comparable, compare_within_spread, save_results
from companion.utils import repo_path

CLEARED = ("COMPANION_NUMERICS", *PORTABLE_NUMERICS)


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k not in CLEARED}, **extra}


def _run(body: str, **env: str) -> dict:
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(body)], capture_output=True, text=True,
                         env=_env(**env), timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@functools.cache  # one fresh interpreter answers it for every test
def _native_capability() -> str:
    return _run("import json, torch; print(json.dumps(torch.backends.cpu.get_cpu_capability()))",
                COMPANION_NUMERICS="native")


def _has_avx2() -> bool:
    return _native_capability() in ("AVX2", "AVX512")


_INFO = """
    import json, os
    import companion
    from companion.utils import numerics_info
    print(json.dumps({"env": {k: os.environ.get(k) for k in companion.PORTABLE_NUMERICS},
                      "info": numerics_info()}))
"""


def test_portable_policy_overrides_what_the_shell_asks_for():
    out = _run(_INFO, ATEN_CPU_CAPABILITY="avx512", MKL_CBWR="AUTO", OPENBLAS_CORETYPE="SkylakeX")
    assert out["env"] == PORTABLE_NUMERICS
    assert out["info"]["policy"] == "portable"
    if _has_avx2():
        assert out["info"]["baseline"] is True
        assert out["info"]["in_force"]["torch_cpu_capability"] == "AVX2"
        assert out["info"]["in_force"]["numpy_avx512"] is False


def test_native_policy_leaves_the_libraries_their_choice():
    out = _run(_INFO, COMPANION_NUMERICS="native", ATEN_CPU_CAPABILITY="default")
    assert out["env"]["ATEN_CPU_CAPABILITY"] == "default" and out["env"]["MKL_CBWR"] is None
    assert out["info"]["policy"] == "native" and out["info"]["baseline"] is False
    assert out["info"]["in_force"]["torch_cpu_capability"] == "DEFAULT"


def test_unknown_numerics_mode_is_refused_by_name():
    res = subprocess.run([sys.executable, "-c", "import companion"], capture_output=True, text=True,
                         env=_env(COMPANION_NUMERICS="fast"), timeout=60)
    assert res.returncode != 0
    assert "COMPANION_NUMERICS must be one of ('portable', 'native'), got 'fast'" in res.stderr


@pytest.mark.skipif(not hasattr(torch.backends.cpu, "get_cpu_capability"), reason="old torch")
def test_torch_used_before_import_companion_is_reported_off_the_baseline():
    if _native_capability() != "AVX512":
        pytest.skip("needs a CPU whose own vector level is above the baseline")
    out = _run("""
        import json, torch
        torch.ones(3).softmax(0)          # the first op fixes torch's code path
        from companion.utils import numerics_info
        print(json.dumps(numerics_info()))
    """)
    assert out["baseline"] is False and out["in_force"]["torch_cpu_capability"] == "AVX512"


# A convolutional target and generator trained for a few steps: measured to change bits with
# torch's vector level, oneDNN's ISA and MKL's branch (tools/numerics_check.py).
ADVGAN = ["-m", "companion.advgan", "--data", "digits", "--n-train", "300", "--n-test", "100",
          "--target-epochs", "2", "--at-epochs", "1", "--at-steps", "2", "--pgd-steps", "3",
          "--gan-epochs", "2", "--static-epochs", "1", "--mode", "semiwhitebox", "--seeds", "0",
          "--threads", "1"]


def _summary(out: Path, **env: str) -> dict:
    res = subprocess.run([sys.executable, *ADVGAN, "--out", str(out)], capture_output=True, text=True,
                         env=_env(COMPANION_NO_PROGRESS="1", **env), cwd=repo_path(), timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    payload = json.loads(next(out.glob("*.json")).read_text())
    return {(r["method"], r["metric"]): (r["mean"], r["std"]) for r in payload["summary"] if not r["timing"]}


def test_a_cli_run_gives_the_same_bits_whatever_code_path_the_machine_offers(tmp_path):
    if _native_capability() != "AVX512":
        pytest.skip("emulating two machine generations needs an AVX-512 CPU")
    # without the policy the two vector levels disagree: the check below could fail
    native_wide = _summary(tmp_path / "n512", COMPANION_NUMERICS="native", ATEN_CPU_CAPABILITY="avx512")
    native_avx2 = _summary(tmp_path / "n2", COMPANION_NUMERICS="native", ATEN_CPU_CAPABILITY="avx2")
    assert native_wide != native_avx2
    wide = _summary(tmp_path / "p512", ATEN_CPU_CAPABILITY="avx512", ONEDNN_MAX_CPU_ISA="AVX512_CORE")
    narrow = _summary(tmp_path / "pdef", ATEN_CPU_CAPABILITY="default", ONEDNN_MAX_CPU_ISA="SSE41")
    assert wide == narrow


# --- how a rerun is judged ------------------------------------------------------------------------

def _file(path: Path, values: dict[str, list[float]], numerics: dict | None, torch_version="2.13.0") -> dict:
    rows = [{"method": m, "seed": s, "acc": v} for m, vs in values.items() for s, v in enumerate(vs)]
    save_results(path, rows, seeds=range(3), command="python -m companion.snn", metrics={"acc": True})
    payload = json.loads(path.read_text())
    payload["packages"]["torch"] = torch_version
    if numerics is None:
        payload.pop("numerics")
    else:
        payload["numerics"] = numerics
    path.write_text(json.dumps(payload))
    return payload


BASE = {"policy": "portable", "baseline": True, "in_force": {}}


def test_bit_comparable_only_at_the_baseline_with_equal_versions(tmp_path):
    a = _file(tmp_path / "a.json", {"m": [0.5, 0.6, 0.7]}, BASE)
    assert bit_comparable(a, a)[0]
    old = _file(tmp_path / "o.json", {"m": [0.5, 0.6, 0.7]}, None)
    ok, why = bit_comparable(old, a)
    assert not ok and "before the portable numerics policy" in why
    other_torch = _file(tmp_path / "t.json", {"m": [0.5, 0.6, 0.7]}, BASE, torch_version="2.12.0")
    ok, why = bit_comparable(a, other_torch)
    assert not ok and "torch 2.13.0 -> 2.12.0" in why
    native = _file(tmp_path / "n.json", {"m": [0.5, 0.6, 0.7]}, {"policy": "native", "baseline": False,
                                                                 "in_force": {"torch_cpu_capability": "AVX512"}})
    assert not bit_comparable(a, native)[0]
    assert bit_comparable(native, native)[0]  # the same CPU model and code paths


def test_bit_for_bit_only_on_cpus_of_one_vendor(tmp_path):
    from companion.results import cpu_vendor

    a = _file(tmp_path / "a.json", {"m": [0.5, 0.6, 0.7]}, BASE)
    amd = {**a, "machine": {**a.get("machine", {}), "cpu_model": "AMD EPYC"}}
    amd2 = {**a, "machine": {**a.get("machine", {}), "cpu_model": "AMD EPYC 9R14"}}
    intel = {**a, "machine": {**a.get("machine", {}), "cpu_model": "Intel(R) Xeon(R) Processor"}}
    assert bit_comparable(amd, amd2)[0]
    ok, why = bit_comparable(amd, intel)
    assert not ok and "different vendors" in why and "AMD EPYC" in why
    assert (cpu_vendor("Intel(R) Xeon(R) Processor"), cpu_vendor("AMD EPYC"), cpu_vendor("Apple M2")) == \
        ("Intel", "AMD", "Apple M2")


def test_within_spread_verdicts():
    def payload(rows):
        return {"summary": [{"setting": "", "method": m, "metric": "acc", "mean": mean, "std": std, "n": n,
                             "timing": False} for m, mean, std, n in rows]}
    old = payload([("same", 0.5, 0.1, 3), ("near", 0.5, 0.1, 3), ("far", 0.5, 0.01, 3), ("one", 0.5, 0.0, 1),
                   ("gone", 0.5, 0.1, 3)])
    new = payload([("same", 0.5, 0.1, 3), ("near", 0.58, 0.05, 3), ("far", 0.55, 0.02, 3), ("one", 0.6, 0.0, 1)])
    verdicts = {r["row"]: r["verdict"] for r in compare_within_spread(old, new)}
    assert verdicts == {"same/acc": "identical", "near/acc": "within the seed spread",
                        "far/acc": "beyond the seed spread", "one/acc": "moved, one seed", "gone/acc": "missing"}


def test_reproduce_judges_an_old_file_by_the_seed_spread(tmp_path, capsys):
    old = _file(tmp_path / "r.json", {"m": [0.5, 0.6, 0.7]}, None)
    rerun = tmp_path / "rerun"
    _file(rerun / "r.json", {"m": [0.52, 0.61, 0.69]}, BASE)  # mean 0.6067, within the spread 0.08
    assert _compare(tmp_path / "r.json", old, rerun, atol=0.0) == []
    assert "statistical verdict, not bit for bit" in capsys.readouterr().out
    _file(rerun / "r.json", {"m": [0.9, 0.91, 0.92]}, BASE)
    problems = _compare(tmp_path / "r.json", old, rerun, atol=0.0)
    assert len(problems) == 1 and "beyond the seed spread" in problems[0]


def test_reproduce_is_bit_for_bit_at_the_baseline(tmp_path, capsys):
    committed = _file(tmp_path / "r.json", {"m": [0.5, 0.6, 0.7]}, BASE)
    rerun = tmp_path / "rerun"
    _file(rerun / "r.json", {"m": [0.5, 0.6, 0.7000001]}, BASE)  # within any spread, but not the same bits
    problems = _compare(tmp_path / "r.json", committed, rerun, atol=0.0)
    assert problems and "m/acc: mean" in problems[0]
    assert "bit for bit" in capsys.readouterr().out
