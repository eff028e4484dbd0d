"""Recompute the summary spread of results files from their rows: the sample standard deviation.

    python tools/recompute_summaries.py book/*/results/*.json
    python tools/recompute_summaries.py --check book/*/results/*.json   # report only, write nothing

Files written before ``companion.results.summarize`` took the sample standard deviation (ddof=1)
hold the population one (ddof=0), about 18 % smaller at three seeds, and 0 for a single seed.
This tool recomputes every summary ``std`` from the file's own ``rows`` with the formula
``summarize`` uses now (:func:`companion.results.sample_std`: ddof=1, ``null`` for one seed), so
that a recomputed file holds the bits a rerun of its command writes. Nothing is rerun.

Every summary row must come out of the rows: the rows of its (setting, method) must give its
``n`` values and *exactly* its ``mean``, and its stored ``std`` must be the population or the
sample standard deviation of those values. A file where any row fails is refused, with every
reason, and left untouched; the exit status is then 1. Nothing is guessed.

Everything but the ``std`` values stays byte-identical, with two additions: a ``spread_note``
(before ``summary``) saying when and how the spread was recomputed, and, only in a file whose
``reproduce_tolerance`` is above 0 and covers stds of two or more seeds, that tolerance scaled by
``sqrt(n / (n - 1))`` (a difference between two runs' stds grows by that factor), which the note
states. A file whose stds are already the sample ones is not touched, so a second run changes
nothing. A file must be in the book's JSON layout (``companion.results._write_json``), or
rewriting it would change more than its stds: such a file is refused too.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # this checkout's companion, not whichever one is installed
    sys.path.insert(0, str(ROOT))

from companion.results import _setting_key, _write_json, load_results, sample_std  # noqa: E402

NOTE_KEY = "spread_note"
# relative slack for recognising a stored std that numpy (not our formula) computed
STD_RTOL = 1e-9


@dataclass
class Outcome:
    """What recomputing one file found: the stds that moved, or why the file is refused."""

    path: Path
    changed: int = 0
    problems: list[str] = field(default_factory=list)
    tolerance: tuple[float, float] | None = None  # (old, new) where the tolerance was scaled

    @property
    def refused(self) -> bool:
        return bool(self.problems)


def _layout(payload: Any) -> str:
    """The text ``companion.results._write_json`` writes for ``payload``."""
    return json.dumps(payload, indent=1, allow_nan=False) + "\n"


def _close(x: float, y: float) -> bool:
    return abs(x - y) <= STD_RTOL * max(abs(x), abs(y)) + 1e-300


def _population_std(values: list[float], mean: float) -> float:
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def recompute(payload: dict[str, Any], today: str) -> tuple[dict[str, Any], Outcome]:
    """``payload`` with every summary std recomputed from its rows (a new dict), and what moved.

    The outcome lists a problem for every summary row the rows cannot give; the returned payload
    is then meaningless and must not be written.
    """
    outcome = Outcome(path=Path())
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for i, row in enumerate(payload["rows"]):
        if not isinstance(row, dict) or "method" not in row:
            outcome.problems.append(f"rows[{i}] is not a row with a 'method'")
            continue
        groups.setdefault((_setting_key(row.get("setting", "")), str(row["method"])), []).append(row)
    summary = []
    worst_factor = 1.0
    for i, srow in enumerate(payload["summary"]):
        where = (_setting_key(srow.get("setting", "")), str(srow.get("method")), str(srow.get("metric")))
        label = f"summary[{i}] ({'/'.join(w for w in where if w)})"
        group = groups.get((_setting_key(srow.get("setting", "")), str(srow.get("method"))))
        if group is None:
            outcome.problems.append(f"{label}: no rows of this setting and method")
            summary.append(srow)
            continue
        values = [float(r[srow["metric"]]) for r in group if r.get(srow["metric"]) is not None]
        if len(values) != srow["n"]:
            outcome.problems.append(f"{label}: the rows hold {len(values)} values, the summary says n={srow['n']}")
            summary.append(srow)
            continue
        mean = sum(values) / len(values)
        if mean != srow["mean"]:
            outcome.problems.append(f"{label}: the rows' mean {mean!r} is not the stored mean {srow['mean']!r}")
            summary.append(srow)
            continue
        new, old = sample_std(values, mean), srow.get("std")
        if old is None and new is not None:
            outcome.problems.append(f"{label}: stored std is null over {len(values)} values")
        elif old is not None and not (_close(float(old), _population_std(values, mean))
                                      or (new is not None and _close(float(old), new))):
            outcome.problems.append(f"{label}: stored std {old!r} is neither the population "
                                    f"({_population_std(values, mean)!r}) nor the sample std ({new!r}) of the rows")
        if new != old:
            outcome.changed += 1
            if new is not None:
                worst_factor = max(worst_factor, math.sqrt(len(values) / (len(values) - 1)))
        summary.append({**srow, "std": new})
    if outcome.problems or not outcome.changed:
        return payload, outcome
    out: dict[str, Any] = {}
    tolerance = float(payload.get("reproduce_tolerance", 0.0) or 0.0)
    note = (f"summary std recomputed on {today} from this file's rows as the sample standard deviation "
            f"(ddof=1, null for one seed) by tools/recompute_summaries.py; rows and means unchanged")
    if tolerance > 0 and worst_factor > 1.0:
        outcome.tolerance = (tolerance, tolerance * worst_factor)
        note += (f"; reproduce_tolerance {tolerance!r} scaled by sqrt(n/(n-1)) = {worst_factor:.6g} "
                 f"to {tolerance * worst_factor!r}, as stds of two runs now differ by that factor more")
    for key, value in payload.items():
        if key == "summary":
            out[NOTE_KEY] = note
        if key == NOTE_KEY:
            continue  # an older note is replaced (at the place of the summary)
        out[key] = summary if key == "summary" else value
    if outcome.tolerance is not None:
        out["reproduce_tolerance"] = outcome.tolerance[1]
    return out, outcome


def _unchanged_but_spread(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether ``new`` differs from ``old`` only in summary stds, the note and the tolerance."""
    strip = lambda p: {k: ([{**r, "std": None} for r in v] if k == "summary" else v)  # noqa: E731
                       for k, v in p.items() if k not in (NOTE_KEY, "reproduce_tolerance")}
    return strip(old) == strip(new)


