"""Which CPU code-path settings change a chapter's results, and does the portable policy pin them?

Runs small trainings of several chapters' CLIs, each in a fresh process, under a list of
environments: the machine's own choices (``COMPANION_NUMERICS=native``) with one library's code
path changed at a time, an emulated AVX2-only machine, and the portable policy (the default of
``import companion``) under shells that ask for other code paths. Each run's non-timing summary
is compared with the native run's and with the portable run's, bit for bit.

    .venv/bin/python tools/numerics_check.py                   # about 10 minutes on 2 cores
    .venv/bin/python tools/numerics_check.py --chapters snn --jobs 1

Prints one table (environment x chapter: identical to native? to portable? largest difference)
and writes it as JSON to ``--out`` (default ``tools/numerics_check.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from companion import PORTABLE_NUMERICS  # noqa: E402  (the standard library only: no torch here)

# Small runs that still train: a spiking MLP with a distilled teacher (ATen elementwise, MKL
# matmuls), a convolutional target and generator (oneDNN), a hierarchical GNN (scatter sums),
# LDS on Wine (numpy and scikit-learn's kNN graph with OpenBLAS, then a GCN).
CHAPTERS = {
    "snn": ["-m", "companion.snn", "--data", "mnist5k", "--n-train", "1500", "--n-test", "500",
            "--epochs", "3", "--teacher-epochs", "2", "--loss", "plain,kd+act+logits", "--seeds", "0"],
    "advgan": ["-m", "companion.advgan", "--data", "digits", "--n-train", "300", "--n-test", "100",
               "--target-epochs", "2", "--at-epochs", "1", "--at-steps", "2", "--pgd-steps", "3",
               "--gan-epochs", "2", "--static-epochs", "1", "--mode", "semiwhitebox", "--seeds", "0"],
    "diffpool": ["-m", "companion.diffpool", "--dataset", "hier_graphs", "--num-graphs", "200",
                 "--folds", "3", "--max-folds", "1", "--epochs", "10", "--hidden", "16",
                 "--batch-size", "16", "--models", "flat-mean", "diffpool", "--seeds", "0"],
    "lds": ["-m", "companion.lds", "--dataset", "wine", "--ks", "10",
            "--max-inner-steps", "10", "--tau", "5", "--max-outer-iterations", "2", "--epochs", "20",
            "--n-samples", "4", "--seeds", "0"],
}

AVX2_MACHINE = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2",
                "OPENBLAS_CORETYPE": "Haswell",
                "NPY_DISABLE_CPU_FEATURES": PORTABLE_NUMERICS["NPY_DISABLE_CPU_FEATURES"]}
# (name, environment); "native" and "portable" are the references the others are compared with
ENVIRONMENTS = [
    ("native", {"COMPANION_NUMERICS": "native"}),
    ("native, ATEN_CPU_CAPABILITY=avx2", {"COMPANION_NUMERICS": "native", "ATEN_CPU_CAPABILITY": "avx2"}),
    ("native, ATEN_CPU_CAPABILITY=default", {"COMPANION_NUMERICS": "native", "ATEN_CPU_CAPABILITY": "default"}),
    ("native, ONEDNN_MAX_CPU_ISA=AVX2", {"COMPANION_NUMERICS": "native", "ONEDNN_MAX_CPU_ISA": "AVX2"}),
    ("native, MKL_CBWR=COMPATIBLE", {"COMPANION_NUMERICS": "native", "MKL_CBWR": "COMPATIBLE"}),
    ("native, OPENBLAS_CORETYPE=Haswell", {"COMPANION_NUMERICS": "native", "OPENBLAS_CORETYPE": "Haswell"}),
    ("native, numpy without AVX-512", {"COMPANION_NUMERICS": "native",
                                       "NPY_DISABLE_CPU_FEATURES": AVX2_MACHINE["NPY_DISABLE_CPU_FEATURES"]}),
    ("native, emulated AVX2-only machine", {"COMPANION_NUMERICS": "native", **AVX2_MACHINE}),
    ("portable", {}),
    ("portable, shell asks for avx512", {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE",
                                         "MKL_CBWR": "AUTO", "OPENBLAS_CORETYPE": "SkylakeX"}),
    ("portable, shell asks for default", {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41"}),
]
CLEARED = ("COMPANION_NUMERICS", *PORTABLE_NUMERICS, "MKL_ENABLE_INSTRUCTIONS")


def run_one(chapter: str, env_name: str, env: dict[str, str], work: Path) -> dict:
    """One CLI run in a fresh process; its non-timing summary and how long it took."""
    out = work / f"{chapter}-{abs(hash(env_name))}"
    base = {k: v for k, v in os.environ.items() if k not in CLEARED}
    start = time.perf_counter()
    res = subprocess.run([sys.executable, *CHAPTERS[chapter], "--threads", "1", "--out", str(out)],
                         env={**base, "COMPANION_NO_PROGRESS": "1", **env}, cwd=REPO,
                         capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if res.returncode != 0:
        raise RuntimeError(f"{chapter} under {env_name!r} failed:\n{res.stderr[-2000:]}")
    files = sorted(out.glob("*.json"))
    payload = json.loads(files[0].read_text())
    summary = {f"{json.dumps(r['setting'], sort_keys=True)}/{r['method']}/{r['metric']}": (r["mean"], r["std"])
               for r in payload["summary"] if not r.get("timing")}
    return {"summary": summary, "seconds": seconds, "numerics": payload.get("numerics")}


def max_difference(a: dict, b: dict) -> float:
    """Largest absolute difference of any mean or std (inf when the rows differ)."""
    if a.keys() != b.keys():
        return float("inf")
    return max((abs(x - y) for k in a for x, y in zip(a[k], b[k])), default=0.0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--chapters", nargs="+", choices=sorted(CHAPTERS), default=list(CHAPTERS))
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (each uses one thread)")
    p.add_argument("--out", type=Path, default=REPO / "tools" / "numerics_check.json")
    args = p.parse_args(argv)
    jobs = [(c, name, env) for c in args.chapters for name, env in ENVIRONMENTS]
    with tempfile.TemporaryDirectory(prefix="numerics-") as tmp, ThreadPoolExecutor(args.jobs) as pool:
        futures = {(c, name): pool.submit(run_one, c, name, env, Path(tmp)) for c, name, env in jobs}
        runs = {key: f.result() for key, f in futures.items()}
    table = []
    for name, env in ENVIRONMENTS:
        for c in args.chapters:
            r = runs[(c, name)]
            d_native = max_difference(r["summary"], runs[(c, "native")]["summary"])
            d_portable = max_difference(r["summary"], runs[(c, "portable")]["summary"])
            table.append({"environment": name, "env": env, "chapter": c,
                          "same_as_native": d_native == 0, "same_as_portable": d_portable == 0,
                          "max_diff_to_native": d_native, "max_diff_to_portable": d_portable,
                          "seconds": round(r["seconds"], 2),
                          "torch_capability": r["numerics"]["in_force"]["torch_cpu_capability"],
                          "baseline": r["numerics"]["baseline"]})
    width = max(len(n) for n, _ in ENVIRONMENTS)
    print(f"{'environment':{width}s}  " + "  ".join(f"{c:>22s}" for c in args.chapters))
    for name, _ in ENVIRONMENTS:
        cells = []
        for c in args.chapters:
            row = next(t for t in table if t["environment"] == name and t["chapter"] == c)
            mark = ("N" if row["same_as_native"] else "-") + ("P" if row["same_as_portable"] else "-")
            cells.append(f"{mark} {row['max_diff_to_native']:9.2g} {row['seconds']:6.1f}s")
        print(f"{name:{width}s}  " + "  ".join(f"{cell:>22s}" for cell in cells))
    print("N: bit-identical to native, P: to portable; then the largest |difference| to native and the time")
    from companion.utils import machine_info  # torch only now, after the runs

    args.out.write_text(json.dumps({"command": "python tools/numerics_check.py " + " ".join(argv or sys.argv[1:]),
                                    "machine": machine_info(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                    "commands": {c: " ".join(["python", *CHAPTERS[c]]) for c in args.chapters},
                                    "runs": table}, indent=1, allow_nan=True) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
