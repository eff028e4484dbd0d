"""Results files: what a chapter CLI writes and the chapter notebook reads.

One schema for every file (``SCHEMA_VERSION``), strict JSON (no NaN or Infinity), written
atomically (a temporary file, then a rename, so an interrupted run never leaves half a file)::

    {
      "schema": 1,
      "command": "python -m companion.diffpool --folds 10 --seeds 0 1 2",   # without --out/--publish
      "seeds": [0, 1, 2],
      "packages": {"python": "3.11.7", "torch": "2.13.0", ...},
      "machine": {"platform": ..., "cpu_model": "AMD EPYC", "cpus": 2, "torch_threads": 1, "device": "cpu"},
      "numerics": {"policy": "portable", "baseline": true, ...},   # companion.utils.numerics_info
      "wall_seconds": 812.4, "date": "2026-12-01 05:10:00",
      "reproduce_tolerance": 0.0,        # absolute; 0 for a deterministic run
      "summary": [                       # one row per (setting, method, metric), over seeds
        {"setting": "noise=0.5", "method": "AliNet", "metric": "hits@1",
         "mean": 0.41, "std": 0.02, "n": 3, "higher_is_better": true, "timing": false}
      ],
      "rows": [                          # every per-seed value
        {"setting": "noise=0.5", "method": "AliNet", "seed": 0, "hits@1": 0.43, "mrr": 0.52}
      ],
      ...                                # anything else the chapter needs (settings, curves)
    }

``setting`` is a string or a flat dict of scalars (``""`` where a file has one setting).
``std`` is the sample standard deviation over the ``n`` seeds (ddof=1, divisor ``n - 1``, as
``numpy.std(ddof=1)`` or ``statistics.stdev``): the estimate of the seed-to-seed spread, about 22 %
larger than the population std at ``n = 3``. A single seed has no spread: its ``std`` is ``None``
(JSON ``null``), never 0, so nothing reads one run as noise-free. ``MIN_SEEDS`` (3) is the fewest
seeds whose spread the book reads gaps against (:func:`gap_table`, :mod:`companion.claims`).
Timing metrics (seconds, fps) are marked ``"timing": true``: they depend on the machine, so
:func:`compare_summaries` and ``python -m companion.reproduce`` skip them.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from companion.utils import machine_info, numerics_info, package_versions

__all__ = ["SCHEMA_VERSION", "MIN_SEEDS", "save_results", "load_results", "summarize", "sample_std",
           "has_spread", "mean_std_text", "compare_summaries", "bit_comparable", "compare_within_spread", "cpu_vendor",
           "read_gap", "gap_table", "summary_lookup", "summary_frame", "summary_table", "to_jsonable"]

SCHEMA_VERSION = 1
REQUIRED_KEYS = ("command", "seeds", "summary", "rows")
SUMMARY_KEYS = ("setting", "method", "metric", "mean", "std", "n", "higher_is_better", "timing")
MIN_SEEDS = 3  # fewer seeds give a spread too unsteady to read a gap against


def to_jsonable(value: Any, where: str = "value") -> Any:
    """``value`` as plain JSON types: numpy ints stay ints, arrays and tensors become lists.

    Raises ``ValueError`` naming ``where`` (a path like ``rows[3].acc``) for NaN or Infinity,
    which strict JSON cannot hold, and for objects JSON has no type for.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value}: strict JSON has no NaN/Infinity; "
                             "fix the metric (an empty split? a division by zero?) or store None")
        return value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    # numpy and torch scalars/arrays without importing either here
    if hasattr(value, "tolist") and callable(value.tolist):
        return to_jsonable(value.tolist(), where)
    if hasattr(value, "item") and callable(value.item):
        return to_jsonable(value.item(), where)
    raise ValueError(f"{where} has type {type(value).__name__}, which JSON cannot store")


def _setting_key(setting: Any) -> str:
    return json.dumps(setting, sort_keys=True) if isinstance(setting, Mapping) else str(setting)


