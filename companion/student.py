"""Student edition of the book: every chapter notebook with its solutions taken out.

``python -m companion.student [--out _build/student] [--chapter 08_diffpool ...]`` writes, for each
chapter notebook ``book/NN_topic/name.md``::

    <out>/NN_topic/name.md      the MyST source of the student notebook
    <out>/NN_topic/name.ipynb   the same notebook for Jupyter (no outputs)

In each, every gated exercise (``{exercise-start}`` ... ``{exercise-end}``) becomes a Markdown
heading "Exercise N.k" followed by its text, and its ``{solution-start}`` ... ``{solution-end}``
block becomes two code cells:

- an *answer* cell with the solution's function signature(s), their docstrings and
  ``raise NotImplementedError("exercise <label>")`` bodies (and the solution's imports), with
  nbgrader metadata ``solution: true, grade: false, locked: false, grade_id: <label>-answer``;
- a *check* cell with the solution's ``exercises.check(...)`` line(s), locked, worth one point
  (``grade: true, points: 1, grade_id: <label>-check``); ``assert exercises.check(key, fn)``
  becomes ``exercises.check(key, fn, strict=True)``, so that a failed check's error is the
  checker's sentence (the first mismatch), not a bare ``AssertionError``.

The solution's prose and every other line of its code are dropped; cells outside the exercises
are copied unchanged. ``<out>`` also receives ``_config.yml`` and ``_toc.yml`` so that
``jupyter-book build <out>`` makes a solution-free HTML edition, executed, the check cells (tagged
``raises-exception``) showing their errors (see :func:`_html_project`; ``--no-html`` leaves it out).

``python -m companion.student --source --out COURSE`` writes the *nbgrader source edition*
instead, ``COURSE/source/NN_topic/name.ipynb`` (see :func:`build_source`): the same notebooks with
each answer cell holding the reference solution, its body between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` and its signature, docstring and imports outside, so that
``nbgrader generate_assignment NN_topic`` releases them with the signatures intact
(``tools/nbgrader_roundtrip.py`` checks the whole nbgrader round trip).

``<out>/package/`` is the student edition of the package (``pip install <out>/package``; leave it
out with ``--no-package``): the ``companion`` package with each chapter's ``exercises`` module
replaced by one that registers its keys and case generators but no reference solution, and
``companion/_expected/chNN.json`` holding each reference's outputs on those cases, which its
``exercises.check`` compares with (see :func:`build_package`).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from companion.utils import repo_path

__all__ = ["Chapter", "Exercise", "chapter_notebooks", "parse_chapter", "student_markdown", "source_markdown",
           "student_notebook", "clear_marked", "unmarked", "strip_references", "build_package", "build",
           "build_source", "main"]

_DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|~{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*?)\s*$")
_FENCE = re.compile(r"^\s{0,3}(?P<fence>`{3,}|~{3,}|:{3,})")
_GATED = {"exercise-start", "exercise-end", "solution-start", "solution-end", "exercise", "solution"}

ANSWER_META = {"solution": True, "grade": False, "locked": False, "schema_version": 3}
CHECK_META = {"grade": True, "solution": False, "locked": True, "points": 1, "schema_version": 3}
CHECK_TAG = "raises-exception"  # the check cells' tag: their error does not stop an execution


@dataclass
class Exercise:
    """One checked exercise of a chapter, as parsed from its MyST source."""

    label: str
    number: str                      # "8.2": chapter 8, second exercise
    title: str = ""
    text: list[str] = field(default_factory=list)         # the exercise's Markdown lines
    solution_md: list[str] = field(default_factory=list)  # the solution's prose
    solution_code: list[str] = field(default_factory=list)  # the solution's code cells
    checks: list[tuple[str, str | None]] = field(default_factory=list)  # (key, function name)
    answer: str = ""                 # the answer cell of the student edition
    source_answer: str = ""          # the answer cell of the nbgrader source edition
    check_source: str = ""           # its check cell
    dropped_names: set[str] = field(default_factory=set)  # names the dropped solution code defined
    context: str = ""                # solution statements kept because later cells read their names


@dataclass
class Chapter:
    folder: str
    path: Path
    number: int
    exercises: list[Exercise]


# ---------------------------------------------------------------- finding and parsing


def chapter_notebooks(book: Path | None = None) -> list[Path]:
    """The chapter notebooks: ``book/NN_topic/*.md`` files whose header declares a kernelspec."""
    book = Path(book) if book is not None else repo_path("book")
    out = []
    for md in sorted(book.glob("[0-9][0-9]_*/*.md")):
        head = md.read_text(encoding="utf-8")[:2000]
        if head.startswith("---") and re.search(r"^kernelspec:", head, flags=re.M):
            out.append(md)
    return out


