"""The papers' own settings: per chapter, the command(s) that run the paper's data, protocol,
architecture and budget, declared in the chapter's ``course.yml`` and run by ``make paper CH=...``.

A ``paper_setting`` block in ``book/NN_topic/course.yml``::

    paper_setting:
      setting: >-            # one or two sentences: the paper's data, protocol and model
        Cora with a share of its edges deleted, Kipf's Planetoid split, ...
      reported: >-           # what the paper reported, with its table (from the paper note)
        Table 2, Cora, all edges: LDS 84.08 (0.4) %, GCN 79.76 (0.5) %.
      runs:
        - id: cora           # a claim's paper_command names this id
          fetch: [cora]      # catalogue names of companion.data (downloaded first)
          command: python -m companion.lds --dataset planetoid --root $COMPANION_DATA/planetoid ...
          sources: where each flag's value comes from (the paper, the authors' code, our choice)
          estimate:          # or a string saying why there is none
            stand_in: what the timed fractions ran on (data of the same size, on this machine)
            timed:           # two fractions of the command, in units (epochs, outer iterations)
              - {units: 1, seconds: 20.5, max_rss_mb: 310, command: python -m companion.lds ...}
              - {units: 3, seconds: 52.0, max_rss_mb: 312, command: python -m companion.lds ...}
            full_units: 2000       # units in the full command
            fixed_repeats: 20      # times the fixed part (setup, baselines) recurs in it
            unit: outer iteration
            note: full_units is an upper bound (seeds x shares x the outer-iteration cap)
            gpu: not estimated (the fractions were timed on the CPU)
        - id: citeseer
          missing: the CLI's planetoid reader loads Cora only (no --planetoid-name flag)

A run has either a ``command`` (with ``fetch``, ``sources`` and ``estimate``) or ``missing``: the
exact thing the CLI lacks to run the paper's setting, shown where a command would be. The time
estimate is a straight line through the two timed fractions (fixed part + per-unit cost),
extrapolated to ``full_units`` with the fixed part counted ``fixed_repeats`` times: numbers the
timed runs measured, never typed estimates.

``python -m companion.paper CH [--run ID] [--dry-run]`` (what ``make paper`` calls) downloads the
run's data with ``python -m companion.data fetch`` and then runs its command, from the repository
root, so results go to ``./results/`` like any CLI run. ``$COMPANION_DATA`` in a command is the
data folder, which must be set (``fetch`` puts each dataset under it).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from typing import Any

from companion.utils import repo_path

__all__ = ["load_paper_setting", "paper_runs", "run_ids", "chapter_folder", "steps", "estimate_hours",
           "section_markdown", "section", "make_command", "main"]

RUN_KEYS = {"id", "fetch", "command", "sources", "estimate", "missing"}
ESTIMATE_KEYS = {"stand_in", "timed", "full_units", "fixed_repeats", "unit", "gpu"}
OPTIONAL_ESTIMATE_KEYS = {"note"}  # e.g. that full_units is an upper bound


def chapter_folder(name: str) -> str:
    """The chapter folder for ``name``: a folder (``07_lds``) or its module name (``lds``), as ``make`` takes it.

    Raises ``ValueError`` listing the chapters when ``name`` is none of them.
    """
    folders = sorted(p.name for p in repo_path("book").glob("[0-9][0-9]_*") if p.is_dir())
    hits = [f for f in folders if name in (f, f[3:])]
    if not hits:
        raise ValueError(f"unknown chapter {name!r}; choose one of {', '.join(f[3:] for f in folders)} "
                         f"(or a folder name such as {folders[-1]})")
    return hits[0]


def _fail(where: str, message: str) -> ValueError:
    return ValueError(f"{where}: {message}")


def _check_estimate(est: Any, where: str) -> None:
    if isinstance(est, str):
        if not est.strip():
            raise _fail(where, "estimate: an empty reason")
        return
    if not isinstance(est, dict):
        raise _fail(where, "estimate must be a mapping (stand_in, timed, full_units, fixed_repeats, unit, gpu) "
                           "or a string saying why there is none")
    missing = ESTIMATE_KEYS - set(est)
    unknown = set(est) - ESTIMATE_KEYS - OPTIONAL_ESTIMATE_KEYS
    if missing or unknown:
        raise _fail(where, f"estimate needs the keys {sorted(ESTIMATE_KEYS)} (and may have "
                           f"{sorted(OPTIONAL_ESTIMATE_KEYS)}); missing {sorted(missing)}, unknown {sorted(unknown)}")
    timed = est["timed"]
    if not (isinstance(timed, list) and len(timed) == 2
            and all(isinstance(t, dict) and {"units", "seconds", "max_rss_mb", "command"} <= set(t) for t in timed)):
        raise _fail(where, "estimate.timed must hold two fractions, each {units, seconds, max_rss_mb, command}")
    if not timed[0]["units"] < timed[1]["units"]:
        raise _fail(where, "estimate.timed: the second fraction must have more units than the first")
    for t in timed:
        if not all(isinstance(t[k], (int, float)) and t[k] > 0 for k in ("units", "seconds", "max_rss_mb")):
            raise _fail(where, f"estimate.timed: units, seconds and max_rss_mb must be positive numbers, got {t}")
    for key in ("full_units", "fixed_repeats"):
        if not isinstance(est[key], (int, float)) or est[key] <= 0:
            raise _fail(where, f"estimate.{key} must be a positive number, got {est[key]!r}")


def load_paper_setting(chapter: str) -> dict[str, Any]:
    """The chapter's ``paper_setting`` block of ``course.yml``, checked (see the module docstring).

    Raises ``ValueError`` naming the file and the run for a missing or malformed field, an unknown
    fetch name, a command that is not ``python -m companion...``, or a run with both or neither of
    ``command`` and ``missing``.
    """
    from companion.course import read_course_file
    from companion.data.fetch import CATALOGUE

    where = f"book/{chapter}/course.yml"
    block = read_course_file(chapter).get("paper_setting")
    if not isinstance(block, dict):
        raise _fail(where, "lacks a 'paper_setting' block (setting, reported, runs)")
    for key in ("setting", "reported"):
        if not isinstance(block.get(key), str) or not block[key].strip():
            raise _fail(where, f"paper_setting.{key} must be a non-empty text")
    runs = block.get("runs")
    if not isinstance(runs, list) or not runs:
        raise _fail(where, "paper_setting.runs must be a non-empty list")
    seen: set[str] = set()
    for run in runs:
        rid = run.get("id") if isinstance(run, dict) else None
        if not isinstance(rid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", rid):
            raise _fail(where, f"every run needs an id of lower-case letters, digits, - and _, got {rid!r}")
        w = f"{where}: run {rid}"
        if rid in seen:
            raise _fail(w, "the id is declared twice")
        seen.add(rid)
        if set(run) - RUN_KEYS:
            raise _fail(w, f"unknown keys {sorted(set(run) - RUN_KEYS)}; expected some of {sorted(RUN_KEYS)}")
        if ("command" in run) == ("missing" in run):
            raise _fail(w, "needs exactly one of 'command' (the paper's setting) and 'missing' "
                           "(what the CLI lacks to run it)")
        if "missing" in run:
            if not isinstance(run["missing"], str) or not run["missing"].strip():
                raise _fail(w, "'missing' must say what the CLI lacks")
            if set(run) - {"id", "missing"}:
                raise _fail(w, "a run that cannot be run has only 'id' and 'missing'")
            continue
        for key in ("fetch", "sources", "estimate"):
            if key not in run:
                raise _fail(w, f"lacks {key!r}")
        command = run["command"]
        if not isinstance(command, str) or shlex.split(command)[:2] != ["python", "-m"] \
                or not shlex.split(command)[2].startswith("companion."):
            raise _fail(w, f"command must be 'python -m companion.<cli> ...', got {command!r}")
        fetch = run["fetch"]
        if not isinstance(fetch, list) or not all(isinstance(n, str) for n in fetch):
            raise _fail(w, "fetch must be a list of dataset names")
        unknown = [n for n in fetch if n.lower() not in CATALOGUE]
        if unknown:
            raise _fail(w, f"fetch names {unknown} are not in companion.data's catalogue {sorted(CATALOGUE)}")
        if not isinstance(run["sources"], str) or not run["sources"].strip():
            raise _fail(w, "'sources' must say where the flags' values come from")
        _check_estimate(run["estimate"], w)
    return block


def paper_runs(chapter: str) -> list[dict[str, Any]]:
    """The declared runs of a chapter (each with ``id`` and ``command`` or ``missing``)."""
    return list(load_paper_setting(chapter)["runs"])


def run_ids(chapter: str) -> list[str]:
    """The ids of the chapter's declared runs, in declaration order."""
    return [r["id"] for r in paper_runs(chapter)]


