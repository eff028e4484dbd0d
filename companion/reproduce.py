"""Rerun the recorded command of results files and compare the new summary with the old one.

    python -m companion.reproduce book/08_diffpool/results/*.json
    make reproduce CH=diffpool            # the same, for every results file of that chapter
    make results CH=diffpool              # rerun them and replace the book's files

Each file's ``command`` is rerun with ``--out`` pointing into a temporary folder (the book's
files are never touched), then the summaries are compared (timing rows skipped):

- bit for bit, when the committed run and the rerun are bit-comparable (both at the portable
  numerics baseline of ``import companion``, the same package versions:
  :func:`companion.results.bit_comparable`): every mean and std equal within the file's
  ``reproduce_tolerance`` (0 for a deterministic run) or ``--atol``, whichever is larger;
- otherwise (a file made before the policy, ``COMPANION_NUMERICS=native``, a CPU without AVX2,
  other package versions) row by row against the seed spread
  (:func:`companion.results.compare_within_spread`): the file reproduces when every row is
  identical or moved by no more than its seed spread, and the output says that this is a
  statistical verdict and why.

Exit status 1 when any file does not reproduce.
With ``--publish`` each command is rerun the same way and its output replaces the book's file of
the same name (a file keeps its name even when the CLI's default name for it would differ);
``--repeat K`` runs it K times and records the largest difference between the runs as the file's
``reproduce_tolerance`` (measured, never typed; 0 for a deterministic run).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from companion.cli import float_in, int_at_least, strip_output_flags
from companion.results import (bit_comparable, compare_summaries, compare_within_spread, load_results,
                               summary_lookup)

__all__ = ["rerun_argv", "reproduce_file", "measured_tolerance", "main"]


def rerun_argv(command: str, out_dir: Path) -> list[str]:
    """The argv that reruns ``command`` with this interpreter, writing into ``out_dir``.

    ``python -m companion.x ...`` and ``torchrun ... -m companion.x ...`` are understood; any
    other command is refused, since a results file must be rerunnable from the package alone.
    """
    words = shlex.split(command)
    if len(words) >= 3 and words[0] in ("python", "python3") and words[1] == "-m" \
            and words[2].startswith("companion."):
        argv = [sys.executable, "-m", *words[2:]]
    elif words and words[0] == "torchrun":
        argv = [sys.executable, "-m", "torch.distributed.run", *words[1:]]
    else:
        raise ValueError(f"cannot rerun {command!r}: expected 'python -m companion.<chapter> ...' "
                         "or 'torchrun ... -m companion.<chapter> ...'")
    return [*strip_output_flags(argv), "--out", str(out_dir)]


def _rerun_file(path: Path, out_dir: Path) -> Path | None:
    """The rerun's counterpart of ``path``: the same name, else the only file the rerun wrote."""
    if (out_dir / path.name).is_file():
        return out_dir / path.name
    candidates = sorted(out_dir.glob("*.json"))
    return candidates[0] if len(candidates) == 1 else None


def _missing(path: Path, out_dir: Path) -> list[str]:
    found = [c.name for c in sorted(out_dir.glob("*.json"))] or "nothing"
    return [f"expected the rerun to write {path.name} into {out_dir}, found {found}"]


def _compare(path: Path, committed: dict, out_dir: Path, atol: float) -> list[str]:
    new = _rerun_file(path, out_dir)
    if new is None:
        return _missing(path, out_dir)
    rerun = load_results(new)
    exact, why = bit_comparable(committed, rerun)
    if exact:
        tolerance = max(atol, float(committed.get("reproduce_tolerance", 0.0)))
        print(f"  bit for bit (tolerance {tolerance:g}): {why}", flush=True)
        return compare_summaries(committed, rerun, atol=tolerance)
    rows = compare_within_spread(committed, rerun)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    print(f"  statistical verdict, not bit for bit: {why}\n  rows: "
          + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())), flush=True)
    for r in rows:
        if r["verdict"] == "within the seed spread":
            print(f"    within the spread: {r['row']}: {r['detail']}", flush=True)
    return [f"{r['row']}: {r['verdict']}: {r['detail']}" for r in rows
            if r["verdict"] not in ("identical", "within the seed spread")]


def reproduce_file(path: str | Path, work: Path, atol: float = 0.0, timeout: float | None = None,
                   _ran: dict[str, Path] | None = None) -> list[str]:
    """Rerun one results file's command into ``work``; return the differences (empty: reproduced).

    ``_ran`` maps commands already rerun to their output folders, so files written by one
    command (a CLI that writes several files) share one rerun.
    """
    path = Path(path)
    committed = load_results(path)
    command = committed["command"]
    if _ran is not None and command in _ran:
        return _compare(path, committed, _ran[command], atol)
    out_dir = work / f"{len(_ran or {}):02d}-{path.stem}"
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"$ {command}  # -> {out_dir}", flush=True)
    code = subprocess.run(rerun_argv(command, out_dir), timeout=timeout).returncode
    if code != 0:
        return [f"the command exited with status {code}"]
    if _ran is not None:
        _ran[command] = out_dir
    return _compare(path, committed, out_dir, atol)


