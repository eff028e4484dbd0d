"""CLI: k-fold cross-validation of flat and DiffPool classifiers on one dataset.

    python -m companion.diffpool --dataset hier_graphs --folds 10 --epochs 40 --models flat-mean
    python -m companion.diffpool --dataset tu_local --tu-name ENZYMES --root ~/data/tu --folds 10
    python -m companion.diffpool --models diffpool diffpool-oracle --coarse-adj no-diag --readout max-concat

Prints the table (accuracy: mean over folds, then mean ± std over seeds; CPU seconds per training
epoch) and writes one row per (model, seed) to ``./results/cv_<dataset>_<model>.json`` when one
model runs, ``cv_<dataset>.json`` for several (or ``--out``; ``--publish`` writes the book's
``book/08_diffpool/results/``).

``--coarse-adj`` and ``--readout`` change the DiffPool models only (``diffpool``, ``diffpool-pyg``,
``diffpool-oracle``). With a value other than the default (``raw``, ``mean``) those models are
labelled ``<model>+<value>...`` (``diffpool+no-diag+max-concat``) in the rows, the table and the
file name, so a variant never overwrites the default run's file. The authors' code
(``RexYing/diffpool``) uses ``--coarse-adj raw --readout max-concat``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from companion import data
from companion.cli import (RunProgress, add_list_argument, chapter_parser, cli_entry, float_in, int_at_least,
                           run_seeds, start_run, str_list)
from companion.diffpool.pool import COARSE_ADJ
from companion.diffpool.train import (DEFAULT_MODELS, DIFFPOOL_MODELS, MODELS, ORACLE, READOUT_OPTIONS,
                                      cross_validate, stratified_folds)
from companion.results import mean_std_text, save_results, summarize

DATASETS = ("hier_graphs", "ba2motifs", "tu_local")  # graph-classification datasets of companion.data
GENERATORS = ("hier_graphs", "ba2motifs")
WITH_COMMUNITIES = ("hier_graphs",)  # datasets whose graphs carry their planted `community` (for the oracle)
DEFAULTS = {"coarse_adj": "raw", "readout": "mean"}  # DiffPool options; other values label the model
METRICS = {"accuracy": True, "fold_std": None, "cpu_seconds_per_epoch": False}
TIMING = ("cpu_seconds_per_epoch",)


EXAMPLES = (
    # the book's runs (book/08_diffpool/results/cv3_flat.json, cv3_no-diag.json)
    "python -m companion.diffpool --dataset hier_graphs --folds 10 --epochs 40 --seeds 0 1 2 --threads 1 "
    "--models flat-mean flat-sum",
    "python -m companion.diffpool --dataset hier_graphs --folds 10 --epochs 40 --seeds 0 1 2 --threads 1 "
    "--models diffpool diffpool-oracle --coarse-adj no-diag",
)


def build_parser() -> argparse.ArgumentParser:
    p = chapter_parser("python -m companion.diffpool", __doc__.split("\n")[0], seeds=(0,), threads=1,
                       examples=EXAMPLES)
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default="hier_graphs", choices=DATASETS,
                   help="graph-classification dataset of companion.data (tu_local: a TU dataset on disk)")
    g.add_argument("--num-graphs", type=int_at_least(2), default=None,
                   help="generator datasets (hier_graphs, ba2motifs): how many graphs (default: the generator's)")
    g.add_argument("--tu-name", default=None, help="tu_local: which TU dataset (default: ENZYMES)")
    g.add_argument("--root", default=None,
                   help="tu_local: folder holding NAME/raw/ (default: $COMPANION_DATA/tu)")
    g.add_argument("--max-nodes", type=int_at_least(1), default=150,
                   help="drop graphs with more nodes than this (the DiffPool code's --max-nodes)")
    g = p.add_argument_group("cross-validation and model")
    add_list_argument(g, "--models", str_list(MODELS), default=list(DEFAULT_MODELS),
                      help="models to cross-validate, space-separated: flat GNN with mean or sum readout, DiffPool "
                           f"(ours, or PyG's dense_diff_pool), {ORACLE}: DiffPool with the planted communities "
                           "as its fixed first assignment (hier_graphs only)")
    g.add_argument("--folds", type=int_at_least(2), default=10,
                   help="k of the stratified k-fold cross-validation")
    g.add_argument("--max-folds", type=int_at_least(1), default=None,
                   help="run only the first folds (quick checks); at most --folds (default: all)")
    g.add_argument("--epochs", type=int_at_least(1), default=60,
                   help="training epochs per fold (the epoch of best validation accuracy is scored)")
    g.add_argument("--hidden", type=int_at_least(1), default=32, help="hidden units of every GNN layer")
    g.add_argument("--levels", type=int_at_least(1), default=1, help="DiffPool models: pooling levels")
    g.add_argument("--cluster-ratio", type=float_in(0, 1, low_open=True), default=0.25,
                   help="DiffPool models: clusters per level as a share of the previous level's nodes "
                        "(at level 0: of the largest graph's nodes), rounded up")
    g.add_argument("--num-layers", type=int_at_least(1), default=3,
                   help="GNN layers per block (flat models: this times levels + 1, the same depth)")
    g.add_argument("--batch-size", type=int_at_least(2), default=64,
                   help="graphs per batch (>= 2: batch norm needs two graphs)")
    g.add_argument("--lr", type=float_in(0, float("inf"), low_open=True, high_open=True), default=5e-3,
                   help="Adam learning rate")
    g.add_argument("--link-weight", type=float_in(0, float("inf"), high_open=True), default=1.0,
                   help="weight of DiffPool's link-prediction loss ||A - S S^T||_F in the training loss")
    g.add_argument("--entropy-weight", type=float_in(0, float("inf"), high_open=True), default=1.0,
                   help="weight of DiffPool's assignment-entropy loss in the training loss")
    g.add_argument("--coarse-adj", default="raw", choices=COARSE_ADJ,
                   help="DiffPool models: the coarsened adjacency S^T A S as is (raw, the paper's), with its "
                        "diagonal zeroed (no-diag), or zeroed then D^-1/2 A D^-1/2 (degree-norm, as MinCutPool)")
    g.add_argument("--readout", default="mean", choices=READOUT_OPTIONS,
                   help="DiffPool models: mean over the last level's clusters (ours), or max over nodes at every "
                        "level, concatenated (max-concat, the authors' code)")
    return p


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Cross-flag checks that need no data (exit status 2, the flag named)."""
    if len(set(args.models)) != len(args.models):
        p.error(f"--models must be distinct, got {args.models}")
    if len(set(args.seeds)) != len(args.seeds):
        p.error(f"--seeds must be distinct, got {args.seeds}")
    if args.max_folds is not None and args.max_folds > args.folds:
        p.error(f"--max-folds {args.max_folds} is larger than --folds {args.folds}")
    if not set(args.models) & set(DIFFPOOL_MODELS):
        for key, default in DEFAULTS.items():
            flag = "--" + key.replace("_", "-")
            if getattr(args, key) != default:
                p.error(f"{flag} {getattr(args, key)} applies to the DiffPool models {', '.join(DIFFPOOL_MODELS)}, "
                        f"but --models is {' '.join(args.models)}")
    if ORACLE in args.models and args.dataset not in WITH_COMMUNITIES:
        p.error(f"--models {ORACLE} needs planted communities, which only {', '.join(WITH_COMMUNITIES)} has, "
                f"not --dataset {args.dataset}")
    if args.dataset == "tu_local":
        if args.num_graphs is not None:
            p.error("--num-graphs applies to the generator datasets "
                    f"{', '.join(GENERATORS)}, not to --dataset tu_local")
        if args.root is not None and not Path(args.root).expanduser().is_dir():
            p.error(f"--root {args.root}: no such folder (it must hold {args.tu_name or 'ENZYMES'}/raw/)")
        args.tu_name = args.tu_name or "ENZYMES"
    else:
        for flag, value in (("--tu-name", args.tu_name), ("--root", args.root)):
            if value is not None:
                p.error(f"{flag} applies to --dataset tu_local only, not to {args.dataset}")