def sample_std(values: list[float], mean: float) -> float | None:
    """The sample standard deviation (ddof=1) of ``values`` around their ``mean``; ``None`` for one value.

    One formula for :func:`summarize` and ``tools/recompute_summaries.py``, so that a recomputed
    file holds the very bits a rerun writes.
    """
    if len(values) < 2:
        return None
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def has_spread(std: Any) -> bool:
    """Whether ``std`` is a spread: not ``None`` (one seed) and not NaN (``None`` in a pandas column)."""
    return std is not None and not (isinstance(std, float) and math.isnan(std))


def mean_std_text(mean: float, std: Any, digits: int = 3, scale: float = 1.0) -> str:
    """``"0.410 ± 0.020"``, or ``"0.410 (one seed)"`` where there is no spread."""
    if not has_spread(std):
        return f"{mean * scale:.{digits}f} (one seed)"
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"


def summarize(
    rows: list[dict[str, Any]],
    metrics: Mapping[str, bool | None],
    timing: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Aggregate per-seed ``rows`` into summary rows, one per (setting, method, metric).

    ``metrics`` maps each metric key of the rows to ``higher_is_better`` (``None`` where neither
    direction is better, e.g. an edge count). Rows lacking a metric (or holding ``None``) are left
    out of that metric's mean; ``n`` says how many values went in. ``std`` is the sample standard
    deviation (:func:`sample_std`; ``None`` for ``n = 1``). Groups keep first-seen order.
    """
    if not metrics:
        raise ValueError("metrics must name at least one metric key of the rows")
    timing = set(timing)
    unknown = timing - set(metrics)
    if unknown:
        raise ValueError(f"timing metrics {sorted(unknown)} are not among metrics {sorted(metrics)}")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for i, row in enumerate(rows):
        if "method" not in row:
            raise ValueError(f"rows[{i}] has no 'method': every row names the method it measures")
        groups.setdefault((_setting_key(row.get("setting", "")), str(row["method"])), []).append(row)
    summary = []
    for group in groups.values():
        for metric, higher in metrics.items():
            values = [float(r[metric]) for r in group if r.get(metric) is not None]
            if not values:
                continue
            mean = sum(values) / len(values)
            std = sample_std(values, mean)
            summary.append({"setting": group[0].get("setting", ""), "method": group[0]["method"],
                            "metric": metric, "mean": mean, "std": std, "n": len(values),
                            "higher_is_better": higher, "timing": metric in timing})
    if not summary:
        raise ValueError(f"no row holds any of the metrics {sorted(metrics)}: nothing to summarize")
    return summary


def _check_summary(summary: list[dict[str, Any]]) -> None:
    if not isinstance(summary, list) or not summary:
        raise ValueError("summary must be a non-empty list of rows")
    for i, row in enumerate(summary):
        missing = [k for k in ("method", "metric", "mean", "n") if k not in row]
        if missing:
            raise ValueError(f"summary[{i}] lacks {missing}; expected keys {list(SUMMARY_KEYS)}")
        if not isinstance(row["n"], int) or row["n"] < 1:
            raise ValueError(f"summary[{i}].n must be an int >= 1, got {row['n']!r}")


def save_results(
    path: str | Path,
    rows: list[dict[str, Any]],
    *,
    seeds: Iterable[int],
    command: str,
    metrics: Mapping[str, bool | None] | None = None,
    timing: Iterable[str] = (),
    summary: list[dict[str, Any]] | None = None,
    wall_seconds: float | None = None,
    reproduce_tolerance: float = 0.0,
    packages: Iterable[str] = ("torch", "numpy", "torch-geometric", "scikit-learn"),
    **extra: Any,
) -> Path:
    """Write a results file in the book's schema (see the module docstring) and return its path.

    ``rows`` are per-seed records (``method``, optionally ``setting`` and ``seed``, and metric
    values). The summary is computed from them with :func:`summarize` over ``metrics``, unless a
    ready ``summary`` is given (for results that are not per-seed, such as folds of one seed).
    ``command`` is what reruns the file (``python -m companion.x ...`` without ``--out``).
    Everything is validated before anything is written: a NaN anywhere is refused with its path.
    """
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError("rows must be a list of dicts, one per seed and method")
    if not isinstance(command, str) or not command.strip():
        raise ValueError("command must be the shell command that reruns this file")
    if reproduce_tolerance < 0:
        raise ValueError(f"reproduce_tolerance must be >= 0, got {reproduce_tolerance}")
    if summary is None:
        if metrics is None:
            raise ValueError("give metrics (to summarize the rows) or a ready summary")
        summary = summarize(rows, metrics, timing)
    reserved = set(extra) & {"schema", "packages", "machine", "numerics", "date", *REQUIRED_KEYS}
    if reserved:
        raise ValueError(f"extra keys {sorted(reserved)} are reserved by the results schema")
    payload = to_jsonable({
        "schema": SCHEMA_VERSION,
        "command": command,
        "seeds": [int(s) for s in seeds],
        "packages": package_versions(packages),
        "machine": machine_info(),
        "numerics": numerics_info(),
        "wall_seconds": wall_seconds,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "reproduce_tolerance": float(reproduce_tolerance),
        **extra,
        "summary": summary,
        "rows": rows,
    }, "results")
    _check_summary(payload["summary"])
    return _write_json(Path(path), payload)


def _write_json(path: Path, payload: Any) -> Path:
    """Write strict JSON atomically (temp file + ``os.replace``): a killed run leaves no half file."""
    text = json.dumps(payload, indent=1, allow_nan=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would make a shared results folder unreadable to others
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class SeedCheckpoint:
    """The finished seeds of a long run, saved as each one ends, so that a killed run resumes.

    The file is ``<results file>.partial`` beside the final results file. It holds the run's
    ``command`` and each finished seed's rows; a rerun of the *same* command skips those seeds,
    any other command starts afresh (and overwrites it). :meth:`finish` removes it once the final
    results file is written.
    """

    def __init__(self, results_path: str | Path, command: str) -> None:
        self.path = Path(str(results_path) + ".partial")  # not *.json: globs of results files skip it
        self.command = command
        self._rows: dict[int, list[dict[str, Any]]] = {}
        if self.path.is_file():
            try:
                saved = json.loads(self.path.read_text())
            except (OSError, json.JSONDecodeError) as e:
                raise ValueError(f"{self.path}: unreadable checkpoint ({e}); delete it to start afresh") from e
            if saved.get("command") == command:
                self._rows = {int(k): v for k, v in saved.get("seeds", {}).items()}
        if self._rows:  # say so: a resumed run must not look like a fresh one
            print(f"resuming: reusing finished seed(s) {' '.join(map(str, sorted(self._rows)))} "
                  f"from {self.path}", file=sys.stderr, flush=True)
        ACTIVE_CHECKPOINTS.append(self)

    @property
    def finished(self) -> list[int]:
        """The seeds whose rows are saved."""
        return sorted(self._rows)

    def done(self, seed: int) -> list[dict[str, Any]] | None:
        """The saved rows of ``seed``, or ``None`` if it has not finished."""
        return self._rows.get(int(seed))

    def save(self, seed: int, rows: list[dict[str, Any]]) -> None:
        """Record ``seed``'s rows (atomically, with every earlier seed's)."""
        self._rows[int(seed)] = to_jsonable(rows, f"rows of seed {seed}")
        _write_json(self.path, {"command": self.command,
                                "seeds": {str(k): v for k, v in sorted(self._rows.items())}})

    def finish(self) -> None:
        """Remove the checkpoint: the final results file now holds every seed."""
        self.path.unlink(missing_ok=True)
        if self in ACTIVE_CHECKPOINTS:
            ACTIVE_CHECKPOINTS.remove(self)


# the checkpoints of the run in progress, for the message of an interrupted CLI (companion.cli.cli_entry)
ACTIVE_CHECKPOINTS: list[SeedCheckpoint] = []


def _refuse_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results file; every failure names the file and what was expected."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no results file at {path}: run the chapter's CLI to create it")
    try:
        payload = json.loads(path.read_text(), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not a strict-JSON results file: {e}") from None
    if not isinstance(payload, dict):
        raise ValueError(f"{path} holds a {type(payload).__name__}, expected a results object")
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise ValueError(f"{path} lacks {missing}: not a results file of schema {SCHEMA_VERSION} "
                         "(see companion/results.py)")
    try:
        _check_summary(payload["summary"])
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return payload


def summary_lookup(payload: Mapping[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Summary rows keyed by ``(setting, method, metric)`` (a dict setting as sorted JSON)."""
    return {(_setting_key(r.get("setting", "")), str(r["method"]), str(r["metric"])): r
            for r in payload["summary"]}


