"""Course files: checked fields, the chapter header and the syllabus read them."""

import pandas as pd
import pytest

from companion import course, display


@pytest.fixture
def book(tmp_path, monkeypatch):
    ch = tmp_path / "book" / "99_toy"
    ch.mkdir(parents=True)
    (ch / "toy.md").write_text("---\nx: 1\n---\n\n# Toy method\n\ntext\n")
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
    assert table.loc[0, "chapter"] == "Toy method" and table.loc[0, "homework"] == "toy_ex1"


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


def test_display_setup_shows_whole_cells():
    display.setup()
    assert pd.get_option("display.max_colwidth") is None
    assert "x" * 80 in pd.DataFrame({"a": ["x" * 80]}).to_string()
