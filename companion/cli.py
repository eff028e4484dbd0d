"""What every chapter CLI shares: seeds, threads, output path, progress, and argument checks.

A chapter's ``__main__`` builds its parser with :func:`chapter_parser`, adds its own flags with
the checked types below (so ``--epochs 0`` fails at once, naming the flag and the accepted range),
then calls :func:`start_run` *before any work*: it validates the output path (an unwritable
``--out`` fails now, not after an hour of training), applies the thread policy and the progress
switch, and returns a :class:`Run` that knows where to write and what command reruns the file.

Output goes under ``./results/`` of the current directory by default, or to ``--out`` (a folder,
or a ``.json`` path for a CLI that writes one file). Only ``--publish`` (used by
``make results CH=...``) writes the book's own ``book/NN_topic/results/``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from companion.results import SeedCheckpoint
from companion.utils import REPO_ROOT

__all__ = ["int_at_least", "float_in", "int_list", "float_list", "str_list", "chapter_parser",
           "start_run", "Run", "recorded_command", "strip_output_flags"]


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low`` (argparse prefixes the flag's name to the error)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
        return value
    parse.__name__ = f"integer >= {low}"
    return parse


def float_in(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite float in ``[low, high]`` (ends open where asked)."""
    lo, hi = "(" if low_open else "[", ")" if high_open else "]"
    span = f"{lo}{low:g}, {high:g}{hi}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number in {span}, got {text!r}") from None
        ok = value == value and (value > low if low_open else value >= low) and \
            (value < high if high_open else value <= high)
        if not ok:
            raise argparse.ArgumentTypeError(f"expected a number in {span}, got {value:g}")
        return value
    parse.__name__ = f"number in {span}"
    return parse


def _list_of(item: Callable[[str], Any], what: str) -> Callable[[str], list]:
    def parse(text: str) -> list:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {what}, got {text!r}")
        return [item(p) for p in parts]
    parse.__name__ = f"list of {what}"
    return parse


def int_list(low: int = 0) -> Callable[[str], list[int]]:
    """An argparse type: ``"1,2,4"`` -> ``[1, 2, 4]``, each an integer >= ``low``."""
    return _list_of(int_at_least(low), f"integers >= {low}")


def float_list(low: float, high: float) -> Callable[[str], list[float]]:
    """An argparse type: ``"0,0.5"`` -> ``[0.0, 0.5]``, each in ``[low, high]``."""
    return _list_of(float_in(low, high), f"numbers in [{low:g}, {high:g}]")


def str_list(choices: Sequence[str] | None = None) -> Callable[[str], list[str]]:
    """An argparse type: ``"a,b"`` -> ``["a", "b"]``, each among ``choices`` when given."""
    def item(text: str) -> str:
        if choices is not None and text not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return text
    return _list_of(item, "names" if choices is None else f"names from {{{', '.join(choices)}}}")


