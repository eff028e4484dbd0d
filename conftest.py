"""Root pytest plugin: prints each chapter notebook's total execution time under nbval and
writes them to ``_build/notebook_durations.json`` (``tools/sync_times.py`` copies them into the
chapters' ``course.yml``, the one place the syllabus, the chapter headers and the README read).

nbval reports one test per cell; readers and the 150 s budget care about whole notebooks.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

NOTEBOOK_BUDGET_S = 150.0


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    per_notebook: dict[str, float] = defaultdict(float)
    for reports in terminalreporter.stats.values():
        for rep in reports:
            path = getattr(rep, "nodeid", "").split("::")[0]
            if path.endswith(".ipynb") and getattr(rep, "when", None) == "call":
                per_notebook[path] += rep.duration
    if not per_notebook:
        return
    terminalreporter.section("notebook durations")
    for path, seconds in sorted(per_notebook.items(), key=lambda kv: -kv[1]):
        flag = "  OVER BUDGET" if seconds > NOTEBOOK_BUDGET_S else ""
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}{flag}")
    out = Path(str(config.rootpath)) / "_build" / "notebook_durations.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    # merged, so that a run of a few notebooks keeps the others' last times
    times = json.loads(out.read_text()) if out.is_file() else {}
    times.update({p: round(s, 1) for p, s in per_notebook.items()})
    out.write_text(json.dumps(dict(sorted(times.items())), indent=1) + "\n")
