"""CLI: ``python -m companion.kgcn --density 0.2 --fractions 0.2 0.4 0.6 0.8 1.0 --seeds 0 1 2``.

Trains BPR-MF, KGCN (no LS) and KGCN-LS (and, with ``--models ... Popularity``, scores
the popularity baseline) for every training fraction and seed, prints a table of
AUC, F1 and Recall@{5,10,20} (mean and std over seeds) and writes one results file (schema of
:mod:`companion.results`, one row per fraction, model and seed) under ``./results/``:
``sparsity.json`` for several fractions, ``kgcn.json`` for one (``_kgcn_files`` added for the
paper's files; ``_equal`` before it with ``--steps``).

``--grid-lr``, ``--grid-l2-bprmf`` and ``--grid-l2-kgcn`` tune every trained model on the eval
rows over a grid of the same size (lr x L2 weight), separately for every seed and fraction
(``_tuned`` in the file name); the rows record the chosen setting.

``--steps N`` gives every model the same budget of N optimiser steps at every fraction
instead of ``--epochs`` epochs (a fixed number of epochs gives a model trained on 20 %
of the rows five times fewer steps than one trained on all of them).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from companion import data as datasets
from companion.cli import cli_entry, chapter_parser, float_in, int_at_least, run_seeds, start_run
from companion.data.kg_recsys import load_kg_recsys
from companion.kgcn.train import BASELINES, EXTRA_MODELS, MODELS, KGCNConfig, run_comparison
from companion.results import load_results, mean_std_text, save_results, summary_lookup

METRICS = {"auc": True, "f1": True, "recall@5": True, "recall@10": True, "recall@20": True}
TUNED = ("lr", "l2_weight", "eval_auc")  # what a tuned row adds: the chosen setting and its eval AUC
GENERATED_ONLY = ("density", "n_users", "n_items")   # knobs of the generated kg_recsys world
# their defaults, read from the generator (the flags default to None: given or not matters for kgcn_files)
GENERATED_DEFAULTS = {k: inspect.signature(load_kg_recsys).parameters[k].default for k in GENERATED_ONLY}
EXAMPLES = ["python -m companion.kgcn --density 0.2 --fractions 0.2 0.4 0.6 0.8 1.0 --seeds 0 1 2 --epochs 15 "
            "--lr 5e-3 --batch-size 128 --topk-users 50 --threads 1",
            "python -m companion.kgcn --density 0.2 --fractions 0.2 0.4 0.6 0.8 1.0 --seeds 0 1 2 --lr 5e-3 "
            "--batch-size 128 --topk-users 50 --threads 1 --models BPR-MF KGCN KGCN-LS Popularity --steps 3465"]


def default_filename(fractions: list[float], data: str,
                     steps: int | None = None, tuned: bool = False, models: list[str] | None = None) -> str:
    """The file a run writes: ``sparsity`` for a sweep over fractions, else ``kgcn``,
    with ``_equal`` for an equal step budget (``--steps``, so that ``--publish`` keeps
    the fixed-epoch file) and ``_tuned`` for a tuning grid; a run of none of the default
    models adds its models' names (``_mf``), so that it never overwrites a comparison; the data
    set is named unless it is the generated world."""
    stem = "sparsity" if len(fractions) > 1 else "kgcn"
    stem += "" if steps is None else "_equal"
    stem += "_tuned" if tuned else ""
    if models and not set(models) & set(MODELS):
        stem += "".join(f"_{m.lower()}" for m in models)
    return f"{stem}.json" if data == "kg_recsys" else f"{stem}_{data}.json"


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m companion.kgcn`` (every flag with its help)."""
    p = chapter_parser("python -m companion.kgcn", __doc__.split("\n\n")[0], examples=EXAMPLES)
    d = p.add_argument_group("data")
    d.add_argument("--data", default="kg_recsys", choices=["kg_recsys", "kgcn_files"],
                   help="kg_recsys (generated) or kgcn_files (the paper's preprocessed files; needs --root)")
    d.add_argument("--root", default=None,
                   help="kgcn_files: folder with ratings_final.txt and kg_final.txt "
                        "(default $COMPANION_DATA/kgcn_movie)")
    d.add_argument("--density", type=float_in(0, 0.5, low_open=True), default=None,
                   help=f"kg_recsys: share of the movies each user watches "
                        f"(default {GENERATED_DEFAULTS['density']:g}, the generator's)")
    d.add_argument("--n-users", type=int_at_least(2), default=None,
                   help=f"kg_recsys: number of users (default {GENERATED_DEFAULTS['n_users']}, the generator's)")
    d.add_argument("--n-items", type=int_at_least(20), default=None,
                   help=f"kg_recsys: number of movies (default {GENERATED_DEFAULTS['n_items']}, the generator's)")
    m = p.add_argument_group("model and training")
    m.add_argument("--aggregator", default="sum", choices=["sum", "concat", "neighbor"],
                   help="how a KGCN layer combines an entity's vector v with its neighbourhood's v_N: "
                        "sum W(v + v_N), concat W[v; v_N] or neighbor W v_N")
    m.add_argument("--ls-weight", type=float_in(0, float("inf")), default=KGCNConfig.ls_weight,
                   help="weight of the label-smoothness loss in KGCN-LS (KGCN is the same model with 0)")
    m.add_argument("--l2-weight", type=float_in(0, float("inf")), default=KGCNConfig.l2_weight,
                   help="weight of the L2 penalty on the embedding rows a batch uses and the aggregator weights "
                        "(KGCN, KGCN-LS)")
    m.add_argument("--n-iter", type=int_at_least(1), default=KGCNConfig.n_iter,
                   help="hops of the knowledge graph each item's vector aggregates (KGCN layers)")
    m.add_argument("--neighbor-sample-size", type=int_at_least(1), default=KGCNConfig.neighbor_sample_size,
                   help="neighbours sampled per entity, a fixed-size table drawn once per seed")
    m.add_argument("--dim", type=int_at_least(1), default=KGCNConfig.dim,
                   help="embedding size of users, items, entities and relations (BPR-MF too)")
    m.add_argument("--lr", type=float_in(0, float("inf"), low_open=True), default=KGCNConfig.lr,
                   help="Adam learning rate of every trained model")
    m.add_argument("--batch-size", type=int_at_least(1), default=KGCNConfig.batch_size,
                   help="training rows per optimiser step")
    budget = m.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=int_at_least(1), default=KGCNConfig.n_epochs,
                        help="passes over the training rows for every model (see --steps)")
    budget.add_argument("--steps", type=int_at_least(1), default=None,
                        help="optimiser steps for every model at every fraction "
                             "(instead of --epochs: an equal budget)")
    t = p.add_argument_group("tuning (on the eval rows, per seed and fraction; all three grid flags together)")
    t.add_argument("--grid-lr", type=float_in(0, float("inf"), low_open=True), nargs="+", default=None,
                   help="learning rates tried for every trained model (instead of --lr)")
    t.add_argument("--grid-l2-bprmf", type=float_in(0, float("inf")), nargs="+", default=None,
                   help="BPR-MF (and MF) L2 weights tried (without a grid they use 1e-4)")
    t.add_argument("--grid-l2-kgcn", type=float_in(0, float("inf")), nargs="+", default=None,
                   help="KGCN and KGCN-LS L2 weights tried (instead of --l2-weight); as many as --grid-l2-bprmf, "
                        "so that every model gets a grid of the same size")
    e = p.add_argument_group("experiment")
    e.add_argument("--fractions", type=float_in(0, 1, low_open=True), nargs="+", default=[1.0],
                   help="shares of the training rows kept, space-separated (the test rows stay the same); "
                        "several write sparsity.json, one kgcn.json")
    e.add_argument("--models", nargs="+", default=list(MODELS),
                   choices=[*MODELS, *EXTRA_MODELS, *BASELINES],
                   help="models to compare, space-separated; Popularity scores an item by its number of "
                        "training positives (not trained); MF is BPR-MF's model trained like KGCN "
                        "(cross-entropy on the fixed rows)")
    e.add_argument("--topk-users", type=int_at_least(1), default=100,
                   help="users (at most) over whom Recall@K is averaged")
    return p