def chapter_parser(
    prog: str,
    description: str,
    *,
    seeds: Sequence[int] | None = (0,),
    threads: int = 1,
) -> argparse.ArgumentParser:
    """A parser with the flags every chapter CLI shares.

    ``--seeds 0 1 2`` (omitted where ``seeds`` is None), ``--threads`` (torch, BLAS and OpenMP
    threads; default ``threads``), ``--out`` (folder or ``.json`` path; default ``./results``),
    ``--publish`` (write the book's results folder) and ``--no-progress``.
    """
    # allow_abbrev=False: `--seed 3` must not silently become `--seeds 3` and start a long run
    p = argparse.ArgumentParser(prog=prog, description=description, allow_abbrev=False,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    g = p.add_argument_group("run")
    if seeds is not None:
        g.add_argument("--seeds", type=int_at_least(0), nargs="+", default=list(seeds),
                       help="seeds to run (results are aggregated over them)")
    g.add_argument("--threads", type=int_at_least(1), default=threads,
                   help="torch / BLAS / OpenMP threads for this run")
    g.add_argument("--out", default=None,
                   help="output folder, or a .json file for a CLI that writes one file "
                        "(default: ./results under the current directory)")
    g.add_argument("--publish", action="store_true",
                   help="write the book's own results folder (what `make results CH=...` does)")
    g.add_argument("--no-progress", action="store_true", help="no progress bars (logs, CI)")
    return p


def strip_output_flags(argv: Sequence[str]) -> list[str]:
    """``argv`` without ``--out X`` / ``--out=X`` / ``--publish`` / ``--no-progress``: the flags
    that change where and how a run reports, not what it measures."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--out":
            skip = True
        elif arg.startswith("--out=") or arg in ("--publish", "--no-progress"):
            continue
        else:
            out.append(arg)
    return out


def recorded_command(module: str, argv: Sequence[str] | None = None) -> str:
    """The command recorded in a results file: ``python -m <module> ARGS`` without output flags."""
    argv = list(sys.argv[1:] if argv is None else argv)
    return shlex.join(["python", "-m", module, *strip_output_flags(argv)])


def _book_results_dir(chapter: str) -> Path:
    book = REPO_ROOT / "book"
    if not (REPO_ROOT / "_toc.yml").is_file() or not book.is_dir():
        raise ValueError("--publish writes book/<chapter>/results/ and needs the book's source checkout; "
                         f"this companion is installed at {REPO_ROOT} without one: use --out instead")
    return book / chapter / "results"


def _check_writable(folder: Path, flag: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise ValueError(f"{flag}: cannot write into {folder} ({e.strerror or e})") from None


@dataclass
class Run:
    """A started CLI run: where its files go, the command that reruns them, and its clocks."""

    module: str
    out_dir: Path
    out_file: Path | None
    command: str
    seeds: list[int] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    cpu_started: float = field(default_factory=time.process_time)

    def path(self, filename: str) -> Path:
        """Where the file ``filename`` goes (an explicit ``--out x.json`` wins for a one-file CLI)."""
        return self.out_file if self.out_file is not None else self.out_dir / filename

    def checkpoint(self, filename: str) -> SeedCheckpoint:
        """A per-seed checkpoint beside ``self.path(filename)`` (see :class:`companion.results.SeedCheckpoint`)."""
        return SeedCheckpoint(self.path(filename), self.command)

    @property
    def wall_seconds(self) -> float:
        return time.perf_counter() - self.started

    @property
    def cpu_seconds(self) -> float:
        return time.process_time() - self.cpu_started


def start_run(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    *,
    module: str,
    chapter: str,
    argv: Sequence[str] | None = None,
    one_file: bool = True,
    apply_threads: bool = True,
) -> Run:
    """Validate the output path, apply threads and progress, and return the :class:`Run`.

    Errors go through ``parser.error`` (exit status 2, the flag named) before any work starts.
    ``one_file=False`` is for CLIs that write several files: ``--out`` must then be a folder.
    """
    out = getattr(args, "out", None)
    try:
        if getattr(args, "publish", False):
            if out is not None:
                raise ValueError("--publish and --out are exclusive: --publish writes the book's folder")
            out_dir, out_file = _book_results_dir(chapter), None
        elif out is not None and out.endswith(".json"):
            if not one_file:
                raise ValueError(f"--out {out}: this CLI writes several files; give a folder")
            out_file = Path(out).expanduser().resolve()
            out_dir = out_file.parent
        else:
            out_dir, out_file = Path(out or "results").expanduser().resolve(), None
        _check_writable(out_dir, "--publish" if getattr(args, "publish", False) else "--out")
    except ValueError as e:
        parser.error(str(e))
    if getattr(args, "no_progress", False):
        os.environ["COMPANION_NO_PROGRESS"] = "1"
    if apply_threads and getattr(args, "threads", None) is not None:
        from companion.utils import set_threads  # the one thread policy of the package

        set_threads(args.threads)
    seeds = list(getattr(args, "seeds", None) or [])
    return Run(module=module, out_dir=out_dir, out_file=out_file,
               command=recorded_command(module, argv), seeds=seeds)
