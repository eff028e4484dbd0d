"""Course pages: each chapter's objectives, prerequisites and times, declared once in
``book/NN_topic/course.yml`` and shown both at the top of the chapter and on the syllabus page::

    objectives:                 # what a student can do after the chapter
      - Build DiffPool's soft assignment and coarsening from tensors.
    prerequisites:              # chapters (folder names) or topics
      - 00_getting_started
      - graph convolution (GCN)
    study_minutes: 120          # reading and exercises, for a student new to the method
    execution_seconds: 25       # the notebook under nbval on an idle 2-core machine (make test)
    exercises:                  # exercise labels of the chapter, by where they suit
      homework: [diffpool_ex1, diffpool_ex2]
      lab: [diffpool_ex3]
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from companion.utils import repo_path

__all__ = ["load_course", "header", "header_markdown", "syllabus", "chapters", "exercise_names",
           "set_execution_seconds", "readme_with_times", "term_plan"]

REQUIRED = ("objectives", "prerequisites", "study_minutes", "execution_seconds", "exercises")


def chapters() -> list[str]:
    """Chapter folders that have a course file, in folder order."""
    return sorted(p.parent.name for p in repo_path("book").glob("*/course.yml"))


def read_course_file(chapter: str) -> dict[str, Any]:
    """``book/<chapter>/course.yml`` as written, unchecked (``FileNotFoundError`` naming the path)."""
    import yaml

    path = repo_path("book", chapter, "course.yml")
    if not path.is_file():
        raise FileNotFoundError(f"no course file at {path}")
    return yaml.safe_load(path.read_text()) or {}


def load_course(chapter: str) -> dict[str, Any]:
    """``book/<chapter>/course.yml``, checked: every field present and of the right kind."""
    path = repo_path("book", chapter, "course.yml")
    doc = read_course_file(chapter)
    missing = [k for k in REQUIRED if k not in doc]
    if missing:
        raise ValueError(f"{path} lacks {missing}; expected keys {list(REQUIRED)}")
    for key in ("objectives", "prerequisites"):
        if not isinstance(doc[key], list) or not all(isinstance(x, str) for x in doc[key]):
            raise ValueError(f"{path}: {key} must be a list of strings")
    for key in ("study_minutes", "execution_seconds"):
        if not isinstance(doc[key], (int, float)) or doc[key] <= 0:
            raise ValueError(f"{path}: {key} must be a positive number, got {doc[key]!r}")
    ex = doc["exercises"]
    if not isinstance(ex, dict) or set(ex) - {"homework", "lab"}:
        raise ValueError(f"{path}: exercises must map 'homework' and/or 'lab' to lists of labels")
    doc["title"] = _title(chapter)
    return doc


def _title(chapter: str) -> str:
    for md in sorted(repo_path("book", chapter).glob("*.md")):
        m = re.search(r"^# (.+)$", md.read_text(), flags=re.M)
        if m:
            return m.group(1).strip()
    return chapter


def _prerequisite(item: str) -> str:
    folder = repo_path("book", item)
    return f"{_title(item)} (`{item}`)" if folder.is_dir() else item


def header_markdown(chapter: str) -> str:
    """The chapter's opening box as Markdown: objectives, prerequisites and times."""
    c = load_course(chapter)
    lines = ["**After this chapter you can**", ""]
    lines += [f"- {o}" for o in c["objectives"]]
    lines += ["", "**Before it:** " + "; ".join(_prerequisite(p) for p in c["prerequisites"]) + ".", ""]
    lines += [f"**Time:** about {c['study_minutes']} minutes of study and exercises; the notebook "
              f"executes in about {c['execution_seconds']:.0f} s on two CPU cores."]
    return "\n".join(lines)


def header(chapter: str):
    """Display the chapter's opening box (a Markdown output cell in the notebook and the book)."""
    from IPython.display import Markdown

    return Markdown(header_markdown(chapter))


def exercise_names(chapter: str) -> dict[str, str]:
    """``{label: "Exercise N.k"}`` for the chapter's exercises, numbered as the book and the
    student edition number them (chapter number, then order in the chapter)."""
    from companion import student

    notebooks = set(student.chapter_notebooks(repo_path("book")))
    out: dict[str, str] = {}
    for md in sorted(repo_path("book", chapter).glob("*.md")):
        if md in notebooks:
            out.update({ex.label: f"Exercise {ex.number}" for ex in student.parse_chapter(md).exercises})
    return out


