"""The student edition: exercises become headings, solutions become stub answer cells and locked
check cells with nbgrader metadata, no solution body survives, and the notebooks run to the end,
the only errors being the unwritten exercises' check cells, each the checker's sentence."""

import re
from pathlib import Path

import nbformat
import pytest

from companion import student

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_chapter.md"


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    return out, student.build(out)


def test_tiny_chapter_cells_and_metadata(tmp_path):
    (tmp_path / "99_tiny").mkdir()
    (tmp_path / "99_tiny" / "tiny.md").write_text(FIXTURE.read_text())
    report = student.build(tmp_path / "out", book=tmp_path, html=False)["99_tiny"]
    text = Path(report["md"]).read_text()
    assert "{exercise-start}" not in text and "{solution-start}" not in text and "{solution-end}" not in text
    assert "### Exercise 99.1" in text and "### Exercise 99.2" in text
    nb = nbformat.read(report["ipynb"], as_version=4)
    assert nb.metadata["companion"] == {"chapter": "99_tiny", "edition": "student"}
    graded = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
    assert list(graded) == ["tiny_ex1-answer", "tiny_ex1-check", "tiny_ex1-context", "tiny_ex2-answer", "tiny_ex2-check"]
    assert graded["tiny_ex1-answer"].metadata["nbgrader"] == {
        "solution": True, "grade": False, "locked": False, "grade_id": "tiny_ex1-answer", "schema_version": 3}
    assert graded["tiny_ex1-check"].metadata["nbgrader"] == {
        "grade": True, "solution": False, "locked": True, "points": 1, "grade_id": "tiny_ex1-check", "schema_version": 3}
    assert graded["tiny_ex1-answer"].source == (
        'def my_normalize(edge_index, num_nodes):\n    """The dense D^-1/2 (A + I) D^-1/2 of an undirected graph."""\n'
        '    raise NotImplementedError("exercise tiny_ex1")')
    # the check raises the checker's sentence (not a bare AssertionError), and is tagged as a cell
    # that fails until the answer is written
    assert graded["tiny_ex1-check"].source == 'exercises.check("ch00.normalize", my_normalize, strict=True)'
    assert graded["tiny_ex1-check"].metadata["tags"] == ["raises-exception"]
    assert [c for c in nb.cells if "raises-exception" in c.metadata.get("tags", [])] == [
        graded["tiny_ex1-check"], graded["tiny_ex2-check"]]
    # a name that a later cell reads is kept, in a locked cell of its own; the solution is gone
    assert graded["tiny_ex1-context"].source == "demo_graph = torch.tensor([[0, 1], [1, 2]])"
    for secret in ("adjacency_with_loops", "inverse_sqrt_degree", "transposed_assignment", "Add the self-loops"):
        assert secret not in text and secret not in Path(report["ipynb"]).read_text()
    # the exercise text is a Markdown cell of its own; other cells are unchanged
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert any(s.startswith("(tiny_ex1)=\n### Exercise 99.1\n\nWrite `my_normalize") for s in md)
    assert "print(demo_graph.shape)" in [c.source for c in nb.cells]


def _solution_lines(path: Path) -> set[str]:
    """Lines that appear only inside the chapter's solution blocks (not elsewhere in it)."""
    text = path.read_text()
    inside, outside, on = [], [], False
    for line in text.split("\n"):
        if line.startswith("```{solution-start}"):
            on = True
        elif line.startswith("```{solution-end}"):
            on = False
        (inside if on else outside).append(line.strip())
    keep = set()
    for line in set(inside) - set(outside):
        if len(line) < 12 or line.startswith(("def ", "assert exercises.check", "import ", "from ", '"""', ":class:")):
            continue
        keep.add(line)
    return keep


def test_every_chapter_has_answer_and_check_cells_and_no_solution_text(edition):
    out, report = edition
    assert len(report) == len(student.chapter_notebooks())
    for path in student.chapter_notebooks():
        r = report[path.parent.name]
        chapter = student.parse_chapter(path)
        nb = nbformat.read(r["ipynb"], as_version=4)
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
        for ex in chapter.exercises:
            assert f"{ex.label}-answer" in ids, (path, ex.label)
            assert ex.checks and f"{ex.label}-check" in ids, (path, ex.label)
            answer = nb.cells[ids.index(f"{ex.label}-answer")].source
            assert f'raise NotImplementedError("exercise {ex.label}")' in answer
        files = Path(r["md"]).read_text() + Path(r["ipynb"]).read_text()
        assert not re.search(r"\{(exercise|solution)-(start|end)\}", Path(r["md"]).read_text())
        leaked = [line for line in _solution_lines(path) if line in files]
        allowed = set()
        for ex in chapter.exercises:  # statements kept on purpose because later cells read them
            nbcell = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"{ex.label}-context"]
            allowed |= {x.strip() for s in nbcell for x in s.split("\n")}
        assert [x for x in leaked if x not in allowed] == [], path


