"""The nbgrader source edition (``python -m companion.student --source``): each answer cell holds
the reference solution, its body between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` and its
signature, docstring and imports outside, so that clearing the marked regions gives the student
edition's answer cell; every other cell is the student edition's, check cells included (they
raise the checker's sentence). The last test runs the whole nbgrader round trip
(tools/nbgrader_roundtrip.py) where an nbgrader environment is at hand."""

import ast
import importlib.util
import os
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from companion import exercises, student
from companion.utils import repo_path

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_chapter.md"


def _gid(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A book with the tiny chapter; its source and student editions."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "book" / "99_tiny").mkdir(parents=True)
    (root / "book" / "99_tiny" / "tiny.md").write_text(FIXTURE.read_text())
    source = student.build_source(root / "course", book=root / "book")["99_tiny"]
    edition = student.build(root / "student", book=root / "book", html=False)["99_tiny"]
    return root, nbformat.read(source["ipynb"], as_version=4), nbformat.read(edition["ipynb"], as_version=4)


def test_tiny_source_edition_marks_exactly_the_bodies(tiny):
    root, source, _ = tiny
    assert Path(root / "course" / "source" / "99_tiny" / "tiny.ipynb").is_file()  # nbgrader's layout
    assert source.metadata["companion"] == {"chapter": "99_tiny", "edition": "source"}
    answers = {_gid(c): c.source for c in source.cells if _gid(c).endswith("-answer")}
    assert answers["tiny_ex1-answer"] == (
        'def my_normalize(edge_index, num_nodes):\n'
        '    """The dense D^-1/2 (A + I) D^-1/2 of an undirected graph."""\n'
        '    ### BEGIN SOLUTION\n'
        '    adjacency_with_loops = torch.zeros(num_nodes, num_nodes)\n'
        '    adjacency_with_loops[edge_index[0], edge_index[1]] = 1\n'
        '    adjacency_with_loops = torch.maximum(adjacency_with_loops, adjacency_with_loops.T)\n'
        '    adjacency_with_loops.fill_diagonal_(1)\n'
        '    inverse_sqrt_degree = adjacency_with_loops.sum(1) ** -0.5\n'
        '    return inverse_sqrt_degree[:, None] * adjacency_with_loops * inverse_sqrt_degree[None, :]\n'
        '    ### END SOLUTION')
    assert answers["tiny_ex2-answer"] == (
        'def my_coarsen(z, adj, s):\n'
        '    ### BEGIN SOLUTION\n'
        '    transposed_assignment = s.transpose(1, 2)\n'
        '    return transposed_assignment @ z, transposed_assignment @ adj @ s\n'
        '    ### END SOLUTION')
    # the check and the explorations after it are not in the answer cell
    assert not any("exercises.check" in a or "demo_graph" in a for a in answers.values())
    # the references, markers taken out, pass their checks
    namespace = {"torch": torch}
    for source_text in answers.values():
        exec(student.unmarked(source_text), namespace)
    assert exercises.evaluate("ch00.normalize", namespace["my_normalize"]).passed
    assert exercises.evaluate("ch08.coarsen", namespace["my_coarsen"]).passed


def test_tiny_source_edition_is_the_student_edition_but_for_the_answers(tiny):
    _, source, edition = tiny
    assert len(source.cells) == len(edition.cells)
    for a, b in zip(source.cells, edition.cells):
        assert (a.cell_type, _gid(a), a.metadata) == (b.cell_type, _gid(b), b.metadata)
        if _gid(a).endswith("-answer"):
            label = _gid(a)[:-len("-answer")]
            assert student.clear_marked(a.source, f'raise NotImplementedError("exercise {label}")') == b.source
        else:
            assert a.source == b.source
    checks = [c for c in source.cells if _gid(c).endswith("-check")]
    assert [c.source for c in checks] == ['exercises.check("ch00.normalize", my_normalize, strict=True)',
                                          'exercises.check("ch08.coarsen", my_coarsen, strict=True)']
    assert all(c.metadata["tags"] == ["raises-exception"] and c.metadata["nbgrader"]["grade"] for c in checks)


def _definitions(source: str) -> dict[str, str]:
    tree = ast.parse(student._parseable(source))
    return {n.name: ast.dump(n) for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def test_every_chapter_source_answer_is_the_reference_with_its_body_marked():
    for path in student.chapter_notebooks():
        for ex in student.parse_chapter(path).exercises:
            where = f"{path.parent.name} {ex.label}"
            text = ex.source_answer
            assert text.count(student.BEGIN) == text.count(student.END) >= 1, where
            # clearing the marked regions gives the student edition's answer cell exactly
            assert student.clear_marked(text, f'raise NotImplementedError("exercise {ex.label}")') == ex.answer, where
            # without the markers, the functions are the reference's, statement for statement
            reference = {}
            for code in ex.solution_code:
                reference.update(_definitions(code))
            assert _definitions(student.unmarked(text)) == {k: reference[k] for k in _definitions(text)}, where
            # a region holds body statements only: no signature, docstring or import inside
            inside = False
            for line in text.split("\n"):
                if student.BEGIN in line:
                    inside = True
                elif student.END in line:
                    inside = False
                elif inside:
                    assert not line.lstrip().startswith(("def ", "import ", "from ", '"""')), (where, line)
            # the check cell raises the checker's sentence
            assert ex.check_source == "\n".join(
                f"exercises.check({key!r}, {name}, strict=True)".replace("'", '"') for key, name in ex.checks), where


def test_marked_one_line_definitions_and_classes():
    code = ('def f(x): return x + 1\n\n'
            'class Pool:\n    """Doc."""\n    size = 2\n\n    def forward(self, x):\n        y = x * 2\n        return y\n')
    tree = ast.parse(code)
    lines = code.split("\n")
    f, cls = tree.body
    assert student._marked(f, lines) == ("def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n"
                                         "    ### END SOLUTION")
    assert student._marked(cls, lines) == (
        'class Pool:\n    """Doc."""\n    ### BEGIN SOLUTION\n    size = 2\n    ### END SOLUTION\n\n'
        '    def forward(self, x):\n        ### BEGIN SOLUTION\n        y = x * 2\n        return y\n'
        '        ### END SOLUTION')
    namespace = {}
    exec(student.unmarked(student._marked(f, lines)) + "\n" + student.unmarked(student._marked(cls, lines)), namespace)
    assert namespace["f"](1) == 2 and namespace["Pool"]().forward(3) == 6 and namespace["Pool"].size == 2
    stub = 'raise NotImplementedError("exercise x")'
    cleared = student.clear_marked(student._marked(f, lines), stub)
    assert ast.dump(ast.parse(cleared)) == ast.dump(ast.parse(student._stub(f, lines, "x")))
    with pytest.raises(ValueError):
        student.clear_marked("### BEGIN SOLUTION\nx = 1", stub)


def test_cli_source(tmp_path, capsys):
    assert student.main(["--source", "--out", str(tmp_path), "--chapter", "00_getting_started"]) == 0
    assert "nbgrader generate_assignment" in capsys.readouterr().out
    assert (tmp_path / "source" / "00_getting_started" / "getting_started.ipynb").is_file()
    # only the source edition: no student notebooks, HTML project or package beside the solutions
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source"]
    assert student.main(["--source", "--out", str(tmp_path), "--chapter", "42_nothing"]) == 2


def _nbgrader_venv() -> Path | None:
    """An environment with nbgrader: this one, $NBGRADER_VENV, or .venv-nbgrader (make nbgrader-check)."""
    if importlib.util.find_spec("nbgrader") is not None:
        return Path(sys.prefix)
    for venv in (os.environ.get("NBGRADER_VENV"), repo_path(".venv-nbgrader")):
        if venv and (Path(venv) / "bin" / "nbgrader").is_file():
            return Path(venv)
    return None


@pytest.mark.skipif(_nbgrader_venv() is None, reason="nbgrader is not installed (make nbgrader-check installs it)")
def test_nbgrader_round_trip_agrees_with_companion_grade(tiny):
    """nbgrader generate_assignment + autograde on the tiny chapter: the release is the student
    edition with nbgrader's stubs, and nbgrader's points equal companion.grade's (about a minute)."""
    spec = importlib.util.spec_from_file_location("nbgrader_roundtrip", repo_path("tools", "nbgrader_roundtrip.py"))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    root, _, _ = tiny
    result = tool.roundtrip("99_tiny", _nbgrader_venv(), root / "roundtrip", book=root / "book", timeout=60)
    assert result["problems"] == []
    assert {who: (t["nbgrader"], t["companion_grade"]) for who, t in result["totals"].items()} == {
        "correct": (2, 2), "wrong": (1, 1), "unwritten": (1, 1)}
