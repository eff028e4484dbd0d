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

import re
from typing import Any

from companion.utils import repo_path

__all__ = ["load_course", "header", "header_markdown", "syllabus", "chapters"]

REQUIRED = ("objectives", "prerequisites", "study_minutes", "execution_seconds", "exercises")


def chapters() -> list[str]:
    """Chapter folders that have a course file, in folder order."""
    return sorted(p.parent.name for p in repo_path("book").glob("*/course.yml"))


def load_course(chapter: str) -> dict[str, Any]:
    """``book/<chapter>/course.yml``, checked: every field present and of the right kind."""
    import yaml

    path = repo_path("book", chapter, "course.yml")
    if not path.is_file():
        raise FileNotFoundError(f"no course file at {path}")
    doc = yaml.safe_load(path.read_text()) or {}
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


def syllabus():
    """One row per chapter: title, prerequisites, objectives, study and execution time, exercises."""
    import pandas as pd

    rows = []
    for ch in chapters():
        c = load_course(ch)
        rows.append({"chapter": c["title"], "folder": ch,
                     "prerequisites": "; ".join(c["prerequisites"]),
                     "objectives": " ".join(f"({i}) {o}" for i, o in enumerate(c["objectives"], 1)),
                     "study (min)": c["study_minutes"], "runs (s)": c["execution_seconds"],
                     "homework": ", ".join(c["exercises"].get("homework", [])),
                     "lab": ", ".join(c["exercises"].get("lab", []))})
    return pd.DataFrame(rows)