def summary_frame(payload: Mapping[str, Any]):
    """The summary as a long pandas DataFrame (one row per setting, method and metric)."""
    import pandas as pd  # only the notebooks need pandas

    frame = pd.DataFrame(payload["summary"])
    frame["setting"] = [_setting_key(s) if isinstance(s, Mapping) else s for s in frame.get("setting", "")]
    return frame


def read_gap(gap: float, spread: float, up: str = "ahead", down: str = "behind",
             within: str = "within noise") -> str:
    """The book's three-way reading of a gap against its spread: ``up`` when ``gap > spread``,
    ``down`` when ``gap < -spread``, else ``within`` (a gap of exactly the spread is noise).

    The same rule as :func:`gap_table`'s ``reads`` and the claim verdicts of :mod:`companion.claims`.
    A gap or spread that is not a number reads ``"undefined"``, never as a side ahead.
    """
    if spread < 0:
        raise ValueError(f"a spread is a sum of standard deviations, never negative; got {spread}")
    if not (math.isfinite(gap) and math.isfinite(spread)):
        return "undefined"
    return up if gap > spread else down if gap < -spread else within


def gap_table(payload: Mapping[str, Any], pairs: Iterable[tuple[str, str]], metric: str,
              settings: Iterable[Any] | None = None):
    """Method A minus method B on ``metric``, per setting, read against the seed spread.

    One row per (setting, pair): ``gap`` (mean A - mean B), ``spread`` (std A + std B, the rule of
    the book's claim verdicts), ``paired`` (the mean of the per-seed differences, seeds matched,
    with its sample std ``paired_sd``: the methods of a seed share its split, so this is the
    sharper view) and ``reads`` ("A ahead" / "B ahead" when the gap exceeds the spread, else
    "within noise"; "too few seeds (n=...)" when a row has fewer than ``MIN_SEEDS`` seeds, which
    leaves no spread to read the gap against). ``settings`` limits and orders the settings
    (default: all, in file order).
    """
    import pandas as pd  # only the notebooks need pandas

    pairs = list(pairs)
    look = summary_lookup(payload)
    keys = list(dict.fromkeys(k[0] for k in look if k[2] == metric))
    if settings is not None:
        keys = [_setting_key(s) for s in settings]
    per_seed: dict[tuple[str, str], dict[int, float]] = {}
    for r in payload["rows"]:
        if metric in r:
            per_seed.setdefault((_setting_key(r.get("setting", "")), str(r["method"])), {})[r["seed"]] = r[metric]
    out = []
    for key in keys:
        for a, b in pairs:
            ra, rb = look.get((key, a, metric)), look.get((key, b, metric))
            if ra is None or rb is None:
                missing = a if ra is None else b
                raise ValueError(f"no summary row for method {missing!r}, metric {metric!r}, setting {key!r}")
            gap = float(ra["mean"]) - float(rb["mean"])
            spread = float(ra["std"] or 0.0) + float(rb["std"] or 0.0)
            sa, sb = per_seed.get((key, a), {}), per_seed.get((key, b), {})
            diffs = [sa[s] - sb[s] for s in sorted(set(sa) & set(sb))]
            mean_d = sum(diffs) / len(diffs) if diffs else math.nan
            sd_d = sample_std(diffs, mean_d)
            n = min(int(ra["n"]), int(rb["n"]))
            if n < MIN_SEEDS:
                reads = f"too few seeds (n={n})"
            else:
                reads = read_gap(gap, spread, f"{a} ahead", f"{b} ahead")
            out.append({"setting": key, "A": a, "B": b, "gap": gap, "spread": spread,
                        "paired": mean_d, "paired_sd": math.nan if sd_d is None else sd_d,
                        "seeds": len(diffs), "reads": reads})
    return pd.DataFrame(out)


