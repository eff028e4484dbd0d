"""Course files: checked fields, the chapter header and the syllabus read them."""

import pandas as pd
import pytest

from companion import course, display


TOY = "---\nkernelspec:\n  name: python3\n---\n\n# Toy method\n\ntext\n" + "".join(
    f"\n```{{exercise-start}}\n:label: toy_ex{k}\n```\nWrite it.\n```{{exercise-end}}\n```\n" for k in (1, 2))


@pytest.fixture
def book(tmp_path, monkeypatch):
    ch = tmp_path / "book" / "99_toy"
    ch.mkdir(parents=True)
    (ch / "toy.md").write_text(TOY)
    (tmp_path / "book" / "00_intro").mkdir()
    (tmp_path / "book" / "00_intro" / "i.md").write_text("# Intro\n")
    monkeypatch.setattr(course, "repo_path", lambda *p: tmp_path.joinpath(*p))
    return ch


GOOD = """objectives: [Build the toy from tensors., Compare it with a baseline.]
prerequisites: [00_intro, linear algebra]
study_minutes: 60
execution_seconds: 12
exercises: {homework: [toy_ex1], lab: [toy_ex2]}
"""


def test_header_and_syllabus(book):
    (book / "course.yml").write_text(GOOD)
    text = course.header_markdown("99_toy")
    assert "- Build the toy from tensors." in text and "Intro (`00_intro`); linear algebra" in text
    assert "about 60 minutes" in text and "about 12 s" in text
    table = course.syllabus()
    assert list(table.index) == ["Toy method"]
    assert table.loc["Toy method", "homework"] == "Exercise 99.1"
    assert table.loc["Toy method", "lab"] == "Exercise 99.2"
    plan = course.term_plan([["99_toy"]])
    assert plan.loc[1, "chapters"] == "Toy method" and plan.loc[1, "study (h)"] == 1.0
    assert plan.loc[1, "lab"] == "Exercise 99.2"
    with pytest.raises(ValueError, match="week 2: \\['99_nope'\\] are not chapter folders"):
        course.term_plan([["99_toy"], ["99_nope"]])


def test_syllabus_names_an_exercise_the_chapter_lacks(book):
    (book / "course.yml").write_text(GOOD.replace("lab: [toy_ex2]", "lab: [toy_ex3]"))
    with pytest.raises(ValueError, match=r"does not have: \['toy_ex3'\]"):
        course.syllabus()


@pytest.mark.parametrize("text, message", [
    (GOOD.replace("study_minutes: 60", "study_minutes: 0"), "study_minutes must be a positive"),
    (GOOD.replace("exercises: {homework: [toy_ex1], lab: [toy_ex2]}", ""), r"lacks \['exercises'\]"),
    (GOOD.replace("objectives: [Build the toy from tensors., Compare it with a baseline.]", "objectives: x"),
     "objectives must be a list"),
    (GOOD.replace("lab: [toy_ex2]", "exam: [toy_ex2]"), "exercises must map"),
])
def test_bad_course_file_is_named(book, text, message):
    (book / "course.yml").write_text(text)
    with pytest.raises(ValueError, match=message):
        course.load_course("99_toy")


def test_measured_times_go_into_the_course_file_rounded_up(book):
    (book / "course.yml").write_text(GOOD)
    assert course.set_execution_seconds({"_build/nbval/book/99_toy/toy.ipynb": 12.1,
                                         "_build/nbval/book/report.ipynb": 3.0}) == {"99_toy": 15}
    assert course.load_course("99_toy")["execution_seconds"] == 15
    with pytest.raises(ValueError, match="positive number of seconds"):
        course.set_execution_seconds({"book/99_toy/toy.md": -1})


def test_readme_table_reads_the_course_file(book):
    (book / "course.yml").write_text(GOOD)
    row = "| Toys | `book/99_toy` | the toy | generated | ~3 s |"
    assert course.readme_with_times(f"text\n{row}\n") == f"text\n{row.replace('~3 s', '~12 s')}\n"
    with pytest.raises(ValueError, match="no row .* for \\['99_toy'\\]"):
        course.readme_with_times("a README without the table\n")


def test_the_committed_readme_shows_the_course_files_times():
    from companion.utils import repo_path

    text = repo_path("README.md").read_text()
    assert course.readme_with_times(text) == text, "run python tools/sync_times.py"


def test_display_setup_shows_whole_cells():
    display.setup()
    assert pd.get_option("display.max_colwidth") is None
    assert "x" * 80 in pd.DataFrame({"a": ["x" * 80]}).to_string()