def test_html_project_files(edition):
    import yaml

    out, report = edition
    config = yaml.safe_load((out / "_config.yml").read_text())
    assert "student edition" in config["title"]
    # executed, so the pages have their tables and figures; an error stops the build except in
    # the check cells (tagged raises-exception), which fail until the answer is written
    assert config["execute"]["execute_notebooks"] == "cache" and config["execute"]["allow_errors"] is False
    assert config["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    for r in report.values():
        nb = nbformat.read(r["ipynb"], as_version=4)
        tagged = [c for c in nb.cells if "raises-exception" in c.metadata.get("tags", [])]
        assert tagged and all(c.metadata["nbgrader"]["grade_id"].endswith("-check") for c in tagged)
        assert len(tagged) == len(r["exercises"])
    # no button leads to the book's sources (solutions included) or to nowhere
    assert config["repository"]["url"] == ""
    assert not any(config["html"][b] for b in ("use_repository_button", "use_issues_button", "use_edit_page_button"))
    assert not any(config["launch_buttons"][k] for k in ("binderhub_url", "colab_url", "jupyterhub_url", "thebe"))
    assert (out / "_toc.yml").is_file() and (out / "book" / "index.md").is_file()
    toc = (out / "_toc.yml").read_text()
    assert all(f"book/{Path(r['md']).parent.name}/{Path(r['md']).stem}" in toc for r in report.values())


def test_html_project_of_some_chapters_lists_only_them(tmp_path):
    import yaml

    student.build(tmp_path, chapters=["07_lds"], package=False)
    toc = yaml.safe_load((tmp_path / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert "book/07_lds/lds" in files and "book/syllabus" in files
    assert not any(f.startswith("book/0") and f != "book/07_lds/lds" for f in files)
    assert all((tmp_path / f"{f}.md").is_file() for f in files)


def _run(ipynb: str, timeout: int = 300):
    """Execute with nbclient as the HTML build does (errors stop it, except in cells tagged
    raises-exception); the executed notebook."""
    from nbclient import NotebookClient

    nb = nbformat.read(ipynb, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(Path(ipynb).parent)}})
    client.execute()
    return nb


@pytest.mark.parametrize("chapter", ["00_getting_started", "07_lds"])
def test_student_notebook_runs_to_the_end_with_only_the_checks_failing(edition, chapter):
    out, report = edition
    nb = _run(report[chapter]["ipynb"])
    exercises = student.parse_chapter(next(p for p in student.chapter_notebooks() if p.parent.name == chapter)).exercises
    failing = [c for c in nb.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert [c.metadata["nbgrader"]["grade_id"] for c in failing] == [f"{ex.label}-check" for ex in exercises]
    for cell, ex in zip(failing, exercises):
        (error,) = [o for o in cell.outputs if o.get("output_type") == "error"]
        key, name = ex.checks[0]
        # the checker's sentence is the error's message, not a bare AssertionError
        assert error["ename"] == "AssertionError"
        assert re.fullmatch(rf"✗ {re.escape(key)}: case 1 of \d+: {name} is not written yet "
                            rf"\(it raised NotImplementedError: exercise {ex.label}\)", error["evalue"]), error["evalue"]


def test_cli(tmp_path, capsys):
    assert student.main(["--out", str(tmp_path), "--chapter", "00_getting_started", "--no-html"]) == 0
    out = capsys.readouterr().out
    assert "00_getting_started" in out and f"pip install {tmp_path / 'package'}" in out
    assert (tmp_path / "book" / "00_getting_started" / "getting_started.ipynb").is_file()
    assert not (tmp_path / "_config.yml").exists()
    # the student package comes with the notebooks unless --no-package says otherwise
    assert (tmp_path / "package" / "companion" / "_expected" / "ch00.json").is_file()
    assert student.main(["--out", str(tmp_path / "bare"), "--chapter", "00_getting_started", "--no-html",
                         "--no-package"]) == 0
    assert not (tmp_path / "bare" / "package").exists()
    assert student.main(["--out", str(tmp_path), "--chapter", "42_nothing"]) == 2
