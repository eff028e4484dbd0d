"""The nbgrader round trip of one chapter, graded by nbgrader and by ``companion.grade``.

    .venv/bin/python tools/nbgrader_roundtrip.py                      # 07_lds, nbgrader from .venv-nbgrader
    .venv/bin/python tools/nbgrader_roundtrip.py --chapter 00_getting_started --nbgrader-venv /tmp/nbg

Runs in the book's environment; nbgrader lives in a virtual environment of its own
(``--nbgrader-venv``, default ``.venv-nbgrader``, which ``make nbgrader-check`` creates), and
executes the notebooks through a kernelspec of this Python, so both graders run the answers with
the same packages. In a course folder (``--work``, default a temporary one):

1. ``python -m companion.student --source`` writes ``source/<chapter>/<name>.ipynb``;
2. ``nbgrader generate_assignment <chapter>`` releases it; the release must be the student
   edition cell for cell, except that each answer cell has nbgrader's stub where the student
   edition has ``raise NotImplementedError("exercise <label>")`` (signatures, docstrings,
   imports, check cells and every other cell identical);
3. three submissions are made from the release: ``correct`` (every answer cell the reference),
   ``wrong`` (the last exercise's function returns ``None``) and ``unwritten`` (the first
   exercise's answer cell left as released, so it raises ``NotImplementedError``);
4. ``nbgrader autograde <chapter>`` grades them, and ``companion.grade`` grades the same files.

The script prints the points per student and exercise from both graders and exits 0 only when
they agree, match the expected points (full marks but for the broken exercise), and every
failed check cell of nbgrader's graded notebooks shows the checker's sentence (``✗ <key>: ...``)
in its error. ``--out`` also writes the comparison and the timings as JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from companion import grade, student
from companion.utils import repo_path

NBGRADER_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"  # nbgrader's default code stub
WRONG = "return None  # a wrong answer"
KERNEL = "python3"  # the name the notebooks ask for; the course's own kernelspec answers it

_SCORES = """
import json, sys
from nbgrader.api import Gradebook
assignment, notebook, students = sys.argv[1], sys.argv[2], sys.argv[3:]
out = {}
with Gradebook("sqlite:///gradebook.db") as gb:
    for s in students:
        nb = gb.find_submission_notebook(notebook, assignment, s)
        out[s] = {g.name: g.score for g in nb.grades}
print(json.dumps(out))
"""


def _venv_default() -> Path:
    """This Python's own environment when it has nbgrader, else ``.venv-nbgrader``."""
    import importlib.util

    if importlib.util.find_spec("nbgrader") is not None:
        return Path(sys.prefix)
    return Path(os.environ.get("NBGRADER_VENV") or repo_path(".venv-nbgrader"))


def _env(venv: Path, course: Path) -> dict[str, str]:
    """nbgrader's environment: its venv first on PATH (it calls ``alembic``), its Jupyter paths
    inside the course folder (the course's kernelspec; no user configuration), no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTER_PATH"] = str(course / "_jupyter")
    env["JUPYTER_CONFIG_DIR"] = str(course / "_jupyter_config")
    env["JUPYTER_DATA_DIR"] = str(course / "_jupyter_data")
    return env


def _write_course(course: Path, timeout: float) -> None:
    """``nbgrader_config.py`` and a kernelspec ``python3`` that runs this Python (the book's
    environment) with this repository importable."""
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'companion'\n"
        f"c.Execute.timeout = {int(timeout)}\n"
        f"c.ExecutePreprocessor.kernel_name = {KERNEL!r}\n")
    spec = course / "_jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(x for x in (str(repo_path()), os.environ.get("PYTHONPATH", "")) if x)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (the book's environment)", "language": "python",
        "env": {"PYTHONPATH": path, "MPLBACKEND": "Agg", "COMPANION_NO_PROGRESS": "1"}}, indent=1))
    (course / "_jupyter_config").mkdir(exist_ok=True)


def _nbgrader(venv: Path, course: Path, *args: str) -> float:
    start = time.perf_counter()
    run = subprocess.run([str(venv / "bin" / "nbgrader"), *args], cwd=course, env=_env(venv, course),
                         capture_output=True, text=True)
    if run.returncode != 0 or "[ERROR]" in run.stderr or "| ERROR]" in run.stderr:
        raise SystemExit(f"nbgrader {' '.join(args)} failed ({run.returncode}):\n{run.stderr[-4000:]}")
    return time.perf_counter() - start


def _gid(cell) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def compare_release(release, student_nb, labels: list[str]) -> list[str]:
    """Differences between nbgrader's release and the student edition (an empty list: none)."""
    problems = []
    if len(release.cells) != len(student_nb.cells):
        return [f"the release has {len(release.cells)} cells, the student edition {len(student_nb.cells)}"]
    for k, (a, b) in enumerate(zip(release.cells, student_nb.cells)):
        want = b.source
        gid = _gid(b)
        if gid.endswith("-answer"):
            label = gid[:-len("-answer")]
            want = want.replace(f'raise NotImplementedError("exercise {label}")', NBGRADER_STUB.replace(
                "\n", "\n" + _indent_of(want, f'raise NotImplementedError("exercise {label}")')))
        if a.cell_type != b.cell_type or a.source != want or _gid(a) != gid:
            problems.append(f"cell {k + 1} ({gid or a.cell_type}) differs:\n{a.source[:300]}\n---\n{want[:300]}")
    return problems