def summary_table(payload: Mapping[str, Any], metrics: Iterable[str] | None = None, digits: int = 3,
                  scale: float = 1.0):
    """A reader's table: one row per (setting, method), one ``mean ± std (n)`` column per metric.

    ``metrics`` picks and orders the columns (default: all, in file order); ``scale`` multiplies
    means and stds (100 for percentages). A row of one seed has no spread and shows ``mean (1)``.
    """
    frame = summary_frame(payload)
    order = list(dict.fromkeys(frame["metric"])) if metrics is None else list(metrics)
    unknown = sorted(set(order) - set(frame["metric"]))
    if unknown:
        raise ValueError(f"metrics {unknown} are not in this file's summary; it has {sorted(set(frame['metric']))}")
    frame = frame[frame["metric"].isin(order)].copy()
    # a one-seed std is None, which pandas turns into NaN in a column of floats
    frame["cell"] = [f"{m * scale:.{digits}f} ± {s * scale:.{digits}f} ({n})" if has_spread(s)
                     else f"{m * scale:.{digits}f} ({n})"
                     for m, s, n in zip(frame["mean"], frame["std"], frame["n"])]
    index = ["setting", "method"] if frame["setting"].astype(str).str.len().any() else ["method"]
    table = frame.pivot_table(index=index, columns="metric", values="cell", aggfunc="first", sort=False)
    return table[[m for m in order if m in table.columns]]