def make_command(chapter: str, run_id: str) -> str:
    """The ``make`` line that runs one declared run: ``make paper CH=lds RUN=cora``."""
    name = chapter[3:] if re.match(r"\d\d_", chapter) else chapter
    return f"make paper CH={name} RUN={run_id}"


def _data_root() -> str | None:
    return os.environ.get("COMPANION_DATA")


def steps(chapter: str, run_id: str | None = None) -> list[dict[str, Any]]:
    """The steps of ``make paper`` for a chapter (all runs, or ``run_id``): one record per run with
    its ``id`` and either ``missing`` or the ``fetch`` and ``command`` argument lists
    (``python`` as written; ``$COMPANION_DATA`` left for :func:`main` to expand)."""
    runs = paper_runs(chapter)
    if run_id is not None:
        runs = [r for r in runs if r["id"] == run_id]
        if not runs:
            raise ValueError(f"book/{chapter}/course.yml declares no run {run_id!r}; "
                             f"its runs are {run_ids(chapter)}")
    out = []
    for r in runs:
        if "missing" in r:
            out.append({"id": r["id"], "missing": " ".join(r["missing"].split())})
            continue
        fetch = ["python", "-m", "companion.data", "fetch", *r["fetch"]] if r["fetch"] else None
        out.append({"id": r["id"], "fetch": fetch, "command": shlex.split(r["command"])})
    return out