def _indent_of(text: str, needle: str) -> str:
    for line in text.split("\n"):
        if needle in line:
            return line[:len(line) - len(line.lstrip())]
    return ""


def make_submissions(release, source, course: Path, chapter: str, name: str) -> dict[str, dict[str, float]]:
    """Write the three submissions; return the expected points ``{student: {label: points}}``."""
    answers = {_gid(c): c.source for c in source.cells if _gid(c).endswith("-answer")}
    labels = [g[:-len("-answer")] for g in answers]
    first, last = labels[0], labels[-1]
    wrong = student.clear_marked(answers[f"{last}-answer"], WRONG)
    plans = {
        "correct": ({g: student.unmarked(s) for g, s in answers.items()}, {lb: 1.0 for lb in labels}),
        "wrong": ({**{g: student.unmarked(s) for g, s in answers.items()}, f"{last}-answer": wrong},
                  {lb: float(lb != last) for lb in labels}),
        "unwritten": ({g: student.unmarked(s) for g, s in answers.items() if g != f"{first}-answer"},
                      {lb: float(lb != first) for lb in labels}),
    }
    expected = {}
    for who, (fill, points) in plans.items():
        nb = copy.deepcopy(release)
        for cell in nb.cells:
            if _gid(cell) in fill:
                cell.source = fill[_gid(cell)]
        target = course / "submitted" / who / chapter / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(target))
        # companion.grade names a student after the file: the same notebook under the student's name
        named = course / "companion_grade" / f"{who}.ipynb"
        named.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, named)
        expected[who] = points
    return expected


def check_messages(course: Path, chapter: str, name: str, expected: dict[str, dict[str, float]],
                   keys: dict[str, str]) -> list[str]:
    """In nbgrader's graded notebooks, each check cell expected to fail must show the checker's
    sentence as its error (``AssertionError: ✗ <key>: ...``), and the others no error."""
    problems = []
    for who, points in expected.items():
        nb = nbformat.read(str(course / "autograded" / who / chapter / f"{name}.ipynb"), as_version=4)
        for cell in nb.cells:
            gid = _gid(cell)
            if not gid.endswith("-check"):
                continue
            label = gid[:-len("-check")]
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            said = [f"{o.get('ename')}: {o.get('evalue', '')}" for o in errors]
            if points[label] and errors:
                problems.append(f"{who} {gid}: an error in a check that should pass: {said[0][:200]!r}")
            elif not points[label] and not any(s.startswith(f"AssertionError: ✗ {keys[label]}: ") for s in said):
                problems.append(f"{who} {gid}: the failed check does not show the checker's sentence: {said!r}")
    return problems


