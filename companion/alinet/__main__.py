"""CLI: ``python -m companion.alinet --data kg_pair_synthetic`` tunes on validation, then runs the ablation.

For each noise level of ``--noises``, on the seed-0 pair: every method family (AliNet and GCN-Align)
tries the same grid (:data:`GRIDS`: 2 learning rates x 2 margins, the epochs chosen by early stopping)
on a validation slice (``--valid-ratio``) of the *seed* pairs, never the test pairs, and keeps the
configuration with the best validation Hits@1; AliNet's ablation variants share AliNet's choice.
Then every ``--variants`` runs at every noise level for every seed (data and model seeded alike), and
the file gets one row per (noise, method, seed), plus a ``random`` row (the exact Hits@k and MRR of a
random ranking of the test candidates). The variant ``"degree matching"`` (opt-in) adds the
training-free degree matcher of :func:`~companion.alinet.baselines.degree_matching`, untuned. Writes ``<tag>_ablation.json`` into ``./results`` (``--out``
a folder or a .json path; ``--publish`` writes ``book/04_alinet/results/``), where ``<tag>`` is
``kg_pair_<base>`` or ``kg_pair_synthetic``. Finished noise levels (tuning) and seeds are saved as they
end, so a killed run resumes when rerun with the same command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import torch

from companion import data
from companion.alinet.baselines import degree_matching
from companion.alinet.training import VARIANTS, Config, fit, prepare
from companion.cli import (RunProgress, add_list_argument, chapter_parser, cli_entry, float_in, float_list,
                           int_at_least, int_list, require_packages, run_seeds, start_run, str_list)
from companion.data.kg_pair import PYKEEN_KGS
from companion.results import SeedCheckpoint, load_results, save_results, summary_table
from companion.utils import Timer

METRICS = {"hits@1": True, "hits@10": True, "mrr": True, "valid_hits@1": True, "best_epoch": None,
           "seconds": False}
TIMING = ["seconds"]
DEFAULT_NOISES = [0.0, 0.3]
DEFAULT_COUNTERPARTS = 2500
DEFAULT_VARIANTS = ["GCN-Align", "AliNet w/o distant", "AliNet w/o attention", "AliNet w/o gate",
                    "AliNet w/o augmentation", "AliNet"]
# The same budget for both families: 2 learning rates x 2 margins, epochs by early stopping on validation.
# AliNet: Adam around the official 0.001 and margin 1.5; GCN-Align: SGD around its code's 25 and margin 3.
# Trivial baselines with nothing to train or tune, run beside the variants when named in --variants.
TRIVIAL = ("degree matching",)
GRIDS = {
    "alinet": {"lr": [0.001, 0.005], "neg_margin": [1.0, 1.5]},
    "gcn_align": {"lr": [5.0, 25.0], "neg_margin": [1.0, 3.0]},
}


def family(variant: str) -> str | None:
    """The tuning family of ``variant``; ``None`` for a trivial baseline, which has nothing to tune."""
    if variant in TRIVIAL:
        return None
    return VARIANTS[variant].get("model", "alinet")


EXAMPLES = [
    "python -m companion.alinet --data kg_pair_synthetic --num-counterparts 1600 --noises 0 0.3 0.6 "
    "--seeds 0 1 2 --epochs 300 --threads 1",
    "python -m companion.alinet --data kg_pair --base umls --noises 0 0.5 --epochs 12 --dims 8 8 4 "
    "--variants GCN-Align AliNet --seeds 0",
]


def build_parser() -> argparse.ArgumentParser:
    p = chapter_parser("python -m companion.alinet", __doc__.splitlines()[0], seeds=(0, 1, 2), examples=EXAMPLES)
    p.add_argument("--data", default="kg_pair_synthetic", choices=["kg_pair", "kg_pair_synthetic"],
                   help="kg_pair: two views of a real KG shipped with pykeen (needs pykeen); kg_pair_synthetic: "
                        "the same two views of a generated power-law KG")
    p.add_argument("--base", default=None, choices=PYKEEN_KGS,
                   help="kg_pair only: the pykeen KG behind the two views (default: umls)")
    add_list_argument(p, "--noises", float_list(0, 1), default=None,
                      help="noise levels, space-separated: the probability that a triple is dropped or rerouted "
                           "in a view; every variant runs at each "
                           f"(default: {' '.join(f'{n:g}' for n in DEFAULT_NOISES)})")
    p.add_argument("--epochs", type=int_at_least(1), default=300,
                   help="maximum training epochs (early stopping on validation Hits@1)")
    add_list_argument(p, "--dims", int_list(1), default=list(Config.dims),
                      help="embedding size, then one output size per layer, space-separated (>= 2 entries)")
    add_list_argument(p, "--variants", str_list((*VARIANTS, *TRIVIAL)), default=DEFAULT_VARIANTS,
                      help="methods to run, space-separated; quote names with spaces, e.g. 'AliNet w/o gate' "
                           f"(default: all but {', '.join(repr(v) for v in (*VARIANTS, *TRIVIAL) if v not in DEFAULT_VARIANTS)})")
    p.add_argument("--valid-ratio", type=float_in(0.01, 0.5), default=0.2,
                   help="share of the seed pairs held out for validation (tuning and early stopping)")
    p.add_argument("--num-counterparts", type=int_at_least(10), default=None,
                   help=f"kg_pair_synthetic only: entities per view (default: {DEFAULT_COUNTERPARTS})")
    return p


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Cross-flag checks (parser.error: exit status 2, before any work)."""
    if len(args.dims) < 2:
        p.error(f"--dims: expected the embedding size and >= 1 layer size, got {args.dims}")
    if len(set(args.variants)) != len(args.variants):
        p.error(f"--variants: each variant once, got {args.variants}")
    if args.data == "kg_pair_synthetic":
        if args.base is not None:
            p.error("--base applies to --data kg_pair only (kg_pair_synthetic has no base KG)")
    elif args.num_counterparts is not None:
        p.error("--num-counterparts applies to --data kg_pair_synthetic only")
    if args.noises is not None and len(set(args.noises)) != len(args.noises):
        p.error(f"--noises: each level once, got {args.noises}")


