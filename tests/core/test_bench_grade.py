"""tools/bench_grade.py: the submissions it makes carry the reference solutions without their
check lines, so every one of them must get full marks."""

import importlib.util
import sys
from pathlib import Path

import nbformat
import torch

from companion import exercises, student
from companion.utils import repo_path

spec = importlib.util.spec_from_file_location("bench_grade", repo_path("tools", "bench_grade.py"))
tool = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = tool
spec.loader.exec_module(tool)

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_chapter.md"


def test_answers_are_the_solutions_without_their_checks():
    filled = tool.answers(student.parse_chapter(FIXTURE))
    assert sorted(filled) == ["tiny_ex1-answer", "tiny_ex2-answer"]
    assert not any("exercises.check" in source for source in filled.values())
    namespace = {"torch": torch}
    for source in filled.values():
        exec(source, namespace)
    assert exercises.evaluate("ch00.normalize", namespace["my_normalize"]).passed
    assert exercises.evaluate("ch08.coarsen", namespace["my_coarsen"]).passed


def test_make_class_fills_every_answer_cell(tmp_path):
    book = tmp_path / "book"
    (book / "99_tiny").mkdir(parents=True)
    (book / "99_tiny" / "tiny.md").write_text(FIXTURE.read_text())
    subs = tool.make_class("99_tiny", 3, tmp_path / "class", book)
    assert [p.name for p in subs] == ["student00.ipynb", "student01.ipynb", "student02.ipynb"]
    nb = nbformat.read(str(subs[2]), as_version=4)
    answers = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("-answer")]
    assert len(answers) == 2 and not any("NotImplementedError" in a for a in answers)