def _fence_close(lines: list[str], i: int, fence: str) -> int:
    """Index of the line that closes the fence opened at line ``i`` (the last line if none)."""
    char, n = fence[0], len(fence)
    for j in range(i + 1, len(lines)):
        s = lines[j].strip()
        if len(s) >= n and set(s) == {char}:
            return j
    return len(lines) - 1


def _directive_options(lines: list[str], i: int, fence: str) -> tuple[dict[str, str], list[str], int]:
    """Options (``:key: value`` or a ``---`` YAML block) and body of the directive opened at ``i``."""
    end = _fence_close(lines, i, fence)
    body = lines[i + 1:end]
    opts: dict[str, str] = {}
    if body and body[0].strip() == "---":
        import yaml

        stop = next((k for k in range(1, len(body)) if body[k].strip() == "---"), len(body))
        opts = {str(k): str(v) for k, v in (yaml.safe_load("\n".join(body[1:stop])) or {}).items()}
        body = body[stop + 1:]
    else:
        while body and re.match(r"^:[\w-]+:", body[0]):
            m = re.match(r"^:([\w-]+):\s*(.*)$", body[0])
            opts[m.group(1)] = m.group(2).strip()
            body = body[1:]
    return opts, body, end


def _split_solution(lines: list[str]) -> tuple[list[str], list[str]]:
    """The Markdown lines and the code-cell sources of a solution block's content."""
    md, code, i = [], [], 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if m and m.group("name") == "code-cell":
            _, body, end = _directive_options(lines, i, m.group("fence"))
            code.append("\n".join(body))
            i = end + 1
            continue
        md.append(lines[i])
        i += 1
    return md, code


def _parseable(source: str) -> str:
    """``source`` with IPython magics and shell lines blanked out, so that ``ast`` can read it."""
    return "\n".join("" if re.match(r"^\s*[%!]", line) else line for line in source.split("\n"))


def _check_calls(node: ast.AST) -> list[tuple[str, str | None]]:
    calls = []
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Call):
            continue
        f = sub.func
        is_check = (isinstance(f, ast.Attribute) and f.attr == "check"
                    and isinstance(f.value, ast.Name) and f.value.id == "exercises")
        if is_check and sub.args and isinstance(sub.args[0], ast.Constant) and isinstance(sub.args[0].value, str):
            fn = sub.args[1] if len(sub.args) > 1 else None
            name = fn.id if isinstance(fn, ast.Name) else (ast.unparse(fn) if isinstance(fn, ast.Attribute) else None)
            calls.append((sub.args[0].value, name))
    return calls


def _docstring(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> ast.Expr | None:
    body = node.body
    return (body[0] if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str) else None)


def _head(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, lines: list[str]) -> tuple[list[str], int, str]:
    """The lines a stub keeps of a multi-line definition (decorators, signature, docstring), the
    last signature line, and the body's indentation. Comment lines between the signature and the
    body belong to the body."""
    start = min([d.lineno for d in node.decorator_list] + [node.lineno])
    first, doc = node.body[0], _docstring(node)
    head_end = first.lineno - 1
    while head_end > node.lineno and (not lines[head_end - 1].strip() or lines[head_end - 1].lstrip().startswith("#")):
        head_end -= 1
    out = lines[start - 1:head_end] + (lines[doc.lineno - 1:doc.end_lineno] if doc is not None else [])
    return out, head_end, lines[first.lineno - 1][:first.col_offset]