def roundtrip(chapter: str, venv: Path, course: Path, book: Path | None = None, timeout: float = 300,
              jobs: int = 1) -> dict:
    """Run the round trip in ``course`` (created); the comparison, problems and timings."""
    timings: dict[str, float] = {}
    book = Path(book) if book is not None else repo_path("book")
    course.mkdir(parents=True, exist_ok=True)
    _write_course(course, timeout)
    start = time.perf_counter()
    report = student.build_source(course, book=book, chapters=[chapter])[chapter]
    edition = student.build(course / "_student", book=book, chapters=[chapter], html=False)[chapter]
    timings["source_and_student_editions_s"] = time.perf_counter() - start
    name = Path(report["ipynb"]).stem
    timings["generate_assignment_s"] = _nbgrader(venv, course, "generate_assignment", chapter, "--force")
    release = nbformat.read(str(course / "release" / chapter / f"{name}.ipynb"), as_version=4)
    source = nbformat.read(report["ipynb"], as_version=4)
    labels = report["exercises"]
    problems = compare_release(release, nbformat.read(edition["ipynb"], as_version=4), labels)
    expected = make_submissions(release, source, course, chapter, name)
    students = list(expected)
    timings["autograde_s"] = _nbgrader(venv, course, "autograde", chapter, "--force")
    run = subprocess.run([str(venv / "bin" / "python"), "-c", _SCORES, chapter, name, *students], cwd=course,
                         env=_env(venv, course), capture_output=True, text=True, check=True)
    by_nbgrader = {who: {gid[:-len("-check")]: score for gid, score in grades.items() if gid.endswith("-check")}
                   for who, grades in json.loads(run.stdout).items()}
    start = time.perf_counter()
    rows = grade.grade(sorted((course / "companion_grade").glob("*.ipynb")), chapter=chapter, timeout=timeout,
                       book=book, jobs=jobs)
    timings["companion_grade_s"] = time.perf_counter() - start
    by_companion: dict[str, dict[str, float]] = {}
    keys = {}
    for r in rows:
        by_companion.setdefault(r.student, {})[r.label] = r.points
        keys[r.label] = r.key
    problems += check_messages(course, chapter, name, expected, keys)
    table = []
    for who in students:
        for label in labels:
            a, b, want = by_nbgrader.get(who, {}).get(label), by_companion.get(who, {}).get(label), expected[who][label]
            table.append({"student": who, "label": label, "nbgrader": a, "companion_grade": b, "expected": want})
            if a != b:
                problems.append(f"{who} {label}: nbgrader gave {a}, companion.grade {b}")
            elif a != want:
                problems.append(f"{who} {label}: both graders gave {a}, expected {want}")
    version = subprocess.run([str(venv / "bin" / "python"), "-c", "import nbgrader; print(nbgrader.__version__)"],
                             capture_output=True, text=True).stdout.strip()
    return {"chapter": chapter, "nbgrader": version, "table": table,
            "totals": {who: {"nbgrader": sum(by_nbgrader.get(who, {}).values()),
                             "companion_grade": sum(by_companion.get(who, {}).values()),
                             "expected": sum(expected[who].values()), "max": float(len(labels))}
                       for who in students},
            "problems": problems, "timings_s": {k: round(v, 1) for k, v in timings.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapter", default="07_lds", help="chapter folder (default 07_lds)")
    parser.add_argument("--book", default=None, help="the book folder (default book/)")
    parser.add_argument("--nbgrader-venv", default=None, help="the virtual environment with nbgrader "
                        "(default: this one if it has nbgrader, else $NBGRADER_VENV or .venv-nbgrader)")
    parser.add_argument("--work", default=None, help="the course folder to use (default: a temporary one, removed)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per cell, both graders (default 300)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="companion.grade's -j (default 1)")
    parser.add_argument("--out", default=None, help="also write the result as JSON to this file")
    args = parser.parse_args(argv)
    venv = Path(args.nbgrader_venv) if args.nbgrader_venv else _venv_default()
    if not (venv / "bin" / "nbgrader").is_file():
        print(f"error: no nbgrader in {venv} (make nbgrader-check creates .venv-nbgrader)", file=sys.stderr)
        return 2
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("COMPANION_NO_PROGRESS", "1")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nbgrader_course_") as tmp:
        course = Path(args.work) if args.work else Path(tmp)
        result = roundtrip(args.chapter, venv, course.resolve(), args.book, args.timeout, args.jobs)
    result["timings_s"]["total_s"] = round(time.perf_counter() - start, 1)
    print(f"nbgrader {result['nbgrader']}, chapter {result['chapter']}")
    print(f"{'student':<10} {'exercise':<22} {'nbgrader':>8} {'companion.grade':>15} {'expected':>8}")
    for row in result["table"]:
        print(f"{row['student']:<10} {row['label']:<22} {row['nbgrader']!s:>8} {row['companion_grade']!s:>15} "
              f"{row['expected']:>8}")
    for who, t in result["totals"].items():
        print(f"{who:<10} {'total':<22} {t['nbgrader']:>8g} {t['companion_grade']:>15g} {t['expected']:>8g}"
              f"  (of {t['max']:g})")
    print("timings: " + ", ".join(f"{k} {v}" for k, v in result["timings_s"].items()))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    for p in result["problems"]:
        print(f"problem: {p}", file=sys.stderr)
    print("the graders agree" if not result["problems"] else f"{len(result['problems'])} problem(s)")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
