"""CLI: ``python -m companion.alinet --data kg_pair`` runs the ablation table and the noise sweep.

Writes ``book/04_alinet/results/<data>_ablation.json`` and ``<data>_noise.json`` (or, for
``kg_pair_synthetic``, ``<data>_timing.json``) with :func:`companion.results.save_results`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from companion import data
from companion.alinet.training import VARIANTS, Config, fit, prepare
from companion.results import save_results
from companion.utils import repo_path

SWEEP_VARIANTS = ("GCN-Align", "AliNet w/o distant", "AliNet")
METRICS = ("hits@1", "hits@10", "mrr")


def _summary(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    out = []
    for key, rs in groups.items():
        row = dict(zip(keys, key))
        for m in METRICS + ("seconds",):
            vals = [r[m] for r in rs]
            row[m] = statistics.fmean(vals)
            row[m + "_std"] = statistics.pstdev(vals) if len(vals) > 1 else 0.0
        row["n_seeds"] = len(rs)
        out.append(row)
    return out


def _print(rows: list[dict], keys: tuple[str, ...]) -> None:
    head = "".join(f"{k:>26s}" if k == "variant" else f"{k:>8s}" for k in keys) + "".join(f"{m:>16s}" for m in METRICS)
    print(head)
    for r in rows:
        line = "".join(f"{r[k]:>26s}" if k == "variant" else f"{r[k]:>8g}" for k in keys)
        line += "".join(f"{r[m]:>9.3f} ± {r[m + '_std']:.3f}" for m in METRICS)
        print(line)


def run(data_name: str, base: str, noises: list[float], ablation_noise: float, seeds: list[int], cfg: Config,
        sweep_variants: tuple[str, ...], out_dir: Path, argv: list[str], variants: tuple[str, ...] = tuple(VARIANTS),
        **data_kwargs) -> dict[str, Path]:
    """Train every (noise, variant, seed) and write the two tables; returns the written paths."""
    command = "python -m companion.alinet " + " ".join(argv)
    load_kw = {"base": base} if data_name == "kg_pair" else dict(data_kwargs)
    jobs = [(ablation_noise, v) for v in variants] + [(nz, v) for nz in noises for v in sweep_variants
                                                      if (nz, v) not in {(ablation_noise, w) for w in variants}]
    raw, start = [], time.perf_counter()
    for seed in seeds:
        for noise in sorted({nz for nz, _ in jobs}):
            inputs = prepare(data.load(data_name, noise=noise, seed=seed, **load_kw), seed=seed)
            for nz, variant in jobs:
                if nz != noise:
                    continue
                res = fit(inputs, cfg, seed=seed, desc=f"{variant} noise={noise:g} seed={seed}", **VARIANTS[variant])
                raw.append({"noise": noise, "variant": variant, "seed": seed, **res["metrics"], "seconds": res["seconds"]})
                print(f"noise={noise:g} seed={seed} {variant:26s} " + " ".join(f"{m}={res['metrics'][m]:.3f}" for m in METRICS),
                      flush=True)
    wall = time.perf_counter() - start
    ablation = _summary([r for r in raw if r["noise"] == ablation_noise], ("variant",))
    sweep = _summary([r for r in raw if r["variant"] in sweep_variants], ("noise", "variant"))
    print(f"\nAblation on {data_name}/{base} at noise {ablation_noise:g}, mean ± std over seeds {seeds}:")
    _print(ablation, ("variant",))
    if sweep:
        print("\nNoise sweep:")
        _print(sweep, ("noise", "variant"))
    common = dict(seeds=seeds, command=command, wall_seconds=wall, data=data_name, base=base, config=cfg.__dict__,
                  raw=raw)
    tag = data_name if data_name != "kg_pair" else f"{data_name}_{base}"
    paths = {"ablation": save_results(out_dir / f"{tag}_ablation.json", ablation, ablation_noise=ablation_noise, **common)}
    if sweep:
        paths["noise"] = save_results(out_dir / f"{tag}_noise.json", sweep, noises=noises, **common)
    return paths


def main(argv: list[str] | None = None) -> dict[str, Path]:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m companion.alinet", description=__doc__)
    p.add_argument("--data", default="kg_pair", choices=["kg_pair", "kg_pair_synthetic"])
    p.add_argument("--base", default="umls", help="pykeen KG behind kg_pair: umls or kinships")
    p.add_argument("--noises", default="0,0.25,0.5,0.75", help="comma-separated noise levels for the sweep")
    p.add_argument("--ablation-noise", type=float, default=0.5)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=Config.epochs)
    p.add_argument("--dims", default="64,64,32")
    p.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated ablation variants")
    p.add_argument("--num-counterparts", type=int, default=15000, help="kg_pair_synthetic only")
    p.add_argument("--out", default=str(repo_path("book", "04_alinet", "results")))
    args = p.parse_args(argv)
    noises = [float(x) for x in args.noises.split(",") if x]
    if args.seeds < 1 or args.epochs < 1:
        raise ValueError(f"--seeds and --epochs must be >= 1, got {args.seeds} and {args.epochs}")
    cfg = Config(epochs=args.epochs, dims=tuple(int(d) for d in args.dims.split(",")))
    extra = {"num_counterparts": args.num_counterparts} if args.data == "kg_pair_synthetic" else {}
    variants = tuple(v for v in args.variants.split(",") if v)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    sweep = SWEEP_VARIANTS if args.data == "kg_pair" else ()
    return run(args.data, args.base, noises, args.ablation_noise, list(range(args.seeds)), cfg, sweep,
               Path(args.out), argv, variants=variants, **extra)


if __name__ == "__main__":
    main()