def _stub(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, lines: list[str], label: str) -> str:
    """The signature (and docstring) of a function or class with its body replaced by a raise."""
    body, doc = node.body, _docstring(node)
    first = body[0]
    if first.lineno <= node.lineno:  # a one-line definition: rebuild it
        import copy

        new = copy.deepcopy(node)
        raise_ = ast.parse(f'raise NotImplementedError("exercise {label}")').body[0]
        new.body = ([doc] if doc else []) + [raise_]
        new.decorator_list = node.decorator_list
        return ast.unparse(new)
    out, _, indent = _head(node, lines)
    if isinstance(node, ast.ClassDef):
        methods = [n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for m in methods:
            out += [""] + _stub(m, lines, label).split("\n")
        if not methods and doc is None:
            out.append(f"{indent}pass")
    else:
        out.append(f'{indent}raise NotImplementedError("exercise {label}")')
    return "\n".join(out)


BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _marked(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, lines: list[str]) -> str:
    """The definition as the nbgrader source edition writes it: the lines :func:`_stub` keeps
    (decorators, signature, docstring), and the body after them between ``### BEGIN SOLUTION``
    and ``### END SOLUTION`` lines at the body's indentation (a class: each method's body).

    Replacing each marked region by ``raise NotImplementedError("exercise <label>")`` gives
    :func:`_stub`'s text; ``nbgrader generate_assignment`` puts its own stub there instead.
    """
    body, doc = node.body, _docstring(node)
    rest = body[1:] if doc is not None else body
    first = body[0]
    if first.lineno <= node.lineno:  # a one-line definition: rebuild it, the body on lines of its own
        import copy

        new = copy.deepcopy(node)
        placeholder = "__companion_solution_region__"
        new.body = ([doc] if doc else []) + [ast.Expr(ast.Constant(placeholder))]
        text = ast.unparse(new)
        out = []
        for line in text.split("\n"):
            if placeholder in line:
                indent = line[:len(line) - len(line.lstrip())]
                out += [indent + BEGIN] + [indent + ast.unparse(n) for n in rest] + [indent + END]
            else:
                out.append(line)
        return "\n".join(out)
    out, head_end, indent = _head(node, lines)
    if doc is not None:
        region_start = doc.end_lineno + 1
    else:
        region_start = head_end + 1
    if isinstance(node, ast.ClassDef):
        for n in rest:
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out += [""] + _marked(n, lines).split("\n")
            else:  # a class attribute: part of the solution too
                seg = lines[n.lineno - 1:n.end_lineno]
                out += [indent + BEGIN, *seg, indent + END]
        if not rest and doc is None:
            out.append(f"{indent}pass")
        return "\n".join(out)
    region = lines[region_start - 1:node.end_lineno]
    while region and not region[0].strip():  # blank lines after the docstring stay outside
        region = region[1:]
    if not rest:  # a docstring and nothing else: the region is empty
        region = []
    out += [indent + BEGIN, *region, indent + END]
    return "\n".join(out)


def clear_marked(source: str, stub: str) -> str:
    """``source`` with each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region replaced by
    ``stub``, indented as the BEGIN line: what ``nbgrader generate_assignment`` does to an
    answer cell (its stub is ``# YOUR CODE HERE`` and ``raise NotImplementedError()``)."""
    out, inside = [], False
    for line in source.split("\n"):
        if BEGIN in line:
            if inside:
                raise ValueError("nested BEGIN SOLUTION")
            inside = True
            indent = line[:len(line) - len(line.lstrip())]
            out += [indent + s for s in stub.split("\n")]
        elif END in line:
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("a BEGIN SOLUTION without its END SOLUTION")
    return "\n".join(out)


def unmarked(source: str) -> str:
    """``source`` without its ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines: the reference."""
    return "\n".join(line for line in source.split("\n") if BEGIN not in line and END not in line)


def _strict(node: ast.stmt, text: str) -> str | None:
    """``exercises.check(key, fn, strict=True)`` for an ``assert exercises.check(key, fn)``
    statement (so that a failed check's error is the checker's sentence), else ``None``."""
    if not (isinstance(node, ast.Assert) and node.msg is None and isinstance(node.test, ast.Call)
            and _check_calls(node.test) and not any(k.arg == "strict" for k in node.test.keywords)):
        return None
    call = ast.get_source_segment(text, node.test)
    if call is None or not call.endswith(")"):
        return None
    inner = call[:-1].rstrip()
    if inner.endswith(","):
        inner = inner[:-1]
    return f"{inner}, strict=True)"


def _assigned_names(node: ast.AST) -> set[str]:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
    return names


def _student_cells(ex: Exercise, keep: set[str] = frozenset()) -> None:
    """Fill ``ex.answer``, ``ex.source_answer``, ``ex.check_source``, ``ex.checks`` and
    ``ex.dropped_names`` from its solution.

    A check ``assert exercises.check(key, fn)`` becomes ``exercises.check(key, fn, strict=True)``,
    whose error is the checker's sentence. A dropped statement that assigns a name in ``keep`` (a later cell reads it) and does not call
    the solution's own functions goes to ``ex.context`` instead.
    """
    imports, stubs, marked, checks, context = [], [], [], [], []
    own = set()
    for source in ex.solution_code:
        try:
            own |= {n.name for n in ast.parse(_parseable(source)).body
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        except SyntaxError:
            pass
    for source in ex.solution_code:
        text = _parseable(source)
        lines = text.split("\n")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            calls = _check_calls(node)
            seg = "\n".join(lines[node.lineno - 1:node.end_lineno])
            if calls:
                ex.checks += calls
                checks.append(_strict(node, text) or seg)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.append(seg)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stubs.append(_stub(node, lines, ex.label))
                marked.append(_marked(node, lines))
            else:
                names = _assigned_names(node)
                reads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
                if names & set(keep) and not reads & own:
                    context.append(seg)
                else:
                    ex.dropped_names |= names
    parts = []
    if imports:
        parts.append("\n".join(imports))
    blank = [f"# Exercise {ex.number} ({ex.label}): write your answer here."]
    ex.answer = "\n\n".join(parts + (stubs or blank))
    ex.source_answer = "\n\n".join(parts + (marked or blank))
    ex.check_source = "\n".join(checks)
    ex.context = "\n".join(context)


def _walk(lines: list[str]):
    """Yield ``("line", i)`` for plain lines and ``(name, i, end, arg, opts, body)`` for gated directives."""
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if m and m.group("name") in _GATED:
            opts, body, end = _directive_options(lines, i, m.group("fence"))
            yield (m.group("name"), i, end, m.group("arg"), opts, body)
            i = end + 1
            continue
        f = _FENCE.match(lines[i])
        if f:
            end = _fence_close(lines, i, f.group("fence"))
            for k in range(i, end + 1):
                yield ("line", k)
            i = end + 1
            continue
        yield ("line", i)
        i += 1


def _chapter_number(folder: str) -> int:
    m = re.match(r"^(\d+)_", folder)
    return int(m.group(1)) if m else 0


def parse_chapter(path: Path | str) -> Chapter:
    """The chapter's exercises with their solutions, check calls and student cells."""
    path = Path(path)
    return _transform(path)[0]


def _transform(path: Path, keep: dict[str, list[str]] | None = None,
               edition: str = "student") -> tuple[Chapter, str]:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    folder = path.parent.name
    number = _chapter_number(folder)
    exercises: dict[str, Exercise] = {}
    order: list[Exercise] = []
    out: list[str] = []
    current: Exercise | None = None  # inside exercise-start ... exercise-end
    solution: tuple[str, int] | None = None  # (label, index of the first content line)
    items = list(_walk(lines))
    for item in items:
        kind = item[0]
        if solution is not None and kind != "solution-end":
            continue  # inside a gated solution: collected when it ends
        if kind == "line":
            out.append(lines[item[1]])
            if current is not None:
                current.text.append(lines[item[1]])
            continue
        _, i, end, arg, opts, body = item
        if kind in ("exercise-start", "exercise"):
            label = opts.get("label", f"{folder}_ex{len(order) + 1}")
            ex = Exercise(label=label, number=f"{number}.{len(order) + 1}", title=arg)
            exercises[label] = ex
            order.append(ex)
            heading = f"### Exercise {ex.number}" + (f": {arg}" if arg else "")
            # the label stays a target, so the chapter's {ref} links to the exercise resolve
            out += ["", "+++", "", f"({label})=", heading, ""]
            if kind == "exercise":  # the one-piece directive: its body is the text
                ex.text = list(body)
                out += body + _exercise_footer(ex)
            else:
                current = ex
        elif kind == "exercise-end":
            if current is not None:
                out += _exercise_footer(current)
            current = None
        elif kind == "solution-start":
            solution = (arg, end + 1)
        elif kind == "solution-end" and solution is not None:
            label, first = solution
            content = lines[first:i]
            solution = None
            ex = exercises.get(label) or (order[-1] if order else None)
            if ex is None:
                continue
            ex.solution_md, ex.solution_code = _split_solution(content)
            _student_cells(ex, set((keep or {}).get(ex.label, ())))
            answer = ex.source_answer if edition == "source" else ex.answer
            out += _code_cell(answer, {"nbgrader": {**ANSWER_META, "grade_id": f"{ex.label}-answer"}})
            if ex.check_source:
                # the check fails until the answer is written: tagged so that executing the
                # notebook (the HTML edition) records its error and goes on
                out += _code_cell(ex.check_source, {"deletable": False, "editable": False, "tags": [CHECK_TAG],
                                                    "nbgrader": {**CHECK_META, "grade_id": f"{ex.label}-check"}})
            if ex.context:
                out += _code_cell(ex.context, {"deletable": False, "editable": False, "nbgrader": {
                    "grade": False, "solution": False, "locked": True, "schema_version": 3,
                    "grade_id": f"{ex.label}-context"}})
            out.append("")
        elif kind == "solution":  # a one-piece solution holds Markdown only: dropped
            continue
    return Chapter(folder, path, number, order), _add_header(_tidy(out), folder, edition)


def _exercise_footer(ex: Exercise) -> list[str]:
    return ["", f"*Write your answer in the next cell, then run the check cell after it (`{ex.label}`).*", ""]


def _code_cell(source: str, meta: dict) -> list[str]:
    import yaml

    head = yaml.safe_dump(meta, sort_keys=True, default_flow_style=False).rstrip("\n").split("\n")
    return ["", "```{code-cell} ipython3", "---", *head, "---", *source.split("\n"), "```"]


def _tidy(lines: list[str]) -> list[str]:
    """Drop runs of blank lines and a ``+++`` that would open an empty Markdown cell."""
    out: list[str] = []
    for line in lines:
        if not line.strip() and out and not out[-1].strip():
            continue
        if line.strip() == "+++":
            prev = next((x for x in reversed(out) if x.strip()), "---")
            if prev.strip() in ("+++", "---", "```"):
                continue
        out.append(line)
    return out


def _add_header(lines: list[str], folder: str, edition: str = "student") -> str:
    """Add ``companion: {chapter, edition}`` to the jupytext header (notebook metadata)."""
    if lines and lines[0].strip() == "---":
        close = next((k for k in range(1, len(lines)) if lines[k].strip() == "---"), None)
        if close is not None:
            lines = lines[:close] + ["companion:", f"  chapter: {folder}", f"  edition: {edition}"] + lines[close:]
    return "\n".join(lines).rstrip("\n") + "\n"


def _student(path: Path, edition: str = "student") -> tuple[Chapter, str, dict[str, list[str]]]:
    """The chapter, its student (or nbgrader source) MyST source, and the solution names kept
    because later cells read them."""
    chapter, text = _transform(path)
    kept = _later_uses(text, chapter)  # the student edition decides, so both editions keep the same
    if kept or edition != "student":  # keep the solution statements that later cells need
        chapter, text = _transform(path, keep=kept, edition=edition)
    return chapter, text, kept


def student_markdown(path: Path | str) -> str:
    """The MyST source of the student edition of the chapter notebook at ``path``."""
    return _student(Path(path))[1]


def source_markdown(path: Path | str) -> str:
    """The MyST source of the nbgrader source edition of the chapter notebook at ``path``: the
    student edition with each answer cell holding the reference solution between ``### BEGIN
    SOLUTION`` and ``### END SOLUTION`` (signatures, docstrings and imports outside)."""
    return _student(Path(path), edition="source")[1]


def student_notebook(markdown: str):
    """The student MyST source as an ``nbformat`` notebook (no outputs, no jupytext pairing)."""
    import jupytext

    nb = jupytext.reads(markdown, fmt="myst")
    nb.metadata.pop("jupytext", None)
    return nb


# ---------------------------------------------------------------- building


def _later_uses(text: str, chapter: Chapter) -> dict[str, list[str]]:
    """Names that a dropped solution defines and a later cell reads before defining them again."""
    nb = student_notebook(text)
    cells = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        try:
            tree = ast.parse(_parseable(c.source))
        except SyntaxError:
            tree = ast.Module(body=[], type_ignores=[])
        names = [n for n in ast.walk(tree) if isinstance(n, ast.Name)]
        cells.append((c.metadata.get("nbgrader", {}).get("grade_id", ""),
                      {n.id for n in names if isinstance(n.ctx, ast.Store)},
                      {n.id for n in names if isinstance(n.ctx, ast.Load)}))
    out = {}
    for ex in chapter.exercises:
        at = next((k for k, cell in enumerate(cells) if cell[0] == f"{ex.label}-check"), None)
        if at is None or not ex.dropped_names:
            continue
        defined, needed = set(), set()
        for _, stores, loads in cells[at + 1:]:
            needed |= (loads - defined - stores) & ex.dropped_names
            defined |= stores
        if needed:
            out[ex.label] = sorted(needed)
    return out


def _html_project(out: Path, book_root: Path, chapters: list[str] | None = None) -> list[Path]:
    """``_config.yml``, ``_toc.yml``, bibliographies and plain pages for ``jupyter-book build <out>``.

    The configuration is the book's, with three changes. The notebooks are executed
    (``execute_notebooks: cache``), so tables and figures are on the pages; errors still stop the
    build (``allow_errors: false``) except in the check cells, which fail until an answer is
    written and are tagged ``raises-exception`` (their error, the checker's "not written yet",
    is shown). The repository, issues, edit and launch buttons are off and the repository URL
    empty: they would lead to the book's own sources, solutions included. With ``chapters``
    only those chapter notebooks are in the table of contents (with the plain pages).
    """
    import yaml

    written = []
    config = yaml.safe_load((book_root / "_config.yml").read_text()) if (book_root / "_config.yml").is_file() else {}
    config["title"] = f"{config.get('title', 'Book')} (student edition)"
    execute = config.setdefault("execute", {})
    execute["execute_notebooks"] = "cache"  # outputs on the pages; the stubs are never called outside checks
    execute["allow_errors"] = False  # only the check cells (tagged CHECK_TAG) may fail
    config["repository"] = {**(config.get("repository") or {}), "url": ""}
    html = config.setdefault("html", {})
    for button in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
        html[button] = False
    config["launch_buttons"] = {**(config.get("launch_buttons") or {}), "binderhub_url": "", "colab_url": "",
                                "jupyterhub_url": "", "thebe": False}
    sphinx = config.get("sphinx") or {}
    for name, folder in (sphinx.get("local_extensions") or {}).items():
        # the book's own Sphinx extensions (tools/bibstyle.py) stay where they are
        sphinx["local_extensions"][name] = str((book_root / folder).resolve())
    (out / "_config.yml").write_text("# generated by python -m companion.student: the student edition\n"
                                     + yaml.safe_dump(config, sort_keys=False))
    written.append(out / "_config.yml")
    toc = book_root / "_toc.yml"
    if toc.is_file():
        text = toc.read_text()
        if chapters:
            text = _only_chapters(text, book_root, chapters)
        (out / "_toc.yml").write_text(text)
        written.append(out / "_toc.yml")
        for entry in re.findall(r"(?:file|root):\s*(\S+)", text):
            src = book_root / f"{entry}.md"
            dst = out / f"{entry}.md"
            if src.is_file() and not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
                written.append(dst)
    for bib in config.get("bibtex_bibfiles", []) or []:
        if (book_root / bib).is_file():
            (out / bib).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(book_root / bib, out / bib)
            written.append(out / bib)
    return written


def _only_chapters(toc: str, book_root: Path, chapters: list[str]) -> str:
    """The table of contents without the chapter notebooks that are not in ``chapters`` (and
    without a part left empty)."""
    import yaml

    notebooks = {str(p.relative_to(book_root).with_suffix("")) for p in chapter_notebooks(book_root / "book")}
    keep = {n for n in notebooks if Path(n).parent.name in chapters}
    data = yaml.safe_load(toc)

    def wanted(entry) -> bool:
        return not (isinstance(entry, dict) and entry.get("file") in notebooks - keep)

    for part in data.get("parts", []):
        part["chapters"] = [c for c in part.get("chapters", []) if wanted(c)]
    data["parts"] = [p for p in data.get("parts", []) if p["chapters"]]
    if "chapters" in data:
        data["chapters"] = [c for c in data["chapters"] if wanted(c)]
    return ("# generated by python -m companion.student: the student edition, chapters "
            + ", ".join(sorted(chapters)) + "\n" + yaml.safe_dump(data, sort_keys=False))


# ---------------------------------------------------------------- the student package


def _is_registration(node: ast.AST) -> bool:
    """``exercise(...)``: the decorator (or the call) that registers a reference solution."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "exercise"


def _as_expected(call: ast.Call, source: str) -> str:
    """The ``exercise(key, cases, ...)`` call rewritten as ``expected(key, cases, ...)``, its
    arguments as the source wrote them (comments and line breaks included)."""
    segment = ast.get_source_segment(source, call) or ast.unparse(call)
    return "expected" + segment[len("exercise"):]


def _drop_unused(source: str) -> str:
    """``source`` without the top-level imports, functions, classes and plain assignments that
    nothing reads any more, repeated until nothing changes (a helper only a removed reference
    used goes, and so do the imports only it used)."""
    while True:
        tree = ast.parse(source)
        lines = source.split("\n")
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store)}
        used |= {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
        edits: list[tuple[int, int, str]] = []
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                    continue
                keep = [a for a in node.names if (a.asname or a.name).split(".")[0] in used]
                if len(keep) != len(node.names):
                    new = type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": keep})
                    edits.append((node.lineno, node.end_lineno, ast.unparse(new) if keep else ""))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if node.name not in used:
                    start = min([d.lineno for d in node.decorator_list] + [node.lineno])
                    edits.append((start, node.end_lineno, ""))
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if len(names) == len(targets) and not set(names) & (used | {"__all__"}):
                    edits.append((node.lineno, node.end_lineno, ""))
        if not edits:
            return source
        for start, end, text in sorted(edits, reverse=True):
            lines[start - 1:end] = [text] if text else []
        source = "\n".join(lines)


def strip_references(source: str, name: str = "exercises.py") -> str:
    """The student edition of a chapter's ``exercises`` module source.

    Each reference solution (a function decorated with ``@exercise(key, cases, ...)``, or a
    top-level ``exercise(...)(fn)`` call) becomes ``expected(key, cases, ...)``, which registers
    the key and its case generator without a function; what only the references used is dropped
    (see :func:`_drop_unused`). Raises ``ValueError`` when the module cannot be stripped: a case
    generator that calls a reference, or a decorator this does not know.
    """
    tree = ast.parse(source)
    lines = source.split("\n")
    edits: list[tuple[int, int, str]] = []
    references: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            regs = [d for d in node.decorator_list if _is_registration(d)]
            if not regs:
                continue
            if len(node.decorator_list) != 1:
                raise ValueError(f"{name}: {node.name} has other decorators beside @exercise; "
                                 f"the student edition cannot strip it")
            references.add(node.name)
            edits.append((node.decorator_list[0].lineno, node.end_lineno, _as_expected(regs[0], source)))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and _is_registration(node.value.func):
            edits.append((node.lineno, node.end_lineno, _as_expected(node.value.func, source)))
    for start, end, text in sorted(edits, reverse=True):
        lines[start - 1:end] = [text]
    stripped = _drop_unused("\n".join(lines))
    tree = ast.parse(stripped)
    calls = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in references}
    if calls:
        raise ValueError(f"{name}: the cases use the reference solutions {sorted(calls)}, which the student "
                         f"edition leaves out")
    # the import goes after the module's last top-level import (or its docstring)
    body = tree.body
    at = max([n.end_lineno for n in body if isinstance(n, (ast.Import, ast.ImportFrom))]
             + [body[0].end_lineno if body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) else 0])
    lines = stripped.split("\n")
    head, rest = "\n".join(lines[:at]).rstrip("\n"), "\n".join(lines[at:]).strip("\n")
    text = (f"{head}\n\nfrom companion.exercises import expected  # stored outputs, no reference solutions\n\n\n"
            f"{rest}")
    text = re.sub(r"\n{4,}", "\n\n\n", text)  # at most two blank lines where removed code was
    header = (f"# Student edition of {name}, written by companion.student: the reference solutions are left out;\n"
              f"# the checks compare with the outputs stored in companion/_expected/.\n")
    return header + text.rstrip("\n") + "\n"


def _package_files(src: Path, project: Path, target: Path) -> None:
    """``pyproject.toml`` (the stored outputs as package data), ``LICENSE`` and a short README."""
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    data = '"companion._expected" = ["*.json"]'
    if "[tool.setuptools.package-data]" in pyproject:
        pyproject = pyproject.replace("[tool.setuptools.package-data]", f"[tool.setuptools.package-data]\n{data}", 1)
    else:
        pyproject += f"\n[tool.setuptools.package-data]\n{data}\n"
    (target / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    if (project / "LICENSE").is_file():
        shutil.copyfile(project / "LICENSE", target / "LICENSE")
    (target / "README.md").write_text(
        "# mlbook-companion, student edition\n\n"
        "The companion package of the course book, without the reference solutions of the checked\n"
        "exercises: `exercises.check(key, your_function)` compares your function with the outputs the\n"
        "references gave on the same seeded test cases, stored in `companion/_expected/`.\n\n"
        "```bash\npip install .\n```\n", encoding="utf-8")


def _copy_sources(src: Path, dst: Path) -> None:
    """Copy the package at ``src`` to ``dst`` without compiled files, whose bytecode would still
    hold the reference solutions, and without a stored ``_expected`` folder (rewritten after)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "_expected"))


