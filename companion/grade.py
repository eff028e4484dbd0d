"""Grade submitted student notebooks against the chapters' checked exercises.

``python -m companion.grade SUBMISSIONS... --out grades.csv [--chapter NN_topic] [--timeout S] [-j N]``

Each submission (an ``.ipynb``, usually the student edition of ``python -m companion.student``
with the answer cells filled in) is executed in a fresh kernel, in a temporary folder, with
``S`` seconds per cell (a cell that runs over is interrupted and the next one runs) and errors
allowed, so one broken answer does not stop the others. The notebook's own locked check cells
are not run: the grader checks each exercise itself, once. Then, in the same kernel, each
exercise of the chapter is checked with :func:`companion.exercises.evaluate` on the student's
function, whose name is taken from the reference chapter's ``exercises.check(key, name)`` call;
a check that runs over ``S`` seconds is reported as "ran over S s". With ``-j N``, N submissions
are graded at a time, each in a process of its own (default 1); the CSV is the same.

The CSV has one row per student (the file's stem) and exercise::

    student, chapter, label, key, points, max_points, passed, message, error

``message`` is the checker's sentence (the first mismatch); ``error`` says why an exercise could
not be checked (the notebook is not a notebook, is for another chapter, its answer cell raised,
the function is missing, a cell timed out, the kernel died). The grader itself never stops on a
bad submission.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from companion.student import CHECK_META, chapter_notebooks, parse_chapter
from companion.utils import repo_path

__all__ = ["Row", "reference", "grade_notebook", "grade", "main"]

COLUMNS = ["student", "chapter", "label", "key", "points", "max_points", "passed", "message", "error"]
MARK = "<<companion-grade>>"
TIMEOUT = "Timeout"  # the error name nbclient reports for a cell it interrupted


@dataclass
class Row:
    student: str
    chapter: str
    label: str
    key: str
    points: float
    max_points: float
    passed: bool
    message: str = ""
    error: str = ""


@dataclass
class Item:
    """One check of a chapter: the exercise's label, the key and the student's function name."""

    label: str
    key: str
    function: str | None
    points: float


def reference(chapter: str, book: Path | str | None = None) -> list[Item]:
    """The checks of ``chapter`` (a folder such as ``08_diffpool``), from its reference notebook."""
    book = Path(book) if book is not None else repo_path("book")
    paths = [p for p in chapter_notebooks(book) if p.parent.name == chapter]
    if not paths:
        known = sorted({p.parent.name for p in chapter_notebooks(book)})
        raise ValueError(f"no chapter notebook in {book / chapter}; chapters are {known}")
    items = []
    for path in paths:
        for ex in parse_chapter(path).exercises:
            for key, fn in ex.checks:
                items.append(Item(ex.label, key, fn, float(CHECK_META["points"])))
    return items


def _all_chapters(book: Path) -> dict[str, list[Item]]:
    out = {}
    for path in chapter_notebooks(book):
        try:
            out[path.parent.name] = reference(path.parent.name, book)
        except Exception:  # a chapter being edited must not stop the grading of another
            continue
    return out


def _detect_chapter(nb, chapters: dict[str, list[Item]]) -> str | None:
    meta = nb.metadata.get("companion", {}) if hasattr(nb, "metadata") else {}
    if isinstance(meta, dict) and meta.get("chapter") in chapters:
        return meta["chapter"]
    ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "") for c in nb.cells}
    sources = "\n".join(c.get("source", "") for c in nb.cells if c.get("cell_type") == "code")
    best, score = None, 0
    for chapter, items in chapters.items():
        s = sum(f"{i.label}-check" in ids or f"{i.label}-answer" in ids for i in items)
        s += sum(f'"{i.key}"' in sources or f"'{i.key}'" in sources for i in items)
        if s > score:
            best, score = chapter, s
    return best


def _rows(student: str, chapter: str, items: list[Item], error: str) -> list[Row]:
    if not items:
        return [Row(student, chapter, "", "", 0.0, 0.0, False, "", error)]
    return [Row(student, chapter, i.label, i.key, 0.0, i.points, False, "", error) for i in items]


def _kernel_check(key: str, name: str | None, namespace: dict) -> dict:
    """Run inside the student's kernel: check ``namespace[name]`` against exercise ``key``.

    The checker modules are imported afresh, so an answer that replaced ``exercises.check``
    does not grade itself.
    """
    import importlib
    import sys as _sys

    for mod in [m for m in _sys.modules if m == "companion.exercises" or m.endswith(".exercises")
                and m.startswith("companion.")]:
        del _sys.modules[mod]
    ex = importlib.import_module("companion.exercises")
    if name is None:
        return {"passed": False, "message": "", "error": "the reference check does not name a function"}
    if name not in namespace:
        return {"passed": False, "message": "", "error": f"function {name} is not defined"}
    fn = namespace[name]
    if not callable(fn):
        return {"passed": False, "message": "", "error": f"{name} is not a function (it is {type(fn).__name__})"}
    verdict = ex.evaluate(key, fn)
    return {"passed": bool(verdict.passed), "message": verdict.message, "error": ""}


def _grading_source(item: Item) -> str:
    return (f"import json as _companion_json\n"
            f"try:\n"
            f"    from companion.grade import _kernel_check as _companion_check\n"
            f"    _companion_result = _companion_check({item.key!r}, {item.function!r}, globals())\n"
            f"except BaseException as _companion_err:\n"
            f"    _companion_result = {{'passed': False, 'message': '', "
            f"'error': f'checking failed: {{type(_companion_err).__name__}}: {{_companion_err}}'}}\n"
            f"print({MARK!r} + _companion_json.dumps(_companion_result))\n")


def _is_check_cell(cell) -> bool:
    """A locked check cell of the student edition (``grade_id: <label>-check``)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("locked")) and str(meta.get("grade_id", "")).endswith("-check")


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def grade_notebook(path: Path | str, chapter: str | None = None, timeout: float = 120,
                   book: Path | str | None = None, chapters: dict[str, list[Item]] | None = None) -> list[Row]:
    """Execute one submission and check its exercises; one :class:`Row` per exercise."""
    import nbformat

    path = Path(path)
    student = path.stem
    book = Path(book) if book is not None else repo_path("book")
    chapters = chapters if chapters is not None else _all_chapters(book)
    expected = chapters.get(chapter, []) if chapter else []
    try:
        nb = nbformat.read(str(path), as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no cells")
    except Exception as err:
        return _rows(student, chapter or "", expected, f"not a Jupyter notebook ({type(err).__name__}: "
                                                       f"{str(err)[:200]})")
    found = _detect_chapter(nb, chapters)
    if chapter and found and found != chapter:
        return _rows(student, chapter, expected, f"the notebook is for chapter {found}, not {chapter}")
    chapter = chapter or found
    if not chapter:
        return _rows(student, "", [], "cannot tell which chapter the notebook is for (pass --chapter)")
    items = chapters.get(chapter, [])
    if not items:
        return _rows(student, chapter, [], f"chapter {chapter} has no checked exercises")
    try:
        return _execute_and_check(nb, student, chapter, items, timeout)
    except Exception as err:  # a dead kernel, a kernel that would not start: never stop the class
        return _rows(student, chapter, items, f"could not run the notebook: {type(err).__name__}: {str(err)[:200]}")


def _execute_and_check(nb, student: str, chapter: str, items: list[Item], timeout: float) -> list[Row]:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    errors: dict[int, tuple[str, str]] = {}  # cell index -> (error name, message)

    def on_executed(cell, cell_index, execute_reply):
        content = (execute_reply or {}).get("content", {})
        if content.get("status") == "error":
            errors[cell_index] = (str(content.get("ename", "Error")), str(content.get("evalue", ""))[:200])

    ran_over = f"ran over {timeout:g} s"

    def said(index: int) -> str:
        """What the cell's error was, in words: a timeout is "ran over N s", nothing more."""
        name, message = errors[index]
        return ran_over if name == TIMEOUT else f"raised {name}: {message}"

    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    with tempfile.TemporaryDirectory(prefix="grade_") as tmp:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                interrupt_on_timeout=True, resources={"metadata": {"path": tmp}},
                                error_on_timeout={"ename": TIMEOUT, "evalue": f"the cell {ran_over}",
                                                  "traceback": []},
                                on_cell_executed=on_executed, record_timing=False)
        results: dict[int, dict] = {}
        died = ""
        with client.setup_kernel():
            original = len(nb.cells)
            try:
                for index in range(original):
                    # the check cells would run each answer a second time (and a looping one
                    # would cost a second timeout): the grading cells below do the checking
                    if nb.cells[index].get("cell_type") == "code" and not _is_check_cell(nb.cells[index]):
                        client.execute_cell(nb.cells[index], index)
            except DeadKernelError as err:
                died = f"the kernel died while running the notebook ({err})"
            for k, item in enumerate(items):
                if died:
                    break
                cell = nbformat.v4.new_code_cell(_grading_source(item))
                nb.cells.append(cell)
                index = len(nb.cells) - 1
                try:
                    client.execute_cell(cell, index)
                except DeadKernelError as err:
                    died = f"the kernel died while checking ({err})"
                    break
                lines = [x for x in _text(nb.cells[index]).splitlines() if x.startswith(MARK)]
                if errors.get(index, ("",))[0] == TIMEOUT:
                    # the interrupt reaches the check as a KeyboardInterrupt, which the cell may
                    # still report: the timeout is the reason, said once
                    results[k] = {"passed": False, "message": "", "error": f"the check {ran_over}"}
                elif lines:
                    results[k] = json.loads(lines[-1][len(MARK):])
                elif index in errors:
                    results[k] = {"passed": False, "message": "", "error": f"checking stopped: {said(index)}"}
    ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""): i for i, c in enumerate(nb.cells)}
    # the notebook's own cells only: a check that ran over is already said on its own row
    timeouts = [i for i, e in errors.items() if e[0] == TIMEOUT and i < original]
    rows = []
    for k, item in enumerate(items):
        r = results.get(k, {"passed": False, "message": "", "error": died or "the check did not report"})
        error = r.get("error", "")
        answer = ids.get(f"{item.label}-answer")
        if not r.get("passed") and answer is not None and answer in errors:
            error = "; ".join(x for x in (f"the answer cell {said(answer)}", error) if x)
        if not r.get("passed") and timeouts and not error:
            error = f"cell {timeouts[0] + 1} {ran_over}"
        passed = bool(r.get("passed"))
        rows.append(Row(student, chapter, item.label, item.key, item.points if passed else 0.0, item.points,
                        passed, r.get("message", ""), error))
    return rows