def load_graphs(p: argparse.ArgumentParser, args: argparse.Namespace) -> list:
    """The dataset's graphs with at most ``--max-nodes`` nodes; a dataset the folds cannot split
    is a flag error (before any training)."""
    kw = {}
    if args.dataset == "tu_local":
        kw = {"dataset": args.tu_name, "root": None if args.root is None else Path(args.root).expanduser()}
    elif args.num_graphs is not None:
        kw = {"num_graphs": args.num_graphs}
    try:
        graphs = data.load(args.dataset, **kw)
    except (FileNotFoundError, ValueError) as e:
        p.error(f"--dataset {args.dataset}: {e}")
    kept = [g for g in graphs if g.num_nodes <= args.max_nodes]
    if not kept:
        p.error(f"--max-nodes {args.max_nodes} drops all {len(graphs)} graphs of {args.dataset}")
    labels = np.array([int(g.y) for g in kept])
    if len(np.unique(labels)) < 2:
        p.error(f"--max-nodes {args.max_nodes} leaves graphs of a single class: nothing to classify")
    try:
        stratified_folds(labels, args.folds)
    except ValueError as e:
        p.error(f"--folds {args.folds}: {e}")
    return kept


def variant(args: argparse.Namespace) -> str:
    """The DiffPool options that differ from the defaults, joined by ``+`` (``""`` for the defaults)."""
    return "+".join(getattr(args, key) for key, default in DEFAULTS.items() if getattr(args, key) != default)


