"""Root pytest plugin: prints each chapter notebook's total execution time under nbval.

nbval reports one test per cell; readers and the 150 s budget care about whole notebooks.
"""

from __future__ import annotations

from collections import defaultdict

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