def validate(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Cross-flag checks, before any work (``parser.error``: exit status 2, the flag named)."""
    for flag, values in (("--seeds", args.seeds), ("--fractions", args.fractions), ("--models", args.models)):
        if len(set(values)) != len(values):
            p.error(f"{flag}: each value once, got {values}")
    if args.data == "kgcn_files":
        given = [f"--{k.replace('_', '-')}" for k in GENERATED_ONLY if getattr(args, k) is not None]
        if given:
            p.error(f"{', '.join(given)}: only for --data kg_recsys (the files fix users, items and density)")
        if args.root is None and "COMPANION_DATA" not in os.environ:
            p.error("--root: --data kgcn_files needs --root (a folder with ratings_final.txt and kg_final.txt) "
                    "or COMPANION_DATA")
        if args.root is not None and not Path(args.root).is_dir():
            p.error(f"--root: {args.root} is not a folder")
    elif args.root is not None:
        p.error("--root: only for --data kgcn_files")
    grid_flags = {"--grid-lr": args.grid_lr, "--grid-l2-bprmf": args.grid_l2_bprmf,
                  "--grid-l2-kgcn": args.grid_l2_kgcn}
    given = [f for f, v in grid_flags.items() if v is not None]
    if given and len(given) < 3:
        p.error(f"{', '.join(f for f in grid_flags if f not in given)}: a tuning grid needs all of "
                f"{', '.join(grid_flags)} (given: {', '.join(given)})")
    if given:
        for flag, values in grid_flags.items():
            if len(set(values)) != len(values):
                p.error(f"{flag}: each value once, got {values}")
        if len(args.grid_l2_bprmf) != len(args.grid_l2_kgcn):
            p.error(f"--grid-l2-kgcn: as many values as --grid-l2-bprmf ({len(args.grid_l2_bprmf)}), so that "
                    f"every model gets a grid of the same size; got {len(args.grid_l2_kgcn)}")


def tuning_grid(args: argparse.Namespace) -> dict[str, list[dict]] | None:
    """The grid of every trained model (lr x L2 weight), or None without the grid flags."""
    if args.grid_lr is None:
        return None
    l2 = {"BPR-MF": args.grid_l2_bprmf, "MF": args.grid_l2_bprmf, "KGCN": args.grid_l2_kgcn,
          "KGCN-LS": args.grid_l2_kgcn}
    return {m: [{"lr": lr, "l2_weight": w} for lr in args.grid_lr for w in l2[m]] for m in l2 if m in args.models}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = build_parser()
    args = parser.parse_args(argv)
    validate(parser, args)
    if args.data == "kgcn_files":
        kwargs = {"root": args.root}
    else:
        kwargs = {k: getattr(args, k) for k in GENERATED_ONLY if getattr(args, k) is not None}
    try:  # reading the files is part of checking --root: a bad file fails here, before training
        data = datasets.load(args.data, **kwargs)
    except (FileNotFoundError, ValueError) as e:
        parser.error(f"--root: {e}" if args.data == "kgcn_files" else f"--data {args.data}: {e}")
    run = start_run(parser, args, module="companion.kgcn", chapter="06_kgcn", argv=argv)
    config = KGCNConfig(dim=args.dim, n_iter=args.n_iter, neighbor_sample_size=args.neighbor_sample_size,
                        aggregator=args.aggregator, ls_weight=args.ls_weight, l2_weight=args.l2_weight,
                        lr=args.lr, batch_size=args.batch_size, n_epochs=args.epochs)
    grid = tuning_grid(args)
    filename = default_filename(args.fractions, args.data, args.steps, tuned=grid is not None, models=args.models)
    # every fraction and model of a seed, then the next seed (run_comparison's order): each finished
    # seed is kept, and a rerun of the same command resumes after it
    ckpt = run.checkpoint(filename)

    def seed_rows(seed: int) -> list[dict]:
        def count(row: dict) -> None:  # a fraction is done when its last model is
            if row["model"] == args.models[-1]:
                display.done(f"seed {seed}, fraction {row['fraction']:g}")

        runs = run_comparison(data, args.fractions, [seed], config, args.models,
                              topk_users=args.topk_users, steps=args.steps, on_row=count, grid=grid,
                              device=run.device)
        return [{"setting": {"fraction": r["fraction"]}, "method": r["model"], "seed": r["seed"],
                 **{m: r[m] for m in METRICS}, **{k: r[k] for k in TUNED if k in r}} for r in runs]

    with run.progress(len(run.seeds) * len(args.fractions)) as display:  # a unit: one fraction of one seed
        rows = run_seeds(run.seeds, seed_rows, checkpoint=ckpt, display=display, units=len(args.fractions))
    data_kwargs = {k: str(v) if k == "root" else v for k, v in kwargs.items()}
    metrics = METRICS if grid is None else {**METRICS, "eval_auc": True}
    path = save_results(run.path(filename), rows, seeds=run.seeds,
                        command=run.command, metrics=metrics, wall_seconds=run.wall_seconds,
                        config=asdict(config), data=args.data,
                        data_kwargs=data_kwargs,
                        **({} if args.steps is None else {"steps": args.steps}),
                        **({} if grid is None else {"grid": grid}))
    ckpt.finish()
    summary = summary_lookup(load_results(path))
    print(f"{'fraction':>8s} {'model':10s} " + " ".join(f"{m:>15s}" for m in METRICS))
    for fraction in args.fractions:
        for name in args.models:
            cells = [summary[(json.dumps({"fraction": fraction}), name, m)] for m in METRICS]
            means = " ".join(f"{mean_std_text(c['mean'], c['std']):>15s}" for c in cells)
            print(f"{fraction:8.2f} {name:10s} " + means)
    print(f"wrote {path} ({run.wall_seconds:.0f} s)")
    return rows


if __name__ == "__main__":
    sys.exit(cli_entry(main))