def recompute_file(path: str | Path, *, today: str | None = None, write: bool = True) -> Outcome:
    """Recompute one results file's stds in place (``write=False``: only say what would change)."""
    path = Path(path)
    today = today or time.strftime("%Y-%m-%d")
    try:
        payload = load_results(path)  # strict JSON with a valid summary, or a ValueError naming the file
    except (OSError, ValueError) as e:
        return Outcome(path=path, problems=[str(e)])
    text = path.read_text()
    if _layout(payload) != text:
        return Outcome(path=path, problems=["not in the layout of companion.results._write_json "
                                            "(json.dumps indent=1): rewriting it would change more than its stds"])
    new, outcome = recompute(payload, today)
    outcome.path = path
    if outcome.refused or not outcome.changed:
        return outcome
    if not _unchanged_but_spread(payload, new):  # a guard on this tool itself
        raise AssertionError(f"{path}: recomputing changed more than the stds")
    if write:
        _write_json(path, new)
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/recompute_summaries.py",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", help="results files (book/NN_topic/results/*.json)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if a file would change or is refused")
    args = p.parse_args(argv)
    refused = would_change = 0
    for f in args.files:
        outcome = recompute_file(f, write=not args.check)
        if outcome.refused:
            refused += 1
            print(f"REFUSED {f}: left untouched:\n  " + "\n  ".join(outcome.problems))
        elif outcome.changed:
            would_change += 1
            extra = (f"; reproduce_tolerance {outcome.tolerance[0]:g} -> {outcome.tolerance[1]:g}"
                     if outcome.tolerance else "")
            print(f"{'would recompute' if args.check else 'recomputed'} {f}: {outcome.changed} std(s){extra}")
        else:
            print(f"unchanged {f}: its stds are already the sample ones")
    print(f"{len(args.files)} file(s): {would_change} {'to recompute' if args.check else 'recomputed'}, "
          f"{refused} refused, {len(args.files) - would_change - refused} unchanged")
    return 1 if refused or (args.check and would_change) else 0


if __name__ == "__main__":
    sys.exit(main())
