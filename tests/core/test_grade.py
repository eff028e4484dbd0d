"""The grader on a synthetic class of one tiny chapter: a correct, a partly wrong, an untouched,
a broken (syntax error and an endless loop) submission, one whose function loops, one for another
chapter, and a file that is not a notebook. Every student gets a row per exercise, with a reason
where it scored nothing; grading two at a time (-j 2) gives the same CSV."""

import csv
import shutil
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from companion import grade, student

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_chapter.md"

CORRECT_NORMALIZE = '''def my_normalize(edge_index, num_nodes):
    a = torch.zeros(num_nodes, num_nodes)
    a[edge_index[0], edge_index[1]] = 1
    a = torch.maximum(a, a.T)
    a.fill_diagonal_(1)
    d = a.sum(1) ** -0.5
    return d[:, None] * a * d[None, :]'''
CORRECT_COARSEN = '''def my_coarsen(z, adj, s):
    return s.transpose(1, 2) @ z, s.transpose(1, 2) @ adj @ s'''
WRONG_COARSEN = '''def my_coarsen(z, adj, s):
    return s.transpose(1, 2) @ z, s.transpose(1, 2) @ adj'''
# a function that never returns; each call leaves a line in a log, to count how often it ran
LOOPING_COARSEN = '''def my_coarsen(z, adj, s):
    with open({log!r}, "a") as f:
        f.write("called\\n")
    while True:
        pass'''


def _grade(course, name: str, *extra: str) -> list[dict]:
    """Run the grader's CLI on the course's submissions; the CSV rows."""
    out = course.root / f"{name}.csv"
    assert grade.main([*map(str, course.subs), "--out", str(out), "--chapter", "99_tiny", "--timeout", "8",
                       "--book", str(course.book), *extra]) == 0
    with out.open() as f:
        return list(csv.DictReader(f))


def _calls(course) -> int:
    """How often the looping function was entered since the last look (the log is emptied)."""
    calls = course.log.read_text().count("called") if course.log.exists() else 0
    course.log.unlink(missing_ok=True)
    return calls


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A book with the tiny chapter (and a second one), its student edition, and seven submissions."""
    root = tmp_path_factory.mktemp("course")
    book = root / "book"
    (book / "99_tiny").mkdir(parents=True)
    shutil.copyfile(FIXTURE, book / "99_tiny" / "tiny.md")
    other = FIXTURE.read_text().replace("tiny_ex", "other_ex")
    (book / "98_other").mkdir()
    (book / "98_other" / "other.md").write_text(other)
    report = student.build(root / "student", book=book, html=False)
    blank = nbformat.read(report["99_tiny"]["ipynb"], as_version=4)

    def submit(name, answers, source=blank):
        nb = nbformat.from_dict(source)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            if gid in answers:
                cell.source = answers[gid]
        path = root / "submissions" / f"{name}.ipynb"
        path.parent.mkdir(exist_ok=True)
        nbformat.write(nb, str(path))
        return path

    subs = [
        submit("ada", {"tiny_ex1-answer": CORRECT_NORMALIZE, "tiny_ex2-answer": CORRECT_COARSEN}),
        submit("bob", {"tiny_ex1-answer": CORRECT_NORMALIZE, "tiny_ex2-answer": WRONG_COARSEN}),
        submit("cy", {}),
        submit("dee", {"tiny_ex1-answer": "def my_normalize(edge_index, num_nodes)\n    return 1",
                       "tiny_ex2-answer": "while True:\n    pass"}),
        submit("eve", {}, source=nbformat.read(report["98_other"]["ipynb"], as_version=4)),
    ]
    junk = root / "submissions" / "fay.ipynb"
    junk.write_text("this is my homework, sorry it is not a notebook")
    subs.append(junk)
    log = root / "gus_calls.log"
    subs.append(submit("gus", {"tiny_ex1-answer": CORRECT_NORMALIZE,
                               "tiny_ex2-answer": LOOPING_COARSEN.format(log=str(log))}))
    return SimpleNamespace(root=root, book=book, subs=subs, log=log)


@pytest.fixture(scope="module")
def klass(course):
    """The class graded one submission at a time: rows by (student, label), the rows, and how
    often the looping function ran."""
    rows = _grade(course, "grades")
    return {(r["student"], r["label"]): r for r in rows}, rows, _calls(course)


@pytest.fixture(scope="module")
def parallel(course):
    """The same class graded two at a time (-j 2): the rows and the looping function's runs."""
    rows = _grade(course, "grades_j2", "-j", "2")
    return rows, _calls(course)