def measured_tolerance(runs: Sequence[dict]) -> float:
    """The largest difference of any non-timing mean or std between repeated runs of one command."""
    worst = 0.0
    for other in runs[1:]:
        for line in compare_summaries(runs[0], other):
            if "|diff|" not in line:  # a row on one side only, or another n: no tolerance covers it
                raise ValueError(f"repeated runs disagree beyond numbers: {line}")
        old, new = summary_lookup(runs[0]), summary_lookup(other)
        for key, row in old.items():
            if not row.get("timing"):
                for field in ("mean", "std"):
                    if row.get(field) is not None and new[key].get(field) is not None:
                        worst = max(worst, abs(float(row[field]) - float(new[key][field])))
    return worst


def _publish(files: Sequence[str], timeout: float | None, repeat: int = 1) -> int:
    """Rerun each command into a temporary folder, then move each output onto its file.

    With ``repeat`` > 1 each command runs that many times, and each published file's
    ``reproduce_tolerance`` is the largest difference measured between the runs (0 when they
    agree to the last bit), recorded with ``tolerance_measured``.
    """
    with tempfile.TemporaryDirectory(prefix="publish-") as tmp:
        ran: dict[str, list[Path]] = {}
        for f in map(Path, files):
            command = load_results(f)["command"]
            if command not in ran:
                ran[command] = []
                for i in range(repeat):
                    out = Path(tmp) / f"{len(ran):02d}-{i}"
                    out.mkdir()
                    print(f"$ {command}" + (f"  # run {i + 1} of {repeat}" if repeat > 1 else ""), flush=True)
                    code = subprocess.run(rerun_argv(command, out), timeout=timeout).returncode
                    if code != 0:
                        print(f"FAILED (exit status {code}): {command}")
                        return 1
                    ran[command].append(out)
            news = [_rerun_file(f, out) for out in ran[command]]
            if any(n is None for n in news):
                print(_missing(f, ran[command][0])[0])
                return 1
            staged = f.with_name(f".{f.name}.new")
            if repeat > 1:
                payload = load_results(news[0])
                try:
                    tolerance = measured_tolerance([payload, *map(load_results, news[1:])])
                except ValueError as e:
                    print(f"FAILED: {f}: {e}")
                    return 1
                payload["reproduce_tolerance"] = tolerance
                payload["tolerance_measured"] = {"runs": repeat, "max_difference": tolerance}
                staged.write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n")
                print(f"  measured tolerance over {repeat} runs: {tolerance:g}", flush=True)
            else:
                shutil.copyfile(news[0], staged)
            os.replace(staged, f)  # atomic: a reader never sees half a file
            print(f"published {f}", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m companion.reproduce", description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", help="results files (book/NN_topic/results/*.json)")
    p.add_argument("--atol", type=float_in(0, float("inf")), default=0.0,
                   help="absolute tolerance on every mean and std (the file's own tolerance if larger)")
    p.add_argument("--keep", default=None, help="folder for the rerun files (default: a temporary one)")
    p.add_argument("--timeout", type=float_in(0, float("inf"), low_open=True), default=None,
                   help="seconds each rerun may take")
    p.add_argument("--publish", action="store_true",
                   help="replace each file by its rerun (regenerates the book's files; no comparison)")
    p.add_argument("--repeat", type=int_at_least(1), default=1,
                   help="with --publish: run each command this many times and record the largest "
                        "difference between the runs as the file's reproduce_tolerance (default: 1)")
    args = p.parse_args(argv)
    if args.repeat > 1 and not args.publish:
        p.error("--repeat measures a tolerance for --publish; without --publish it does nothing")
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        p.error(f"no such results file: {', '.join(missing)}")
    for f in args.files:  # every file must be readable before the first (long) rerun starts
        try:
            load_results(f)
        except ValueError as e:
            p.error(str(e))
    if args.publish:
        return _publish(args.files, args.timeout, args.repeat)
    failed, ran = 0, {}
    with tempfile.TemporaryDirectory(prefix="reproduce-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        for f in args.files:
            problems = reproduce_file(f, work, atol=args.atol, timeout=args.timeout, _ran=ran)
            if problems:
                failed += 1
                print(f"NOT REPRODUCED {f}:\n  " + "\n  ".join(problems), flush=True)
            else:
                print(f"reproduced {f}", flush=True)
    print(f"{len(args.files) - failed}/{len(args.files)} results files reproduced")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