def build_package(out: Path | str) -> Path:
    """Write the student edition of the package to ``out/companion`` (with ``pyproject.toml``).

    The package is copied without compiled files (``__pycache__`` would hold the references'
    bytecode); each module of :data:`companion.exercises.CHAPTERS` is replaced by
    :func:`strip_references` of its source; :func:`companion.exercises.freeze` stores every
    reference's outputs in ``companion/_expected/chNN.json``. Returns ``out``.
    """
    import companion
    from companion import exercises

    src = Path(companion.__file__).resolve().parent
    out = Path(out)
    pkg = out / "companion"
    if pkg.exists():  # a previous edition: a reference removed since must not survive in it
        shutil.rmtree(pkg)
    out.mkdir(parents=True, exist_ok=True)
    _copy_sources(src, pkg)
    for module in exercises.CHAPTERS.values():
        rel = Path(*module.split(".")[1:]).with_suffix(".py")
        text = (src / rel).read_text(encoding="utf-8")
        (pkg / rel).write_text(strip_references(text, f"companion/{rel.as_posix()}"), encoding="utf-8")
    store = pkg / "_expected"
    store.mkdir()
    (store / "__init__.py").write_text('"""Outputs of the exercises\' reference solutions on their seeded cases, '
                                      'stored by companion.exercises.freeze for the student edition."""\n')
    for chapter, content in exercises.freeze().items():
        (store / f"{chapter}.json").write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
    _package_files(src, src.parent, out)
    return out