def _named_exercises(chapter: str, course: dict[str, Any]) -> dict[str, list[str]]:
    """The course file's homework and lab exercises of ``chapter`` by their book names."""
    names = exercise_names(chapter)
    unknown = [x for kind in course["exercises"].values() for x in kind if x not in names]
    if unknown:
        raise ValueError(f"book/{chapter}/course.yml lists exercises the chapter does not have: {unknown}; "
                         f"its exercises are {sorted(names)}")
    return {kind: [names[x] for x in course["exercises"].get(kind, [])] for kind in ("homework", "lab")}


def syllabus():
    """One row per chapter: title, prerequisites, objectives, study and execution time, exercises."""
    import pandas as pd

    rows = []
    for ch in chapters():
        c = load_course(ch)
        named = _named_exercises(ch, c)
        rows.append({"chapter": c["title"], "folder": ch,
                     "prerequisites": "; ".join(c["prerequisites"]),
                     "objectives": " ".join(f"({i}) {o}" for i, o in enumerate(c["objectives"], 1)),
                     "study (min)": c["study_minutes"], "runs (s)": c["execution_seconds"],
                     "homework": ", ".join(named["homework"]), "lab": ", ".join(named["lab"])})
    return pd.DataFrame(rows).set_index("chapter")


def term_plan(weeks: list[list[str]]):
    """One row per week of a course plan: its chapters (folder names), their study time and
    their homework and lab exercises, read from the course files."""
    import pandas as pd

    known = set(chapters())
    rows = []
    for week, folders in enumerate(weeks, 1):
        bad = [f for f in folders if f not in known]
        if bad:
            raise ValueError(f"week {week}: {bad} are not chapter folders; expected some of {sorted(known)}")
        courses = [load_course(f) for f in folders]
        named = [_named_exercises(f, c) for f, c in zip(folders, courses)]
        rows.append({"week": week, "chapters": "; ".join(c["title"] for c in courses),
                     "study (h)": round(sum(c["study_minutes"] for c in courses) / 60, 1),
                     "homework": ", ".join(x for n in named for x in n["homework"]),
                     "lab": ", ".join(x for n in named for x in n["lab"])})
    return pd.DataFrame(rows).set_index("week")


def set_execution_seconds(durations: dict[str, float], step: int = 5) -> dict[str, int]:
    """Write measured notebook times into the chapters' ``course.yml`` (rounded up to ``step`` s).

    ``durations`` maps notebook paths (``.../book/NN_topic/name.ipynb`` or ``.md``, as the root
    ``conftest.py`` writes them to ``_build/notebook_durations.json``) to seconds. Returns the new
    value per chapter folder; chapters without a measured time keep theirs.
    """
    known = set(chapters())
    new: dict[str, int] = {}
    for path, seconds in durations.items():
        folder = Path(path).parent.name
        if folder not in known:
            continue
        if not isinstance(seconds, (int, float)) or seconds <= 0:
            raise ValueError(f"{path}: a notebook time must be a positive number of seconds, got {seconds!r}")
        new[folder] = max(step, step * math.ceil(seconds / step))
    for folder, seconds in new.items():
        yml = repo_path("book", folder, "course.yml")
        text, n = re.subn(r"^execution_seconds:.*$", f"execution_seconds: {seconds}",
                          yml.read_text(), count=1, flags=re.M)
        if n != 1:
            raise ValueError(f"{yml} has no execution_seconds line")
        yml.write_text(text)
    return new


_README_ROW = re.compile(r"^(\|[^|\n]*\|\s*`book/(\d\d_[a-z_]+)`[ \t]*\|.*\|[ \t]*)~[\d.]+ s([ \t]*\|)[ \t]*$", re.M)


def readme_with_times(text: str) -> str:
    """``text`` (the README) with its chapter table's time column read from the course files.

    Raises ``ValueError`` when a chapter with a course file has no row in the table.
    """
    seen: set[str] = set()

    def sub(m: re.Match) -> str:
        seen.add(m.group(2))
        return f"{m.group(1)}~{load_course(m.group(2))['execution_seconds']:.0f} s{m.group(3)}"

    out = _README_ROW.sub(sub, text)
    missing = sorted(set(chapters()) - seen)
    if missing:
        raise ValueError(f"the README's chapter table has no row ending in '~N s |' for {missing}")
    return out