def estimate_hours(estimate: dict[str, Any]) -> dict[str, float]:
    """The full run's time on the timed machine, from the two timed fractions: ``per_unit_s``
    (the slope), ``fixed_s`` (the intercept, clipped at 0), ``hours`` (``fixed_s * fixed_repeats +
    per_unit_s * full_units``, over 3600) and ``max_rss_mb`` (the larger of the two fractions')."""
    (a, b) = estimate["timed"]
    per_unit = (b["seconds"] - a["seconds"]) / (b["units"] - a["units"])
    if per_unit <= 0:
        raise ValueError(f"the timed fractions do not grow with the units ({a['seconds']} s at {a['units']}, "
                         f"{b['seconds']} s at {b['units']}): time longer fractions")
    fixed = max(0.0, a["seconds"] - per_unit * a["units"])
    total = fixed * estimate["fixed_repeats"] + per_unit * estimate["full_units"]
    return {"per_unit_s": per_unit, "fixed_s": fixed, "hours": total / 3600,
            "max_rss_mb": float(max(a["max_rss_mb"], b["max_rss_mb"]))}


def _size(names: list[str]) -> str:
    from companion.data.fetch import CATALOGUE, _human

    sizes = [CATALOGUE[n.lower()].size for n in names]
    if not names:
        return "nothing to download"
    known = sum(s for s in sizes if s is not None)
    if all(s is not None for s in sizes):
        return f"a download of {_human(known)}"
    return ("a download of " + (f"at least {_human(known)}" if known else "a size the source does not publish")
            + " (recorded on the first download)")


def _one(text: str) -> str:
    return " ".join(str(text).split())