def build(out: Path | str = "_build/student", book: Path | str | None = None,
          chapters: list[str] | None = None, html: bool = True, package: bool = False) -> dict[str, dict]:
    """Write the student edition of every chapter notebook (or of ``chapters``) under ``out``,
    and with ``package`` the student package under ``out/package`` (:func:`build_package`).

    Returns ``{chapter folder: {"md", "ipynb", "exercises", "dropped_names_used_later"}}``.
    """
    import nbformat

    book = Path(book) if book is not None else repo_path("book")
    out = Path(out)
    report = {}
    for path in _select(book, chapters):
        chapter, text, kept = _student(path)
        target = out / book.name / path.parent.name
        target.mkdir(parents=True, exist_ok=True)
        md = target / path.name
        md.write_text(text, encoding="utf-8")
        ipynb = md.with_suffix(".ipynb")
        nbformat.write(student_notebook(text), str(ipynb))
        report[chapter.folder] = {"md": str(md), "ipynb": str(ipynb),
                                  "exercises": [e.label for e in chapter.exercises],
                                  "kept_for_later_cells": kept,
                                  "dropped_names_used_later": _later_uses(text, chapter)}
    if html:
        _html_project(out, book.parent, chapters)
    if package:
        build_package(out / "package")
    return report


def _select(book: Path, chapters: list[str] | None) -> list[Path]:
    paths = chapter_notebooks(book)
    if chapters:
        unknown = set(chapters) - {p.parent.name for p in paths}
        if unknown:
            raise ValueError(f"no chapter notebook in {sorted(unknown)}; chapters are "
                             f"{[p.parent.name for p in paths]}")
        paths = [p for p in paths if p.parent.name in chapters]
    return paths


