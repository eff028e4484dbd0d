"""A core install (``pip install mlbook-companion`` without ``[chapters]``): every CLI answers
``--help``, and a run that needs a missing package says what to install before any work.

The optional packages are made unimportable in a fresh interpreter (``sys.modules[name] = None``
makes ``import name`` fail), which is what a machine without them sees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from companion.cli import OPTIONAL_PACKAGES
from companion.utils import repo_path

CLIS = ["companion.snn", "companion.distgnn", "companion.subgraphx", "companion.alinet",
        "companion.minibert", "companion.minibert.pretrain", "companion.minibert.baselines", "companion.kgcn", "companion.lds",
        "companion.lds.benchmark", "companion.diffpool", "companion.advgan", "companion.carried",
        "companion.tracking"]

# runs that need an optional package: (module, arguments of a short run)
NEEDS = [
    ("companion.snn", ["--data", "digits", "--n-train", "20", "--n-test", "10", "--epochs", "1"]),
    ("companion.minibert", []),
    ("companion.minibert.pretrain", []),
    ("companion.minibert.baselines", []),
    ("companion.alinet", ["--data", "kg_pair"]),
    ("companion.advgan", ["--data", "mnist5k"]),
    ("companion.distgnn", ["--partition", "metis", "--workers", "2"]),
    ("companion.carried", []),
    ("companion.tracking", []),
]

_RUNNER = """
    import contextlib, io, json, runpy, sys
    for name in {blocked!r}:
        sys.modules[name] = None
    out = {{}}
    for module, args in {jobs!r}:
        sys.argv = [module, *args]
        err = io.StringIO()
        code = 0
        with contextlib.redirect_stdout(io.StringIO()) as o, contextlib.redirect_stderr(err):
            try:
                runpy.run_module(module, run_name="__main__", alter_sys=True)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except Exception as e:
                code, err = -1, io.StringIO(f"{{type(e).__name__}}: {{e}}")
        out[module] = {{"code": code, "stdout": o.getvalue()[:2000], "stderr": err.getvalue()[-2000:]}}
    print(json.dumps(out))
"""


def _run_blocked(jobs: list[tuple[str, list[str]]]) -> dict:
    body = textwrap.dedent(_RUNNER.format(blocked=sorted(OPTIONAL_PACKAGES), jobs=jobs))
    res = subprocess.run([sys.executable, "-c", body], capture_output=True, text=True, cwd=repo_path(),
                         timeout=600, env={**os.environ, "COMPANION_NO_PROGRESS": "1"})
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_every_cli_answers_help_without_the_optional_packages():
    out = _run_blocked([(m, ["--help"]) for m in CLIS])
    for module in CLIS:
        assert out[module]["code"] == 0, f"{module} --help failed on a core install: {out[module]['stderr']}"
        assert "usage:" in out[module]["stdout"]


@pytest.mark.parametrize("module,args", NEEDS, ids=[m for m, _ in NEEDS])
def test_a_run_that_needs_a_missing_package_names_the_install_command(module, args):
    out = _run_blocked([(module, args)])[module]
    assert out["code"] == 2, out
    assert 'pip install "mlbook-companion[chapters]"' in out["stderr"], out["stderr"]