def _timed(path: Path | str, chapter: str | None, timeout: float, book: Path,
           chapters: dict[str, list[Item]]) -> tuple[list[Row], float]:
    """:func:`grade_notebook` and its wall time (what a worker process runs)."""
    start = time.perf_counter()
    rows = grade_notebook(path, chapter, timeout, book, chapters)
    return rows, time.perf_counter() - start


def grade(submissions: list[Path | str], out: Path | str | None = None, chapter: str | None = None,
          timeout: float = 120, book: Path | str | None = None, jobs: int = 1,
          on_graded: Callable[[Path, list[Row], float], None] | None = None) -> list[Row]:
    """Grade every submission; write the CSV to ``out`` when given; return the rows.

    ``jobs`` submissions are graded at a time, each in a process of its own when ``jobs > 1``;
    the rows keep the order of ``submissions`` whatever order they finish in. ``on_graded(path,
    rows, seconds)`` is called as each submission is done.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number >= 1, got {jobs!r}")
    book = Path(book) if book is not None else repo_path("book")
    chapters = _all_chapters(book)
    if chapter and chapter not in chapters:
        raise ValueError(f"unknown chapter {chapter!r}; chapters are {sorted(chapters)}")
    paths = [Path(s) for s in submissions]
    done: dict[int, list[Row]] = {}
    if jobs == 1 or len(paths) < 2:
        for i, path in enumerate(paths):
            done[i], seconds = _timed(path, chapter, timeout, book, chapters)
            if on_graded:
                on_graded(path, done[i], seconds)
    else:
        # spawn, not fork: the parent has torch and its thread pools loaded, which a forked
        # child must not inherit; a worker costs one start-up, not one per submission
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(paths)), mp_context=context) as pool:
            futures = {pool.submit(_timed, path, chapter, timeout, book, chapters): i for i, path in enumerate(paths)}
            for future in as_completed(futures):
                i = futures[future]
                try:
                    done[i], seconds = future.result()
                except Exception as err:  # a worker that died: the class is still graded
                    expected = chapters.get(chapter, []) if chapter else []
                    done[i], seconds = _rows(paths[i].stem, chapter or "", expected,
                                             f"the grading process failed: {type(err).__name__}: {err}"), 0.0
                if on_graded:
                    on_graded(paths[i], done[i], seconds)
    rows = [row for i in range(len(paths)) for row in done[i]]
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS)
            w.writeheader()
            for row in rows:
                w.writerow(asdict(row))
    return rows


def _jobs(text: str) -> int:
    """``-j``'s value: a whole number >= 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1 (submissions graded at a time), got {text!r}")
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m companion.grade", description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", nargs="+", help="submitted notebooks (.ipynb)")
    parser.add_argument("--out", default="grades.csv", help="the CSV to write (default grades.csv)")
    parser.add_argument("--chapter", default=None, help="the chapter folder, e.g. 08_diffpool (default: "
                        "read from each notebook)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per cell (default 120)")
    parser.add_argument("--book", default=None, help="the book folder with the reference chapters (default book/)")
    parser.add_argument("-j", "--jobs", type=_jobs, default=1, metavar="N",
                        help="grade N submissions at a time, each in a process of its own (default 1)")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error(f"--timeout must be > 0, got {args.timeout}")
    start = time.perf_counter()
    total = len(args.submissions)
    count = 0

    def progress(path: Path, rows: list[Row], seconds: float) -> None:
        nonlocal count
        count += 1
        print(f"[{count}/{total}] {path.stem}: {sum(r.points for r in rows):g} / "
              f"{sum(r.max_points for r in rows):g} points ({seconds:.1f} s)", file=sys.stderr, flush=True)

    try:
        rows = grade(args.submissions, args.out, args.chapter, args.timeout, args.book, args.jobs, progress)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    totals: dict[str, list[float]] = {}
    for r in rows:
        t = totals.setdefault(r.student, [0.0, 0.0])
        t[0] += r.points
        t[1] += r.max_points
    print(f"{'student':<24} {'chapter':<20} points")
    for student, (got, most) in totals.items():
        chapter = next(r.chapter for r in rows if r.student == student)
        print(f"{student:<24} {chapter:<20} {got:g} / {most:g}")
    print(f"{len(rows)} rows in {args.out} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
