"""The student package: no reference solution can be imported or read from it, and every check
still works there, against the stored outputs, with the verdicts and messages of the references."""

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import companion
from companion import exercises, student
from companion.diffpool import exercises as dp

PROBE = Path(__file__).parent / "fixtures" / "student_probe.py"
FULL = Path(companion.__file__).resolve().parent


def _probe_module():
    spec = importlib.util.spec_from_file_location("student_probe", PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    return student.build_package(tmp_path_factory.mktemp("student_package") / "package")


# ---------------------------------------------------------------- the student mode, in this process


def test_stored_outputs_give_the_references_messages_and_a_stale_file_raises(tmp_path, monkeypatch):
    wrong = {"off": lambda z, a, s: (s.transpose(1, 2) @ z, s.transpose(1, 2) @ a),
             "none": lambda z, a, s: None}
    full = {name: exercises.evaluate("ch08.coarsen", fn).message for name, fn in wrong.items()}
    (tmp_path / "ch08.json").write_text(json.dumps(exercises.freeze(["ch08"])["ch08"]))
    monkeypatch.setattr(exercises, "EXPECTED_DIR", tmp_path)
    monkeypatch.setattr(exercises, "_EXERCISES", {})
    source = (FULL / "diffpool" / "exercises.py").read_text()
    exec(compile(student.strip_references(source), "stub", "exec"), {"__name__": "stub"})
    assert sorted(exercises._EXERCISES) == ["ch08.aux_losses", "ch08.clusters", "ch08.coarsen", "ch08.permute"]
    assert all(ex.reference is None for ex in exercises._EXERCISES.values())
    assert exercises.evaluate("ch08.coarsen", dp.coarsen).passed
    assert {name: exercises.evaluate("ch08.coarsen", fn).message for name, fn in wrong.items()} == full

    stored = json.loads((tmp_path / "ch08.json").read_text())
    stored["exercises"]["ch08.coarsen"]["cases"][1]["inputs"]["numbers"][0] += 0.5
    (tmp_path / "ch08.json").write_text(json.dumps(stored))
    with pytest.raises(RuntimeError, match=r"ch08.coarsen: case 2 of 3 is not the case its expected output"):
        exercises.evaluate("ch08.coarsen", dp.coarsen)
    del stored["exercises"]["ch08.coarsen"]["cases"][2]
    (tmp_path / "ch08.json").write_text(json.dumps(stored))
    with pytest.raises(RuntimeError, match="3 test cases, but 2 stored outputs"):
        exercises.evaluate("ch08.coarsen", dp.coarsen)
    (tmp_path / "ch08.json").unlink()
    with pytest.raises(RuntimeError, match="stored expected outputs are missing"):
        exercises.evaluate("ch08.coarsen", dp.coarsen)
    with pytest.raises(ValueError, match="no reference solution to run"):
        exercises.freeze(["ch08"])


def test_freeze_rejects_an_unknown_chapter():
    with pytest.raises(ValueError, match="unknown chapters"):
        exercises.freeze(["ch42"])


MODULE = '''"""Exercises."""

from __future__ import annotations

import math
import torch

from companion.exercises import exercise
from companion.somewhere import library_answer, helper_for_cases

SCALE = 2.0


def _square(x):
    return x * x * SCALE


def _cases():
    yield (helper_for_cases(torch.ones(2)),), {}


# the tolerance is tight on purpose
@exercise("ch99.first", _cases,
          atol=0)
def first(x):
    """Reference."""
    return _square(x) + math.pi


@exercise("ch99.second", _cases)
def second(x):
    return library_answer(x)


exercise("ch99.third", _cases)(library_answer)
'''


def test_strip_references_keeps_the_cases_and_nothing_only_the_references_used():
    out = student.strip_references(MODULE)
    tree = ast.parse(out)
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert defined == {"_cases"}  # first, second and their helper _square are gone
    for gone in ("library_answer", "math", "SCALE", "Reference.", "from companion.exercises import exercise"):
        assert gone not in out, gone
    assert "from companion.somewhere import helper_for_cases" in out
    assert '# the tolerance is tight on purpose\nexpected("ch99.first", _cases,\n          atol=0)' in out
    assert 'expected("ch99.second", _cases)' in out and 'expected("ch99.third", _cases)' in out
    assert "from companion.exercises import expected" in out and ast.get_docstring(tree) == "Exercises."

    uses_reference = MODULE.replace("yield (helper_for_cases(torch.ones(2)),), {}", "yield (first(torch.ones(2)),), {}")
    with pytest.raises(ValueError, match=r"the cases use the reference solutions \['first'\]"):
        student.strip_references(uses_reference)
    with pytest.raises(ValueError, match="other decorators"):
        student.strip_references(MODULE.replace("def second(x):", "@staticmethod\ndef second(x):"))


def test_compiled_files_are_not_copied(tmp_path):
    src = tmp_path / "src"
    (src / "intro" / "__pycache__").mkdir(parents=True)
    for rel in ("__init__.py", "intro/exercises.py", "intro/__pycache__/exercises.cpython-311.pyc",
                "intro/old.pyc", "intro/old.pyo"):
        (src / rel).write_text("x")
    student._copy_sources(src, tmp_path / "dst")
    assert sorted(p.relative_to(tmp_path / "dst").as_posix() for p in (tmp_path / "dst").rglob("*")) == [
        "__init__.py", "intro", "intro/exercises.py"]


# ---------------------------------------------------------------- the built package


def _reference_lines(full_source: str, names: set[str]) -> set[str]:
    """Lines of the named functions' bodies that appear nowhere else in the module."""
    tree = ast.parse(full_source)
    lines = full_source.split("\n")
    inside, outside = set(), set()
    spans = [(min([d.lineno for d in n.decorator_list] + [n.lineno]), n.end_lineno) for n in tree.body
             if isinstance(n, ast.FunctionDef) and n.name in names]
    for k, line in enumerate(lines, 1):
        (inside if any(a <= k <= b for a, b in spans) else outside).add(line.strip())
    return {x for x in inside - outside if len(x) >= 12 and not x.startswith("def ")}


def test_the_package_holds_no_reference_solution(package):
    pkg = package / "companion"
    assert not [p for p in package.rglob("*") if p.name == "__pycache__" or p.suffix in (".pyc", ".pyo")]
    refs = _probe_module().references(FULL)
    assert len(refs) >= 30
    secrets = 0
    for prefix, module in exercises.CHAPTERS.items():
        rel = Path(*module.split(".")[1:]).with_suffix(".py")
        stub, full = (pkg / rel).read_text(), (FULL / rel).read_text()
        tree = ast.parse(stub)
        names = {fn.__name__ for key, fn in refs.items() if key.startswith(prefix + ".")}
        defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert not defined & names, rel
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "exercise"], rel
        registered = {n.args[0].value for n in ast.walk(tree) if isinstance(n, ast.Call)
                      and getattr(n.func, "id", "") == "expected"}
        assert registered == {k for k in refs if k.startswith(prefix + ".")}, rel
        secret = _reference_lines(full, names)
        secrets += len(secret)
        assert [x for x in secret if x in stub] == [], rel
        stored = json.loads((pkg / "_expected" / f"{prefix}.json").read_text())
        assert sorted(stored["exercises"]) == sorted(k for k in refs if k.startswith(prefix + "."))
    assert secrets >= len(refs)  # every reference had a line of its own to look for
    pyproject = (package / "pyproject.toml").read_text()
    assert '"companion._expected" = ["*.json"]' in pyproject


def test_every_check_works_in_the_package_with_the_references_messages(package, tmp_path):
    """The probe in the full package (here) and in the student package (a subprocess) agree on
    every verdict and message; there, no reference is registered, importable or readable."""
    full = _probe_module().probe(FULL)
    env = {**os.environ, "PYTHONPATH": str(package)}
    run = subprocess.run([sys.executable, str(PROBE), str(FULL)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    there = json.loads(run.stdout)
    assert Path(there["package"]) == (package / "companion").resolve()  # not the full package
    assert not any(there["registry_has_reference"].values())
    assert there["importable"] == [] and there["sources"] == []
    assert all(full["registry_has_reference"].values()) and len(full["importable"]) == len(full["verdicts"])
    for key, verdicts in full["verdicts"].items():
        assert verdicts["reference"][0], key
        assert not any(v[0] for name, v in verdicts.items() if name != "reference"), key
    assert there["verdicts"] == full["verdicts"]