def compare_summaries(
    committed: Mapping[str, Any],
    rerun: Mapping[str, Any],
    atol: float = 0.0,
) -> list[str]:
    """Differences between two results' summaries beyond ``atol`` (timing rows skipped).

    Returns one line per difference: a row missing on either side, or a mean, std or n that
    moved. An empty list means the rerun reproduces the committed file.
    """
    old, new = summary_lookup(committed), summary_lookup(rerun)
    problems = []
    for key in old.keys() | new.keys():
        a, b = old.get(key), new.get(key)
        if (a or b).get("timing"):
            continue
        label = "/".join(k for k in key if k)
        if a is None or b is None:
            problems.append(f"{label}: only in the {'rerun' if a is None else 'committed file'}")
            continue
        if a["n"] != b["n"]:
            problems.append(f"{label}: n {a['n']} -> {b['n']}")
        for field in ("mean", "std"):
            x, y = a.get(field), b.get(field)
            if x is None or y is None:
                if x != y:
                    problems.append(f"{label}: {field} {x} -> {y}")
            elif abs(x - y) > atol:
                problems.append(f"{label}: {field} {x:.6g} -> {y:.6g} (|diff| {abs(x - y):.3g} > {atol:g})")
    return sorted(problems)


# packages whose version changes a run's bits (a different build computes differently)
NUMERIC_PACKAGES = ("python", "torch", "numpy", "scikit-learn", "torch-geometric", "snntorch",
                    "transformers", "tokenizers", "opencv-contrib-python-headless", "scipy")


