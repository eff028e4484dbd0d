"""Every figure a book page's code cell draws has a numbered caption and real alt text.

Read from the MyST sources (no execution): a code cell that shows a plot (``plt.show()``,
``image_grid``) carries myst-nb's cell metadata ``mystnb: {figure: {caption, name}, image: {alt}}``,
its name is ``fig-...`` and unique in the book, and the cell ends in a statement, not an
expression: myst-nb wraps *every* display output of a captioned cell in the figure, so a table
shown as the cell's value would be captioned (and named) too. ``.ci/check_html.py`` checks the same
in the built HTML.
"""

import ast
import re

import jupytext
import pytest

from companion.student import chapter_notebooks
from companion.utils import repo_path

PAGES = [*chapter_notebooks(), repo_path("book", "report.md")]
SHOWS = re.compile(r"plt\.show\(|image_grid\(")
# calls that return None: a cell may end in one (anything else it ends in is shown as its value)
SILENT = {"plt.show", "print", "display", "show"}
# chapters whose figures are still being captioned elsewhere: remove a chapter once they are
PENDING: dict[str, str] = {}


def figure_cells(path):
    """(index, source, metadata) of each code cell that shows a figure or declares one."""
    nb = jupytext.read(path)
    return [(i, c.source, c.metadata) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and (SHOWS.search(c.source) or "mystnb" in c.metadata)]


def _param(path):
    marks = [pytest.mark.xfail(reason=PENDING[path.parent.name], strict=False)] \
        if path.parent.name in PENDING else []
    return pytest.param(path, id=path.parent.name if path.parent.name != "book" else path.stem,
                        marks=marks)


@pytest.mark.parametrize("path", [_param(p) for p in PAGES])
def test_book_figures_have_captions_and_alt_text(path):
    cells = figure_cells(path)
    problems = []
    for i, source, meta in cells:
        opts = meta.get("mystnb", {})
        figure, image = opts.get("figure") or {}, opts.get("image") or {}
        if not str(figure.get("caption", "")).strip():
            problems.append(f"cell {i}: no caption (mystnb.figure.caption)")
        if not str(figure.get("name", "")).startswith("fig-"):
            problems.append(f"cell {i}: no name fig-... (mystnb.figure.name)")
        alt = str(image.get("alt", "")).strip()
        if len(alt.split()) < 3:
            problems.append(f"cell {i}: no alt text of a few words (mystnb.image.alt): {alt!r}")
        code = "\n".join(line for line in source.splitlines() if not line.startswith("%"))
        last = ast.parse(code).body[-1]
        if isinstance(last, ast.Expr) and not (isinstance(last.value, ast.Call)
                                               and ast.unparse(last.value.func) in SILENT):
            problems.append(f"cell {i}: ends in an expression, whose value the figure would "
                            f"caption too: {ast.unparse(last)[:60]}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_book_figure_names_are_unique():
    names = [str(meta["mystnb"]["figure"].get("name")) for path in PAGES
             for _, _, meta in figure_cells(path) if meta.get("mystnb", {}).get("figure")]
    assert names, "no captioned figures found"
    twice = sorted({n for n in names if names.count(n) > 1})
    assert not twice, f"figure names used twice: {twice}"
