"""CLI: ``python -m companion.alinet --data kg_pair`` runs the ablation table and the noise sweep.

Writes ``<tag>_ablation.json`` (every ``--variants`` at ``--ablation-noise``) and, for
``kg_pair``, ``<tag>_noise.json`` (GCN-Align, AliNet w/o distant and AliNet at every ``--noises``)
into ``./results`` (``--out`` a folder; ``--publish`` writes ``book/04_alinet/results/``), where
``<tag>`` is ``kg_pair_<base>`` or ``kg_pair_synthetic``. Each file holds one row per
(noise, variant, seed) and the summary over seeds.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from companion import data
from companion.alinet.training import VARIANTS, Config, fit, prepare
from companion.cli import chapter_parser, float_in, float_list, int_at_least, int_list, start_run, str_list
from companion.data.kg_pair import PYKEEN_KGS
from companion.results import load_results, save_results, summary_table

SWEEP_VARIANTS = ("GCN-Align", "AliNet w/o distant", "AliNet")
METRICS = {"hits@1": True, "hits@10": True, "mrr": True, "seconds": False}
TIMING = ["seconds"]
DEFAULT_NOISES = [0.0, 0.25, 0.5, 0.75]
DEFAULT_COUNTERPARTS = 15000


def build_parser() -> argparse.ArgumentParser:
    p = chapter_parser("python -m companion.alinet", __doc__.splitlines()[0], seeds=(0, 1, 2))
    p.add_argument("--data", default="kg_pair", choices=["kg_pair", "kg_pair_synthetic"])
    p.add_argument("--base", default=None, choices=PYKEEN_KGS, help="pykeen KG behind kg_pair (default umls)")
    p.add_argument("--noises", type=float_list(0, 1), default=None,
                   help="noise levels of the kg_pair sweep (comma list; default 0,0.25,0.5,0.75)")
    p.add_argument("--ablation-noise", type=float_in(0, 1), default=0.5, help="noise level of the ablation table")
    p.add_argument("--epochs", type=int_at_least(1), default=Config.epochs)
    p.add_argument("--dims", type=int_list(1), default=list(Config.dims),
                   help="embedding size, then one output size per layer (comma list, >= 2 entries)")
    p.add_argument("--variants", type=str_list(tuple(VARIANTS)), default=list(VARIANTS),
                   help="ablation variants (comma list)")
    p.add_argument("--num-counterparts", type=int_at_least(10), default=None,
                   help=f"kg_pair_synthetic only: entities per view (default {DEFAULT_COUNTERPARTS})")
    return p


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Cross-flag checks (parser.error: exit status 2, before any work)."""
    if len(args.dims) < 2:
        p.error(f"--dims: expected the embedding size and >= 1 layer size, got {args.dims}")
    if len(set(args.variants)) != len(args.variants):
        p.error(f"--variants: each variant once, got {args.variants}")
    if args.data == "kg_pair_synthetic":
        for flag, value in (("--base", args.base), ("--noises", args.noises)):
            if value is not None:
                p.error(f"{flag} applies to --data kg_pair only (kg_pair_synthetic has no base KG and no sweep)")
    elif args.num_counterparts is not None:
        p.error("--num-counterparts applies to --data kg_pair_synthetic only")
    if args.noises is not None and len(set(args.noises)) != len(args.noises):
        p.error(f"--noises: each level once, got {args.noises}")


def run(args: argparse.Namespace, seeds: Sequence[int]) -> list[dict]:
    """Train every (noise, variant, seed) job; one row per job."""
    sweep = SWEEP_VARIANTS if args.data == "kg_pair" else ()
    noises = (args.noises if args.noises is not None else DEFAULT_NOISES) if sweep else []
    load_kw = ({"base": args.base or "umls"} if args.data == "kg_pair"
               else {"num_counterparts": args.num_counterparts or DEFAULT_COUNTERPARTS})
    cfg = Config(epochs=args.epochs, dims=tuple(args.dims))
    jobs = [(args.ablation_noise, v) for v in args.variants]
    jobs += [(nz, v) for nz in noises for v in sweep if (nz, v) not in jobs]
    rows = []
    for seed in seeds:
        for noise in sorted({nz for nz, _ in jobs}):
            inputs = prepare(data.load(args.data, noise=noise, seed=seed, **load_kw), seed=seed)
            for variant in [v for nz, v in jobs if nz == noise]:
                res = fit(inputs, cfg, seed=seed, desc=f"{variant} noise={noise:g} seed={seed}", **VARIANTS[variant])
                rows.append({"setting": {"noise": noise}, "method": variant, "seed": seed, **res["metrics"],
                             "seconds": res["seconds"]})
                print(f"noise={noise:g} seed={seed} {variant:26s} "
                      + " ".join(f"{m}={res['metrics'][m]:.3f}" for m in ("hits@1", "hits@10", "mrr")), flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> dict[str, Path]:
    p = build_parser()
    args = p.parse_args(argv)
    check_args(p, args)
    run_ = start_run(p, args, module="companion.alinet", chapter="04_alinet", argv=argv, one_file=False)
    rows = run(args, run_.seeds)
    tag = args.data if args.data != "kg_pair" else f"kg_pair_{args.base or 'umls'}"
    cfg = Config(epochs=args.epochs, dims=tuple(args.dims))
    common = dict(seeds=run_.seeds, command=run_.command, metrics=METRICS, timing=TIMING,
                  wall_seconds=run_.wall_seconds, data=args.data, base=(args.base or "umls") if args.data == "kg_pair"
                  else None, config=cfg.__dict__)
    if args.data == "kg_pair_synthetic":
        common["num_counterparts"] = args.num_counterparts or DEFAULT_COUNTERPARTS
    ablation = [r for r in rows if r["setting"]["noise"] == args.ablation_noise and r["method"] in args.variants]
    paths = {"ablation": save_results(run_.path(f"{tag}_ablation.json"), ablation,
                                      ablation_noise=args.ablation_noise, **common)}
    sweep = [r for r in rows if r["method"] in SWEEP_VARIANTS] if args.data == "kg_pair" else []
    if sweep:
        noises = args.noises if args.noises is not None else DEFAULT_NOISES
        paths["noise"] = save_results(run_.path(f"{tag}_noise.json"), sweep, noises=noises, **common)
    for name, path in paths.items():
        print(f"\n{name} ({path}), mean ± std (seeds):")
        print(summary_table(load_results(path), metrics=["hits@1", "hits@10", "mrr"]).to_string())
    return paths


if __name__ == "__main__":
    main()
