"""How long does grading a class take, one submission at a time and with ``-j N``?

Makes ``--students`` submissions of one chapter (its student edition with every answer cell
filled in from the reference solution, the check lines left out), then grades them all with
:func:`companion.grade.grade` once per ``--jobs`` value and prints, for each, the wall time,
the wall time per submission, and the median time of one submission (a submission's own time
grows when several run beside each other on few cores).

    .venv/bin/python tools/bench_grade.py                          # 30 x 00_getting_started, -j 1 and 2
    .venv/bin/python tools/bench_grade.py --chapter 10_carried --students 10 --jobs 1 2 4

Every run must give full marks to every submission (the script exits 1 otherwise), so a fast
time cannot come from a grader that skipped the work.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from companion import grade, student
from companion.utils import repo_path


def answers(chapter: student.Chapter) -> dict[str, str]:
    """``{"<label>-answer": source}``: each exercise's solution code without its check lines."""
    out = {}
    for ex in chapter.exercises:
        kept = []
        for source in ex.solution_code:
            text = student._parseable(source)
            lines = text.split("\n")
            for node in ast.parse(text).body:
                if not student._check_calls(node):
                    kept.append("\n".join(lines[node.lineno - 1:node.end_lineno]))
        out[f"{ex.label}-answer"] = "\n\n".join(kept)
    return out


def make_class(folder: str, n: int, root: Path, book: Path | None = None) -> list[Path]:
    """``n`` filled-in copies of chapter ``folder``'s student notebook (of ``book``) under ``root``."""
    notebooks = student.chapter_notebooks(book)
    path = next((p for p in notebooks if p.parent.name == folder), None)
    if path is None:
        raise SystemExit(f"no chapter {folder!r}; chapters are {[p.parent.name for p in notebooks]}")
    report = student.build(root / "edition", book=book, chapters=[folder], html=False)[folder]
    filled = answers(student.parse_chapter(path))
    nb = nbformat.read(report["ipynb"], as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if gid in filled:
            cell.source = filled[gid]
    subs = []
    for k in range(n):
        sub = root / "submissions" / f"student{k:02d}.ipynb"
        sub.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(sub))
        subs.append(sub)
    return subs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapter", default="00_getting_started", help="chapter folder (default 00_getting_started)")
    parser.add_argument("--students", type=int, default=30, help="submissions to grade (default 30)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="-j values to time (default 1 2)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per cell (default 120)")
    parser.add_argument("--out", default=None, help="also write the timings as JSON to this file")
    args = parser.parse_args(argv)
    if args.students < 1 or any(j < 1 for j in args.jobs):
        parser.error("--students and every --jobs value must be >= 1")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_grade_") as tmp:
        subs = make_class(args.chapter, args.students, Path(tmp))
        for jobs in args.jobs:
            each: list[float] = []
            start = time.perf_counter()
            rows = grade.grade(subs, chapter=args.chapter, timeout=args.timeout, jobs=jobs,
                               on_graded=lambda path, rows, seconds: each.append(seconds))
            wall = time.perf_counter() - start
            if not all(r.passed for r in rows):
                bad = next(r for r in rows if not r.passed)
                print(f"-j {jobs}: {bad.student} {bad.label} did not pass: {bad.message or bad.error}", file=sys.stderr)
                return 1
            results.append({"jobs": jobs, "submissions": len(subs), "wall_s": round(wall, 1),
                            "per_submission_s": round(wall / len(subs), 2),
                            "median_one_submission_s": round(statistics.median(each), 2)})
            print(f"-j {jobs}: {len(subs)} submissions in {wall:.1f} s ({wall / len(subs):.2f} s each; "
                  f"one submission takes {statistics.median(each):.1f} s, median)", flush=True)
    if args.out:
        meta = {"chapter": args.chapter, "cpus": os.cpu_count(), "load_average": os.getloadavg(),
                "repo": str(repo_path())}
        Path(args.out).write_text(json.dumps({**meta, "runs": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