def bit_comparable(committed: Mapping[str, Any], rerun: Mapping[str, Any]) -> tuple[bool, str]:
    """Can a rerun be expected to give the committed file's bits? ``(yes or no, why)``.

    Yes when both runs used the portable numerics at its baseline (``numerics.baseline``) on CPUs
    of one vendor (:func:`cpu_vendor`: across vendors the baseline's bits differ, measured), or
    both used the same native code paths on the same CPU model; and the numeric packages have
    the same versions. A file written before the numerics policy (no ``numerics`` record) is
    not bit-comparable with anything but itself, and neither is a run on a GPU (``machine.device``
    ``cuda``; a file without it ran on the CPU): GPU kernels are not pinned, nor always deterministic.
    """
    dev_a = committed.get("machine", {}).get("device", "cpu")
    dev_b = rerun.get("machine", {}).get("device", "cpu")
    if dev_a != "cpu" or dev_b != "cpu":
        return False, (f"computed on {dev_a} (committed) and {dev_b} (rerun): only CPU runs at the numerics "
                       "baseline are bit for bit")
    a, b = committed.get("numerics"), rerun.get("numerics")
    if not a:
        return False, "the committed file was made before the portable numerics policy (no 'numerics' record)"
    if not b:
        return False, "the rerun has no 'numerics' record"
    versions_a, versions_b = committed.get("packages", {}), rerun.get("packages", {})
    moved = [f"{k} {versions_a[k]} -> {versions_b[k]}" for k in NUMERIC_PACKAGES
             if k in versions_a and k in versions_b and versions_a[k] != versions_b[k]]
    if moved:
        return False, "package versions differ: " + ", ".join(moved)
    cpu_a = committed.get("machine", {}).get("cpu_model")
    cpu_b = rerun.get("machine", {}).get("cpu_model")
    if a.get("baseline") and b.get("baseline"):
        # measured: the same files rerun at the baseline on an AMD EPYC and an Intel Xeon differ in
        # the last bits of some losses, which training then amplifies; one vendor gives equal bits
        if cpu_vendor(cpu_a) != cpu_vendor(cpu_b):
            return False, (f"both at the portable numerics baseline, but on CPUs of different vendors "
                           f"({cpu_a}, {cpu_b}), whose bits differ at the baseline too")
        return True, "both runs at the portable numerics baseline, on CPUs of one vendor"
    if a.get("policy") == b.get("policy") == "native" and a.get("in_force") == b.get("in_force") and cpu_a == cpu_b:
        return True, f"both runs native on the same CPU model ({cpu_a})"
    return False, (f"different numerics: committed {a.get('policy')} (baseline {a.get('baseline')}, "
                   f"{a.get('in_force')}, {cpu_a}), rerun {b.get('policy')} (baseline {b.get('baseline')}, "
                   f"{b.get('in_force')}, {cpu_b})")


def cpu_vendor(cpu_model: str | None) -> str | None:
    """The vendor in a recorded ``machine.cpu_model`` ("AMD", "Intel"), else the model itself."""
    if cpu_model is None:
        return None
    for vendor in ("AMD", "Intel"):
        if vendor.lower() in cpu_model.lower():
            return vendor
    return cpu_model


def compare_within_spread(committed: Mapping[str, Any], rerun: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Row-by-row verdicts for a rerun that cannot be bit-identical (timing rows skipped).

    Each non-timing summary row gets ``verdict``: ``identical``; ``within the seed spread``
    (``|mean difference| <= max(std committed, std rerun)``, with ``n >= 2`` on both sides);
    ``beyond the seed spread``; ``moved, one seed`` (no spread to judge by); or ``missing``
    (the row is on one side only, or ``n`` changed). Rows are sorted by label.
    """
    old, new = summary_lookup(committed), summary_lookup(rerun)
    out = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if (a or b).get("timing"):
            continue
        label = "/".join(k for k in key if k)
        if a is None or b is None or a["n"] != b["n"]:
            detail = ("only in the rerun" if a is None else "only in the committed file" if b is None
                      else f"n {a['n']} -> {b['n']}")
            out.append({"row": label, "verdict": "missing", "detail": detail})
            continue
        diff = abs(float(b["mean"]) - float(a["mean"]))
        spread = max(float(a.get("std") or 0.0), float(b.get("std") or 0.0))
        if diff == 0:
            verdict = "identical"
        elif a["n"] < 2:
            verdict = "moved, one seed"
        else:
            verdict = "within the seed spread" if diff <= spread else "beyond the seed spread"
        out.append({"row": label, "verdict": verdict, "committed": a["mean"], "rerun": b["mean"],
                    "diff": diff, "spread": spread, "n": a["n"],
                    "detail": f"mean {a['mean']:.6g} -> {b['mean']:.6g} (|diff| {diff:.3g}, "
                              f"seed spread {spread:.3g}, n={a['n']})"})
    return out


if __name__ == "__main__":  # pragma: no cover - a quick look at a file
    print(json.dumps(load_results(sys.argv[1])["summary"], indent=1))
