"""Results files: what a chapter CLI writes under ``book/NN_topic/results/`` and the notebook reads."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from companion.utils import machine_info, package_versions


def save_results(
    path: str | Path,
    rows: list[dict[str, Any]],
    *,
    seeds: Iterable[int],
    command: str | None = None,
    wall_seconds: float | None = None,
    packages: Iterable[str] = ("torch", "numpy", "torch-geometric", "scikit-learn"),
    **extra: Any,
) -> Path:
    """Write ``rows`` (one dict per table row) with the provenance DEVELOPERS.md asks for.

    The file records the command (default: the current ``sys.argv``), the seeds, package
    versions, the machine, the wall time and the date, so a reader can rerun it.
    """
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError("rows must be a list of dicts, one per table row")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "command": command if command is not None else "python -m " + " ".join(sys.argv),
        "seeds": [int(s) for s in seeds],
        "packages": package_versions(packages),
        "machine": machine_info(),
        "wall_seconds": wall_seconds,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        **extra,
        "rows": rows,
    }
    path.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    return path


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results file written by :func:`save_results`; a clear error if it is missing."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no results file at {path}: run the chapter's CLI to create it")
    payload = json.loads(path.read_text())
    if "rows" not in payload:
        raise ValueError(f"{path} has no 'rows': not a results file written by save_results")
    return payload
