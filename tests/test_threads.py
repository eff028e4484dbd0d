"""The thread policy: ``import companion`` and :func:`companion.set_threads`.

Each case runs in a fresh interpreter: thread pools and environment variables are per process, and
this test session has imported companion already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import companion

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY",
               "COMPANION_THREADS")


def _run(body: str, **env: str) -> dict:
    """Run ``body`` in a fresh interpreter without the thread variables (plus ``env``); it prints JSON."""
    clean = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(body)], capture_output=True, text=True,
                         env={**clean, **env}, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


_REPORT = """
    import json, os, sys
    print(json.dumps({"env": {k: os.environ.get(k) for k in
                              ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY")},
                      "torch_loaded": "torch" in sys.modules}))
"""


def test_import_sets_env_defaults_without_heavy_imports():
    out = _run("import companion\n" + textwrap.dedent(_REPORT))
    assert out["env"] == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                          "OMP_WAIT_POLICY": "PASSIVE"}
    assert not out["torch_loaded"]  # cheap: setuptools and `import companion` need no torch


def test_import_keeps_the_users_values():
    out = _run("import companion\n" + textwrap.dedent(_REPORT), OMP_NUM_THREADS="3", OMP_WAIT_POLICY="ACTIVE")
    assert out["env"]["OMP_NUM_THREADS"] == "3"
    assert out["env"]["OMP_WAIT_POLICY"] == "ACTIVE"
    assert out["env"]["OPENBLAS_NUM_THREADS"] == "1"


def test_companion_threads_sets_the_default():
    out = _run("import companion\n" + textwrap.dedent(_REPORT), COMPANION_THREADS="2")
    assert set(out["env"].values()) == {"2", "PASSIVE"}


def test_import_after_numpy_and_torch_limits_the_live_pools():
    # a notebook's order: numpy and torch first, their pools already built with one thread per core
    out = _run("""
        import json
        import numpy, torch
        from threadpoolctl import threadpool_info
        from companion import data
        print(json.dumps({"torch": torch.get_num_threads(),
                          "pools": sorted({p["num_threads"] for p in threadpool_info()})}))
    """)
    assert out == {"torch": 1, "pools": [1]}


def test_import_after_torch_respects_the_users_omp_num_threads():
    out = _run("""
        import json
        import torch
        import companion
        print(json.dumps({"torch": torch.get_num_threads()}))
    """, OMP_NUM_THREADS="2")
    assert out == {"torch": 2}


def test_set_threads_changes_torch_blas_openmp_and_env():
    out = _run("""
        import json, os
        import torch
        from threadpoolctl import threadpool_info
        import companion
        before = torch.get_num_threads()
        assert companion.set_threads(2) == 2
        print(json.dumps({"before": before, "torch": torch.get_num_threads(),
                          "pools": {p["internal_api"]: p["num_threads"] for p in threadpool_info()},
                          "env": os.environ["OMP_NUM_THREADS"]}))
    """)
    assert out["before"] == 1
    assert out["torch"] == 2
    assert out["pools"] and set(out["pools"].values()) == {2}, out["pools"]
    assert {"openmp", "openblas"} <= set(out["pools"])
    assert out["env"] == "2"


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_set_threads_rejects_bad_n(bad):
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        companion.set_threads(bad)


def test_bad_companion_threads_is_a_clear_error():
    clean = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    res = subprocess.run([sys.executable, "-c", "import companion"], capture_output=True, text=True,
                         env={**clean, "COMPANION_THREADS": "0"}, timeout=120)
    assert res.returncode != 0
    assert "COMPANION_THREADS must be an integer >= 1, got '0'" in res.stderr