def load_pair(args: argparse.Namespace, noise: float, seed: int):
    kw = ({"base": args.base or "umls"} if args.data == "kg_pair"
          else {"num_counterparts": args.num_counterparts or DEFAULT_COUNTERPARTS})
    return prepare(data.load(args.data, noise=noise, seed=seed, **kw), seed=seed,
                   valid_ratio=args.valid_ratio).to(args.device)


def tune(args: argparse.Namespace, cfg: Config, noise: float, families: list[str]) -> dict:
    """Every grid point of every family on the seed-0 pair's validation slice; the best by validation Hits@1."""
    inputs = load_pair(args, noise, 0)
    out = {}
    for fam in families:
        base = VARIANTS["GCN-Align"] if fam == "gcn_align" else VARIANTS["AliNet"]
        grid = GRIDS[fam]
        tried = []
        for lr in grid["lr"]:
            for margin in grid["neg_margin"]:
                res = fit(inputs, cfg, seed=0, desc=f"tune {fam} lr={lr:g} margin={margin:g} noise={noise:g}",
                          **{**base, "lr": lr, "neg_margin": margin})
                tried.append({"lr": lr, "neg_margin": margin, "valid_hits@1": res["valid_hits@1"],
                              "best_epoch": res["best_epoch"], "epochs_run": res["epochs_run"]})
                print(f"tune noise={noise:g} {fam:9s} lr={lr:g} margin={margin:g} "
                      f"valid hits@1={res['valid_hits@1']:.3f} (epoch {res['best_epoch']})", flush=True)
        best = max(tried, key=lambda t: (t["valid_hits@1"], -t["best_epoch"]))
        out[fam] = {"grid": tried, "chosen": {"lr": best["lr"], "neg_margin": best["neg_margin"]}}
    return out


def random_row(noise: float, seed: int, n: int) -> dict:
    """The exact expected Hits@1/10 and MRR of a uniformly random ranking of ``n`` candidates."""
    mrr = float(sum(1.0 / r for r in range(1, n + 1)) / n)
    return {"setting": {"noise": noise}, "method": "random", "seed": seed, "hits@1": 1.0 / n,
            "hits@10": min(10, n) / n, "mrr": mrr, "valid_hits@1": None, "best_epoch": None, "seconds": 0.0}


def degree_row(noise: float, seed: int, inputs) -> dict:
    """The training-free degree matcher on ``inputs``' test pairs (no seeds, no tuning)."""
    with Timer() as timer:
        metrics = degree_matching(inputs.pair, inputs.test.cpu() - torch.tensor([0, inputs.n1]))
    return {"setting": {"noise": noise}, "method": "degree matching", "seed": seed, **metrics,
            "valid_hits@1": None, "best_epoch": None, "seconds": timer.seconds}