def method_label(kind: str, args: argparse.Namespace) -> str:
    """The model's name in the rows: ``kind``, plus ``+<option>`` for each non-default DiffPool option."""
    return f"{kind}+{variant(args)}" if kind in DIFFPOOL_MODELS and variant(args) else kind


def results_name(args: argparse.Namespace) -> str:
    """``cv_<dataset>_<model>.json`` for one model, ``cv_<dataset>.json`` for several; a non-default
    ``--coarse-adj``/``--readout`` is part of the name (``cv_hier_graphs_diffpool+no-diag.json``,
    ``cv_hier_graphs_no-diag.json``)."""
    name = args.tu_name if args.dataset == "tu_local" else args.dataset
    if len(args.models) == 1:
        return f"cv_{name}_{method_label(args.models[0], args)}.json"
    return f"cv_{name}_{variant(args)}.json" if variant(args) else f"cv_{name}.json"


def main(argv: list[str] | None = None) -> list[dict]:
    p = build_parser()
    args = p.parse_args(argv)
    check_args(p, args)
    graphs = load_graphs(p, args)
    run = start_run(p, args, module="companion.diffpool", chapter="08_diffpool", argv=argv, one_file=True)
    name = args.tu_name if args.dataset == "tu_local" else args.dataset
    labels = [method_label(kind, args) for kind in args.models]
    width = max(13, *map(len, labels))
    filename = results_name(args)
    # a seed cross-validates every model (each model's folds are seeded from the seed alone, so the
    # order does not change a number): each finished seed is kept, and a rerun of the same command
    # resumes after it
    ckpt = run.checkpoint(filename)
    with run.progress(len(run.seeds) * len(labels)) as display:  # a unit: one model of one seed
        seed_rows = run_seeds(run.seeds, lambda seed: _seed_rows(args, graphs, name, seed, width, display),
                              checkpoint=ckpt, display=display, units=len(labels))
    # the file lists a model's seeds together, models in --models order (as before checkpoints)
    rows = [r for label in labels for seed in run.seeds for r in seed_rows
            if r["method"] == label and r["seed"] == seed]
    out = save_results(run.path(filename), rows, seeds=run.seeds, command=run.command,
                       metrics=METRICS, timing=TIMING, wall_seconds=run.wall_seconds, dataset=name,
                       num_graphs=len(graphs),
                       settings={k: v for k, v in vars(args).items() if k not in ("out", "publish", "no_progress")})
    print(f"\n{'model':{width}s} {'accuracy (mean ± std over seeds)':>34s} {'CPU s/epoch':>12s}")
    summary = {(r["method"], r["metric"]): r for r in summarize(rows, METRICS, TIMING)}
    for label in labels:
        acc, sec = summary[(label, "accuracy")], summary[(label, "cpu_seconds_per_epoch")]
        print(f"{label:{width}s} {mean_std_text(acc['mean'], acc['std']):>29s} ({acc['n']}) {sec['mean']:12.3f}")
    ckpt.finish()
    print(f"wrote {out} ({run.wall_seconds:.0f} s)")
    return rows


def _seed_rows(args: argparse.Namespace, graphs: list, name: str, seed: int, width: int,
               display: RunProgress | None = None) -> list[dict]:
    """One seed's rows: every model of ``--models`` cross-validated (each printed, and counted on
    ``display``, as it ends)."""
    rows = []
    for kind in args.models:
        label = method_label(kind, args)
        # the DiffPool options go to the DiffPool models only, and only when set (defaults: as before)
        extra = {k: getattr(args, k) for k, d in DEFAULTS.items() if kind in DIFFPOOL_MODELS and getattr(args, k) != d}
        r = cross_validate(graphs, kind, folds=args.folds, epochs=args.epochs, seed=seed,
                           max_folds=args.max_folds, hidden=args.hidden, levels=args.levels,
                           cluster_ratio=args.cluster_ratio, num_layers=args.num_layers,
                           batch_size=args.batch_size, lr=args.lr, link_weight=args.link_weight,
                           entropy_weight=args.entropy_weight, **extra)
        rows.append({"setting": name, "method": label, "seed": seed, "accuracy": r["mean"],
                     "fold_std": r["std"], "cpu_seconds_per_epoch": r["cpu_seconds_per_epoch"],
                     "fold_acc": r["fold_acc"]})
        print(f"{label:{width}s} seed {seed}: acc {r['mean']:.3f} (std over {len(r['fold_acc'])} folds "
              f"{r['std']:.3f})   {r['cpu_seconds_per_epoch']:.3f} CPU s/epoch", flush=True)
        if display is not None:
            display.done(f"seed {seed}, {label}")
    return rows


if __name__ == "__main__":
    sys.exit(cli_entry(main))
