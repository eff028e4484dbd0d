"""How much slower does each chapter notebook run on a busy machine?

Each notebook (a MyST file under book/ with a jupytext ``kernelspec``) is converted with jupytext
into a temporary folder and executed with nbclient from its own folder, twice: on an idle machine,
then beside ``--load-procs`` CPU-bound background processes at nice 19. OpenMP and OpenBLAS worker
threads that spin on busy cores turn a 19 s notebook into a 6 min one; this measures whether the
package's thread policy (``import companion``) prevents that.

    .venv/bin/python tools/bench_load.py                       # every notebook, about 20 min
    .venv/bin/python tools/bench_load.py --notebooks alinet getting_started

Prints a table (notebook, idle s, loaded s, ratio) and writes it as JSON to ``--out``. The script
does not import ``companion``: the notebooks' kernels get this process's environment unchanged
(the thread variables it had are recorded in the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
THREAD_VARS = ("COMPANION_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
BUSY_LOOP = "while True: pass"


def chapter_notebooks() -> list[Path]:
    """The MyST files under book/ that carry a jupytext kernelspec (as the Makefile finds them)."""
    return sorted(p for p in (REPO / "book").rglob("*.md")
                  if any(line.startswith("kernelspec:") for line in p.read_text().splitlines()))


def to_ipynb(md: Path, folder: Path) -> Path:
    out = folder / (md.stem + ".ipynb")
    subprocess.run([str(BIN / "jupytext"), "--quiet", "--to", "ipynb", "-o", str(out), str(md)], check=True)
    return out


def execute(ipynb: Path, cwd: Path, timeout: int) -> tuple[float | None, str | None]:
    """Run the notebook with cwd = ``cwd`` in a child process; (wall seconds, None or the error's line).

    A child process, because nbclient takes over SIGINT/SIGTERM while it runs (to shut its kernel
    down): this process keeps its own handlers, and on Ctrl-C stops the load, then the child.
    """
    runner = subprocess.Popen([sys.executable, __file__, "--execute-one", str(ipynb), str(cwd), str(timeout)],
                              stdout=subprocess.PIPE, text=True)
    _RUNNERS.append(runner)
    try:
        out, _ = runner.communicate()
    finally:
        _RUNNERS.remove(runner)
        if runner.poll() is None:  # interrupted: the child shuts its kernel down on SIGTERM
            runner.terminate()
            try:
                runner.wait(timeout=60)
            except subprocess.TimeoutExpired:
                runner.kill()
    if _STOPPED:
        raise KeyboardInterrupt
    lines = out.strip().splitlines()
    if runner.returncode != 0 or not lines:
        return None, f"runner exited with status {runner.returncode}"
    res = json.loads(lines[-1])
    return res["seconds"], res["error"]


def _execute_one(ipynb: str, cwd: str, timeout: str) -> None:
    """The child's side of :func:`execute`: run with nbclient, print one JSON line."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ipynb, as_version=4)
    client = NotebookClient(nb, timeout=int(timeout), resources={"metadata": {"path": cwd}},
                            kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"))
    start = time.perf_counter()
    try:
        client.execute()
        error = None
    except Exception as e:  # a failing cell: keep the time (up to the error), report it, go on
        lines = str(e).strip().splitlines()
        error = f"{type(e).__name__}: {lines[-1] if lines else ''}"[:300]
    print(json.dumps({"seconds": time.perf_counter() - start, "error": error}), flush=True)


_RUNNERS: list[subprocess.Popen] = []
_LOADS: list["Load"] = []


class Load:
    """``n`` busy-looping Python processes at nice 19, killed on exit (also on Ctrl-C)."""

    def __init__(self, n: int):
        self.n = n
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Load":
        _LOADS.append(self)
        for _ in range(self.n):
            self.procs.append(subprocess.Popen(["nice", "-n", "19", sys.executable, "-c", BUSY_LOOP],
                                               start_new_session=True))
        return self

    def __exit__(self, *exc) -> None:
        self.kill()
        if self in _LOADS:
            _LOADS.remove(self)

    def kill(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait()
        self.procs.clear()


_STOPPED = False


def _stop(signum, frame):
    # Ctrl-C or SIGTERM: stop the load and the running notebook, write what was measured
    global _STOPPED
    _STOPPED = True
    for load in list(_LOADS):  # first of all: stop loading the machine
        load.kill()
    for runner in list(_RUNNERS):
        if runner.poll() is None:
            runner.terminate()
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notebooks", nargs="*", default=None, metavar="SUBSTRING",
                    help="run only the notebooks whose path contains one of these substrings")
    ap.add_argument("--load-procs", type=int, default=2, help="CPU-bound background processes (default 2)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell before giving up (default 1800)")
    ap.add_argument("--out", type=Path, default=Path("results/bench_load.json"), help="JSON file to write")
    args = ap.parse_args(argv)
    if args.load_procs < 1:
        ap.error(f"--load-procs must be >= 1, got {args.load_procs}")
    if args.timeout < 1:
        ap.error(f"--timeout must be >= 1, got {args.timeout}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    notebooks = chapter_notebooks()
    if args.notebooks:
        notebooks = [p for p in notebooks if any(s in str(p.relative_to(REPO)) for s in args.notebooks)]
        if not notebooks:
            print(f"no chapter notebook matches {args.notebooks}", file=sys.stderr)
            return 2
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    env_seen = {k: os.environ.get(k) for k in THREAD_VARS}
    print(f"{len(notebooks)} notebook(s); load: {args.load_procs} x `nice -n 19 python -c {BUSY_LOOP!r}`; "
          f"thread variables: {', '.join(f'{k}={v}' for k, v in env_seen.items() if v is not None) or 'none set'}")
    rows = []
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for md in notebooks:
                name = str(md.relative_to(REPO / "book"))
                ipynb = to_ipynb(md, Path(tmp))
                idle, idle_err = execute(ipynb, md.parent, args.timeout)
                with Load(args.load_procs):
                    loaded, loaded_err = execute(ipynb, md.parent, args.timeout)
                ok = idle is not None and loaded is not None
                row = {"notebook": name, "idle_s": round(idle, 1) if idle is not None else None,
                       "loaded_s": round(loaded, 1) if loaded is not None else None,
                       "ratio": round(loaded / idle, 2) if ok else None, "error": idle_err or loaded_err}
                rows.append(row)
                print(f"  {name}: idle {row['idle_s']} s, loaded {row['loaded_s']} s, x{row['ratio']}"
                      + (f"  ERROR {row['error']}" if row["error"] else ""), flush=True)
    except KeyboardInterrupt:
        print("interrupted: background load killed; writing what was measured", file=sys.stderr)
    width = max([len("notebook")] + [len(r["notebook"]) for r in rows])
    print(f"\n{'notebook':<{width}}  {'idle s':>8}  {'loaded s':>8}  {'ratio':>6}")
    for r in rows:
        cells = [f"{r[k]:>{w}.{d}f}" if r[k] is not None else f"{'-':>{w}}"
                 for k, w, d in (("idle_s", 8, 1), ("loaded_s", 8, 1), ("ratio", 6, 2))]
        print(f"{r['notebook']:<{width}}  " + "  ".join(cells)
              + ("  (error)" if r["error"] else ""))
    record = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_procs": args.load_procs,
        "thread_env": env_seen,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "wall_s": round(time.perf_counter() - start, 1),
        "notebooks": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}")
    if _STOPPED:
        return 130
    return 1 if any(r["error"] for r in rows) else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--execute-one"]:
        _execute_one(*sys.argv[2:5])
    else:
        sys.exit(main())
