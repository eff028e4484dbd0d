"""Rerun the recorded command of results files and compare the new summary with the old one.

    python -m companion.reproduce book/08_diffpool/results/*.json
    make reproduce CH=diffpool            # the same, for every results file of that chapter

Each file's ``command`` is rerun with ``--out`` pointing into a temporary folder (the book's
files are never touched), then :func:`companion.results.compare_summaries` checks every summary
row: equal within the file's ``reproduce_tolerance`` (0 for a deterministic run) or ``--atol``,
whichever is larger. Timing rows are skipped. Exit status 1 when any file does not reproduce.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from companion.cli import float_in, strip_output_flags
from companion.results import compare_summaries, load_results

__all__ = ["rerun_argv", "reproduce_file", "main"]


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


def reproduce_file(path: str | Path, work: Path, atol: float = 0.0, timeout: float | None = None) -> list[str]:
    """Rerun one results file's command into ``work``; return the differences (empty: reproduced)."""
    path = Path(path)
    committed = load_results(path)
    out_dir = work / path.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = rerun_argv(committed["command"], out_dir)
    print(f"$ {committed['command']}  # -> {out_dir}", flush=True)
    proc = subprocess.run(argv, timeout=timeout)
    if proc.returncode != 0:
        return [f"the command exited with status {proc.returncode}"]
    candidates = [out_dir / path.name] if (out_dir / path.name).is_file() else sorted(out_dir.glob("*.json"))
    if len(candidates) != 1:
        return [f"expected the rerun to write {path.name} into {out_dir}, found "
                f"{[c.name for c in candidates] or 'nothing'}"]
    tolerance = max(atol, float(committed.get("reproduce_tolerance", 0.0)))
    return compare_summaries(committed, load_results(candidates[0]), atol=tolerance)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m companion.reproduce", description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", help="results files (book/NN_topic/results/*.json)")
    p.add_argument("--atol", type=float_in(0, float("inf")), default=0.0,
                   help="absolute tolerance on every mean and std (the file's own tolerance if larger)")
    p.add_argument("--keep", default=None, help="folder for the rerun files (default: a temporary one)")
    p.add_argument("--timeout", type=float_in(0, float("inf"), low_open=True), default=None,
                   help="seconds each rerun may take")
    args = p.parse_args(argv)
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        p.error(f"no such results file: {', '.join(missing)}")
    for f in args.files:  # every file must be readable before the first (long) rerun starts
        try:
            load_results(f)
        except ValueError as e:
            p.error(str(e))
    failed = 0
    with tempfile.TemporaryDirectory(prefix="reproduce-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        for f in args.files:
            problems = reproduce_file(f, work, atol=args.atol, timeout=args.timeout)
            if problems:
                failed += 1
                print(f"NOT REPRODUCED {f}:\n  " + "\n  ".join(problems), flush=True)
            else:
                print(f"reproduced {f}", flush=True)
    print(f"{len(args.files) - failed}/{len(args.files)} results files reproduced")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