def test_every_student_gets_a_row_per_exercise(klass):
    by, rows, _ = klass
    assert list(rows[0]) == grade.COLUMNS
    assert sorted(by) == sorted((s, f"tiny_ex{k}") for s in ("ada", "bob", "cy", "dee", "eve", "fay", "gus")
                                for k in (1, 2))
    assert {r["chapter"] for r in rows} == {"99_tiny"}
    assert {r["max_points"] for r in rows} == {"1.0"}


def test_correct_and_partly_wrong(klass):
    by, _, _ = klass
    assert by["ada", "tiny_ex1"]["passed"] == "True" and by["ada", "tiny_ex2"]["points"] == "1.0"
    assert by["bob", "tiny_ex1"]["passed"] == "True"
    wrong = by["bob", "tiny_ex2"]
    assert wrong["passed"] == "False" and wrong["points"] == "0.0" and wrong["error"] == ""
    assert "ch08.coarsen" in wrong["message"] and "part 2 of 2" in wrong["message"]
    assert "case 1 of 3" in wrong["message"] and "shape" in wrong["message"]


def test_untouched_student_notebook_scores_nothing_with_a_message(klass):
    by, _, _ = klass
    for label in ("tiny_ex1", "tiny_ex2"):
        row = by["cy", label]
        assert row["passed"] == "False" and "not written yet" in row["message"]
        assert f"exercise {label}" in row["message"]


def test_broken_submission_gets_reasons(klass):
    by, _, _ = klass
    syntax = by["dee", "tiny_ex1"]
    assert syntax["passed"] == "False" and "SyntaxError" in syntax["error"]
    assert "my_normalize is not defined" in syntax["error"]
    loop = by["dee", "tiny_ex2"]  # the answer cell itself loops: the function is never defined
    assert loop["passed"] == "False" and loop["error"].count("ran over 8 s") == 1
    assert "my_coarsen is not defined" in loop["error"]


def test_a_looping_function_runs_once_and_is_reported_once(klass):
    """Its check is interrupted after --timeout once (the notebook's own check cell is not run),
    the row says so once, and the student's other exercise is graded as usual."""
    by, _, calls = klass
    row = by["gus", "tiny_ex2"]
    assert row["passed"] == "False" and row["error"] == "the check ran over 8 s" and row["message"] == ""
    assert by["gus", "tiny_ex1"]["passed"] == "True"
    assert calls == 1


def test_wrong_chapter_and_not_a_notebook(klass):
    by, _, _ = klass
    assert "for chapter 98_other, not 99_tiny" in by["eve", "tiny_ex1"]["error"]
    assert "not a Jupyter notebook" in by["fay", "tiny_ex2"]["error"]


def test_reference_reads_function_names_and_rejects_unknown_chapter(tmp_path):
    (tmp_path / "99_tiny").mkdir()
    shutil.copyfile(FIXTURE, tmp_path / "99_tiny" / "tiny.md")
    items = grade.reference("99_tiny", tmp_path)
    assert [(i.label, i.key, i.function) for i in items] == [
        ("tiny_ex1", "ch00.normalize", "my_normalize"), ("tiny_ex2", "ch08.coarsen", "my_coarsen")]
    with pytest.raises(ValueError, match="no chapter notebook"):
        grade.reference("42_nothing", tmp_path)
    assert grade.main(["x.ipynb", "--chapter", "42_nothing", "--book", str(tmp_path)]) == 2


def test_two_at_a_time_gives_the_same_grades(klass, parallel):
    """-j 2: the same rows in the same order, the looping submission included (and run once)."""
    _, rows, _ = klass
    rows_j2, calls = parallel
    assert rows_j2 == rows
    assert calls == 1


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_bad_jobs_are_rejected(value, capsys, tmp_path):
    with pytest.raises(SystemExit) as err:
        grade.main(["x.ipynb", "-j", value, "--out", str(tmp_path / "g.csv")])
    assert err.value.code == 2
    assert f"argument -j/--jobs: must be a whole number >= 1 (submissions graded at a time), got {value!r}" in \
        capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()
    with pytest.raises(ValueError, match="jobs must be a whole number >= 1, got 0"):
        grade.grade(["x.ipynb"], jobs=0)