def run(args: argparse.Namespace, seeds: Sequence[int], cfg: Config, tune_ckpt: SeedCheckpoint,
        seed_ckpt: SeedCheckpoint, display: RunProgress | None = None) -> tuple[list[dict], dict, dict]:
    """Tune at every noise level, then run every variant at every level for each seed.

    ``display`` counts one unit per noise level tuned and one per (seed, noise level):
    ``len(noises) * (1 + len(seeds))`` in all.
    """
    noises = args.noises if args.noises is not None else DEFAULT_NOISES
    families = sorted({family(v) for v in args.variants} - {None}, key=["alinet", "gcn_align"].index)
    # the tuning checkpoint's "seeds" are the indices of the noise levels
    tuned = run_seeds(range(len(noises)), lambda i: [tune(args, cfg, noises[i], families)], checkpoint=tune_ckpt,
                      display=display, label=lambda i: f"tuning, noise {noises[i]:g}")
    tuning = dict(zip(noises, tuned))
    sizes = {}

    def record_sizes(noise: float, seed: int, inputs) -> None:
        sizes[f"noise={noise:g} seed={seed}"] = {"train": len(inputs.seeds), "valid": len(inputs.valid),
                                                 "test": len(inputs.test)}

    def seed_rows(seed: int) -> list[dict]:
        rows = []
        for noise in noises:
            inputs = load_pair(args, noise, seed)
            record_sizes(noise, seed, inputs)
            rows.append(random_row(noise, seed, len(inputs.test)))
            for variant in args.variants:
                if variant == "degree matching":
                    rows.append(degree_row(noise, seed, inputs))
                    continue
                chosen = tuning[noise][family(variant)]["chosen"]
                res = fit(inputs, cfg, seed=seed, desc=f"{variant} noise={noise:g} seed={seed}",
                          **{**VARIANTS[variant], **chosen})
                rows.append({"setting": {"noise": noise}, "method": variant, "seed": seed, **res["metrics"],
                             "valid_hits@1": res["valid_hits@1"], "best_epoch": res["best_epoch"],
                             "seconds": res["seconds"]})
                print(f"noise={noise:g} seed={seed} {variant:26s} "
                      + " ".join(f"{m}={res['metrics'][m]:.3f}" for m in ("hits@1", "hits@10", "mrr"))
                      + f" valid={res['valid_hits@1']:.3f} epoch={res['best_epoch']}", flush=True)
            if display is not None:
                display.done(f"seed {seed}, noise {noise:g}")
        return rows

    rows = run_seeds(seeds, seed_rows, checkpoint=seed_ckpt, display=display, units=len(noises))
    for seed in seeds:
        for noise in noises:
            if f"noise={noise:g} seed={seed}" not in sizes:
                # a kept seed: its pairs are rebuilt (seconds), so that the file records every seed's split sizes
                record_sizes(noise, seed, load_pair(args, noise, seed))
    # in seed order, then noise order, however many seeds were kept
    sizes = {key: sizes[key] for seed in seeds for key in (f"noise={noise:g} seed={seed}" for noise in noises)}
    return rows, tuning, sizes


def main(argv: Sequence[str] | None = None) -> dict[str, Path]:
    p = build_parser()
    args = p.parse_args(argv)
    if args.data == "kg_pair":  # its base KGs are text files shipped inside pykeen
        require_packages(p, "pykeen")
    check_args(p, args)
    run_ = start_run(p, args, module="companion.alinet", chapter="04_alinet", argv=argv, one_file=True)
    tag = args.data if args.data != "kg_pair" else f"kg_pair_{args.base or 'umls'}"
    name = f"{tag}_ablation.json"
    cfg = Config(epochs=args.epochs, dims=tuple(args.dims))
    tune_ckpt = SeedCheckpoint(str(run_.path(name)) + ".tuning", run_.command)
    seed_ckpt = run_.checkpoint(name)
    noises = args.noises if args.noises is not None else DEFAULT_NOISES
    with run_.progress(len(noises) * (1 + len(run_.seeds))) as display:
        rows, tuning, sizes = run(args, run_.seeds, cfg, tune_ckpt, seed_ckpt, display)
    extra = dict(data=args.data, base=(args.base or "umls") if args.data == "kg_pair" else None,
                 num_counterparts=(args.num_counterparts or DEFAULT_COUNTERPARTS)
                 if args.data == "kg_pair_synthetic" else None,
                 noises=noises, variants=args.variants, valid_ratio=args.valid_ratio, config=cfg.__dict__,
                 variant_overrides={v: VARIANTS[v] for v in args.variants if v in VARIANTS}, grids=GRIDS,
                 tuning=[{"noise": nz, **tuning[nz]} for nz in noises], split_sizes=sizes,
                 torch_threads=torch.get_num_threads())
    path = save_results(run_.path(name), rows, seeds=run_.seeds, command=run_.command, metrics=METRICS,
                        timing=TIMING, wall_seconds=run_.wall_seconds, **extra)
    seed_ckpt.finish()
    tune_ckpt.finish()
    print(f"\n{path}, mean ± std (seeds):")
    print(summary_table(load_results(path), metrics=["hits@1", "hits@10", "mrr"]).to_string())
    return {"ablation": path}


if __name__ == "__main__":
    sys.exit(cli_entry(main))