def build_source(out: Path | str, book: Path | str | None = None,
                 chapters: list[str] | None = None) -> dict[str, dict]:
    """Write the nbgrader *source* edition of every chapter notebook (or of ``chapters``):
    ``<out>/source/<NN_topic>/<name>.ipynb``, the layout of an nbgrader course folder whose
    assignments are the chapters.

    Each notebook is the student edition with the reference solutions in its answer cells
    between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (:func:`_marked`), so that
    ``nbgrader generate_assignment NN_topic`` (run in ``<out>``) releases it with the signatures
    and docstrings kept and only the marked bodies replaced by nbgrader's stub. The notebooks hold
    the solutions: ``<out>`` is for the instructor, never for students.

    Returns ``{chapter folder: {"ipynb", "exercises"}}``.
    """
    import nbformat

    book = Path(book) if book is not None else repo_path("book")
    out = Path(out)
    report = {}
    for path in _select(book, chapters):
        chapter, text, _ = _student(path, edition="source")
        target = out / "source" / path.parent.name
        target.mkdir(parents=True, exist_ok=True)
        ipynb = target / f"{path.stem}.ipynb"
        nbformat.write(student_notebook(text), str(ipynb))
        report[chapter.folder] = {"ipynb": str(ipynb), "exercises": [e.label for e in chapter.exercises]}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m companion.student", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="_build/student", help="output folder (default _build/student)")
    parser.add_argument("--book", default=None, help="the book folder holding NN_topic/ chapters (default book/)")
    parser.add_argument("--chapter", action="append", default=None, help="only this chapter folder (repeatable)")
    parser.add_argument("--no-html", action="store_true", help="do not write _config.yml/_toc.yml for jupyter-book")
    parser.add_argument("--no-package", action="store_true", help="do not write the student package "
                        "(<out>/package: no reference solutions, stored expected outputs)")
    parser.add_argument("--source", action="store_true", help="write the nbgrader source edition instead "
                        "(<out>/source/NN_topic/name.ipynb, reference solutions between BEGIN/END SOLUTION "
                        "markers; for the instructor's nbgrader course folder, never for students)")
    parser.add_argument("--json", default=None, help="also write the report as JSON to this file")
    args = parser.parse_args(argv)
    try:
        report = (build_source(args.out, args.book, args.chapter) if args.source else
                  build(args.out, args.book, args.chapter, html=not args.no_html, package=not args.no_package))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{'chapter':<22} {'exercises':>9}  {'nbgrader source' if args.source else 'student'} notebook")
    for folder, r in report.items():
        print(f"{folder:<22} {len(r['exercises']):>9}  {r['ipynb']}")
        for label, names in r.get("kept_for_later_cells", {}).items():
            print(f"  note: {label}'s solution defines {names}, which later cells read: kept in a locked cell")
        for label, names in r.get("dropped_names_used_later", {}).items():
            print(f"  warning: {label}'s solution defines {names}, which later cells read")
    if args.source:
        print(f"nbgrader: cd {args.out} && nbgrader generate_assignment <chapter folder>")
    else:
        if not args.no_html:
            print(f"HTML edition: jupyter-book build {args.out}")
        if not args.no_package:
            print(f"student package (no reference solutions): pip install {Path(args.out) / 'package'}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0

if __name__ == "__main__":
    sys.exit(main())