def section_markdown(chapter: str) -> str:
    """The chapter's "In the paper's own setting" box as Markdown: the setting, what the paper
    reported, and per run the ``make`` line and the CLI command (or what is missing), what it
    needs and how long it should take, with how that was estimated."""
    block = load_paper_setting(chapter)
    lines = [f"**The paper's setting.** {_one(block['setting'])}", "",
             f"**What the paper reported.** {_one(block['reported'])}", ""]
    for r in block["runs"]:
        if "missing" in r:
            lines += [f"- **{r['id']}**: not runnable with this CLI yet: {_one(r['missing'])}", ""]
            continue
        got = (f"downloads {', '.join(r['fetch'])} (`python -m companion.data fetch`) and runs" if r["fetch"]
               else "runs (the data is generated: nothing to download)")
        lines += [f"- **{r['id']}**: `{make_command(chapter, r['id'])}` {got}", "",
                  f"  ```\n  {_one(r['command'])}\n  ```", "",
                  f"  Where the values come from: {_one(r['sources'])}", ""]
        est = r["estimate"]
        if isinstance(est, str):
            lines += [f"  Needs {_size(r['fetch'])}; time: {_one(est)}", ""]
            continue
        e = estimate_hours(est)
        memory = (f"{e['max_rss_mb'] / 1024:.1f} GB" if e["max_rss_mb"] >= 1024 else f"{e['max_rss_mb']:.0f} MB")
        note = f" {_one(est['note'])}" if est.get("note") else ""
        days = f", {e['hours'] / 24:.3g} days" if e["hours"] > 48 else ""
        hours = f"{e['hours']:.3g}" if e["hours"] < 1000 else f"{e['hours']:,.0f}"
        fixed = (f", plus {e['fixed_s']:.3g} s of fixed work {est['fixed_repeats']:g} times" if e["fixed_s"] > 0
                 else "; the fixed work was lost in the timing noise")
        lines += [f"  Needs {_size(r['fetch'])} and about {memory} of memory "
                  f"(the larger timed fraction's peak). Expected time on two CPU cores: about "
                  f"{hours} h{days} ({e['per_unit_s']:.3g} s per {est['unit']} over "
                  f"{est['full_units']:g} {est['unit']}s{fixed}), extrapolated from two timed fractions "
                  f"({est['timed'][0]['units']:g} and {est['timed'][1]['units']:g} {est['unit']}s: "
                  f"{est['timed'][0]['seconds']:.3g} s and {est['timed'][1]['seconds']:.3g} s) on "
                  f"{_one(est['stand_in'])}.{note} On one GPU: {_one(est['gpu'])}", ""]
    return "\n".join(lines).rstrip() + "\n"


def section(chapter: str):
    """Display :func:`section_markdown` (a Markdown output cell in the notebook and the book)."""
    from IPython.display import Markdown

    return Markdown(section_markdown(chapter))


def _expand(args: list[str], root: str | None) -> list[str]:
    if root is None:
        return args
    return [a.replace("$COMPANION_DATA", root).replace("${COMPANION_DATA}", root) for a in args]


def main(argv: list[str] | None = None) -> int:
    """``python -m companion.paper CH [--run ID] [--dry-run]``: download and run the paper's setting.

    Returns 0 when the selected runs that can be run ran (those that cannot are listed with what
    they lack), 2 for a bad chapter or run, 3 when none of the selected runs can be run yet, or the
    failing step's exit status.
    """
    p = argparse.ArgumentParser(
        prog="python -m companion.paper",
        description="Run a chapter's paper setting: download its data (python -m companion.data fetch), "
                    "then run the CLI with the paper's data, protocol, architecture and budget.")
    p.add_argument("chapter", help="chapter module or folder name, e.g. lds or 07_lds")
    p.add_argument("--run", default=None, help="one declared run id (default: every run of the chapter)")
    p.add_argument("--dry-run", action="store_true", help="print the steps, download and run nothing")
    args = p.parse_args(argv)
    try:
        chapter = chapter_folder(args.chapter)
        plan = steps(chapter, args.run)
    except (ValueError, FileNotFoundError) as e:
        print(f"make paper: {e}", file=sys.stderr)
        return 2
    root = _data_root()
    if not args.dry_run and root is None and any("command" in s for s in plan):
        print("make paper: set COMPANION_DATA to the folder the datasets go to (and are read from), "
              "e.g. COMPANION_DATA=$HOME/companion_data make paper CH=...", file=sys.stderr)
        return 2
    for s in plan:
        if "missing" in s:
            print(f"[{chapter} {s['id']}] not runnable yet: {s['missing']}")
            continue
        for kind in ("fetch", "command"):
            if s[kind] is None:
                continue
            cmd = _expand(s[kind], root)
            print(f"[{chapter} {s['id']}] {kind}: {shlex.join(cmd)}", flush=True)
            if args.dry_run:
                continue
            rc = subprocess.call([sys.executable, *cmd[1:]], cwd=repo_path())
            if rc != 0:
                print(f"make paper: {kind} of {s['id']} failed with status {rc}", file=sys.stderr)
                return rc
    return 0 if any("command" in s for s in plan) else 3


if __name__ == "__main__":
    raise SystemExit(main())
