"""CLI: k-fold cross-validation of flat and DiffPool classifiers on one dataset.

    python -m companion.diffpool --dataset hier_graphs --folds 10 --epochs 40 --models flat-mean
    python -m companion.diffpool --dataset tu_local --tu-name ENZYMES --root ~/data/tu --folds 10
    python -m companion.diffpool --models diffpool diffpool-oracle --coarse-adj no-diag --readout max-concat
    python -m companion.diffpool --arch paper --aggr sum mean --data-seeds 0 1 --coarse-adj raw no-diag degree-norm

Prints the table (accuracy: mean over folds, then mean ± std over seeds; CPU seconds per training
epoch) and writes one row per (model, seed) to ``./results/cv_<dataset>_<model>.json`` when one
model runs, ``cv_<dataset>.json`` for several (or ``--out``; ``--publish`` writes the book's
``book/08_diffpool/results/``).

``--coarse-adj`` and ``--readout`` change the DiffPool models only (``diffpool``, ``diffpool-pyg``,
``diffpool-oracle``, ``diffpool-det``, ``diffpool-nolp``). With a value other than the default
(``raw``, ``mean``) those models are labelled ``<model>+<value>...`` (``diffpool+no-diag+max-concat``)
in the rows, the table and the file name, so a variant never overwrites the default run's file.
The authors' code (``RexYing/diffpool``) uses ``--coarse-adj raw --readout max-concat``.

Several ``--coarse-adj`` values train every DiffPool model once per value, and add the row
``<model>+val-chosen``: on each outer fold, the value whose model had the best accuracy on the
fold's inner validation split (the split that also picks the epoch), scored on the test fold;
the rows record the choice per fold (``chosen_coarse_adj``). Test folds never take part in it.

``--aggr`` (the GNN's neighbour aggregation, every model) and ``--data-seeds`` (generator
datasets drawn afresh with each seed) make each (data seed, aggregation) its own setting of the
rows: ``{"dataset": ..., "data_seed": ..., "aggr": ...}``. Without them (``--aggr sum``) the
setting is the dataset's name, as in the files made before these flags.

``--arch book`` (default) is the book's first architecture: one pooling level at 25 %, three
layers per GNN, no l2 normalisation. ``--arch paper`` is the paper's (Sec. 4.1): two DiffPool
levels at 25 % of the nodes, two GraphSAGE layers before the first DiffPool and three after each,
the node embeddings l2-normalised after every layer; ``--levels``, ``--cluster-ratio`` and
``--num-layers`` still override it (``--levels 1 --cluster-ratio 0.1``: the paper's one-level
variant). The paper's GraphSAGE aggregates by the mean (``--aggr mean``); the authors' code sums.

``--models graph-stats`` is the trivial baseline of :mod:`companion.diffpool.baselines`: five
whole-graph statistics in a standardised logistic regression, untuned, cross-validated on the
same test folds as the GNNs for each seed (it fits on the rest of the data: nothing to choose, so
no validation split). It trains no GNN, so it runs alone, into its own file
(``cv_<dataset>_graph-stats[_data-...].json``), and the GNN flags (``--arch``, ``--aggr``, the
DiffPool options, ``--epochs`` and the other training flags) are refused unless left at their
defaults, as the DiffPool options are for the flat models. Its rows' setting names the data only:
the dataset's name, or ``{"dataset": ..., "data_seed": ...}`` with ``--data-seeds`` (the GNN rows'
data keys, without ``aggr``, which it has none of). Its timing is ``cpu_seconds``: the process
CPU time of one seed's whole cross-validation, statistics included.

Seeds can run in separate processes (``--seeds 1 --out r/seed1.json``) and be assembled into one
file by the same command with all seeds and ``--reuse r/seed*.json``: the seeds those files hold
are taken from them (their settings must match this command's), the others are computed, and
the recorded command omits ``--reuse`` (rerunning it computes every seed, with the same rows).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from companion import data
from companion.cli import (RunProgress, add_list_argument, add_reuse_argument, chapter_parser, cli_entry, float_in,
                           int_at_least, read_reused, require_packages, run_seeds, settings_of, start_run, str_list,
                           strip_reuse)
from companion.diffpool.baselines import STATISTICS, statistics_cv
from companion.diffpool.gnn import AGGREGATIONS
from companion.diffpool.pool import COARSE_ADJ
from companion.diffpool.train import (DEFAULT_MODELS, DET, DIFFPOOL_MODELS, MODELS, NO_LINK_PRED, ORACLE,
                                      READOUT_OPTIONS, choose_on_validation, cross_validate, stratified_folds)
from companion.results import mean_std_text, save_results, summarize

DATASETS = ("hier_graphs", "ba2motifs", "tu_local")  # graph-classification datasets of companion.data
GENERATORS = ("hier_graphs", "ba2motifs")
WITH_COMMUNITIES = ("hier_graphs",)  # datasets whose graphs carry their planted `community` (for the oracle)
DEFAULTS = {"coarse_adj": "raw", "readout": "mean"}  # DiffPool options; other values label the model
METRICS = {"accuracy": True, "fold_std": None, "cpu_seconds_per_epoch": False}
TIMING = ("cpu_seconds_per_epoch",)
STATS = "graph-stats"  # the trivial baseline: whole-graph statistics + logistic regression, no GNN
CLI_MODELS = MODELS + (STATS,)
STATS_METRICS = {"accuracy": True, "fold_std": None, "cpu_seconds": False}
STATS_TIMING = ("cpu_seconds",)
# flags that shape or train a GNN: refused for graph-stats unless at their defaults
GNN_FLAGS = ("arch", "aggr", "levels", "cluster_ratio", "num_layers", "epochs", "hidden", "batch_size", "lr",
             "link_weight", "entropy_weight")
CHOSEN = "val-chosen"  # label suffix of the row whose --coarse-adj is chosen per fold on validation
# the architectures of --arch: the flags they fill (unless given) and what they fix
ARCHS = {
    "book": {"levels": 1, "cluster_ratio": 0.25, "num_layers": 3, "first_layers": None, "normalize": False},
    # the paper's Sec. 4.1: DiffPool after two GraphSAGE layers, three after each DiffPool, two
    # DiffPool levels at 25 % of the nodes, l2-normalised embeddings
    "paper": {"levels": 2, "cluster_ratio": 0.25, "num_layers": 3, "first_layers": 2, "normalize": True},
}
ARCH_FLAGS = ("levels", "cluster_ratio", "num_layers")


EXAMPLES = (
    # the book's runs (book/08_diffpool/results/cv3_flat.json, cv3_no-diag.json)
    "python -m companion.diffpool --dataset hier_graphs --folds 10 --epochs 40 --seeds 0 1 2 --threads 1 "
    "--models flat-mean flat-sum",
    "python -m companion.diffpool --dataset hier_graphs --folds 10 --epochs 40 --seeds 0 1 2 --threads 1 "
    "--models diffpool diffpool-oracle --coarse-adj no-diag",
    # the paper's architecture, both aggregations, two fresh datasets, the variant chosen on validation
    "python -m companion.diffpool --dataset hier_graphs --folds 10 --epochs 40 --seeds 0 1 2 --threads 1 "
    "--arch paper --aggr sum mean --data-seeds 0 1 --models flat-mean flat-sum diffpool "
    "--coarse-adj raw no-diag degree-norm",
    # the trivial baseline on the same two datasets and the same folds
    "python -m companion.diffpool --dataset hier_graphs --folds 10 --data-seeds 0 1 --models graph-stats "
    "--seeds 0 1 2 --threads 1",
)


class OneOrList(argparse.Action):
    """``nargs="+"`` that stores one value as itself and several as a list, so that a command
    written before the flag took several values parses to the settings it recorded."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values[0] if len(values) == 1 else list(values))


def as_list(value: str | Sequence[str]) -> list[str]:
    """A :class:`OneOrList` flag's values as a list."""
    return [value] if isinstance(value, str) else list(value)


def build_parser() -> argparse.ArgumentParser:
    p = chapter_parser("python -m companion.diffpool", __doc__.split("\n")[0], seeds=(0,), threads=1,
                       examples=EXAMPLES)
    add_reuse_argument(p)
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default="hier_graphs", choices=DATASETS,
                   help="graph-classification dataset of companion.data (tu_local: a TU dataset on disk)")
    g.add_argument("--num-graphs", type=int_at_least(2), default=None,
                   help="generator datasets (hier_graphs, ba2motifs): how many graphs (default: the generator's)")
    g.add_argument("--data-seeds", type=int_at_least(0), nargs="+", default=None,
                   help="generator datasets: draw the dataset once per seed, each its own setting of the rows "
                        "(default: the generator's seed 0, the setting named after the dataset)")
    g.add_argument("--tu-name", default=None, help="tu_local: which TU dataset (default: ENZYMES)")
    g.add_argument("--root", default=None,
                   help="tu_local: folder holding NAME/raw/ (default: $COMPANION_DATA/tu)")
    g.add_argument("--max-nodes", type=int_at_least(1), default=150,
                   help="drop graphs with more nodes than this (the DiffPool code's --max-nodes)")
    g = p.add_argument_group("cross-validation and model")
    add_list_argument(g, "--models", str_list(CLI_MODELS), default=list(DEFAULT_MODELS),
                      help="models to cross-validate, space-separated: flat GNN with mean or sum readout, DiffPool "
                           f"(ours, or PyG's dense_diff_pool), {ORACLE}: DiffPool with the planted communities "
                           f"as its fixed first assignment (hier_graphs only), {DET}: the paper's DiffPool-DET, "
                           f"every assignment from a deterministic clustering (METIS; needs pymetis), "
                           f"{NO_LINK_PRED}: the paper's DiffPool-NoLP, no link-prediction loss; {STATS}: "
                           f"no GNN, {len(STATISTICS)} whole-graph statistics in a logistic regression (runs "
                           f"alone)")
    g.add_argument("--folds", type=int_at_least(2), default=10,
                   help="k of the stratified k-fold cross-validation")
    g.add_argument("--max-folds", type=int_at_least(1), default=None,
                   help="run only the first folds (quick checks); at most --folds (default: all)")
    g.add_argument("--epochs", type=int_at_least(1), default=60,
                   help="training epochs per fold (the epoch of best validation accuracy is scored)")
    g.add_argument("--hidden", type=int_at_least(1), default=32, help="hidden units of every GNN layer")
    g.add_argument("--arch", default="book", choices=tuple(ARCHS),
                   help="book: 1 pooling level at 25 %, 3 layers per GNN; paper: the paper's 2 levels at 25 %, "
                        "2 GraphSAGE layers before the first DiffPool and 3 after each, l2-normalised embeddings "
                        "(the flags below override its numbers)")
    g.add_argument("--aggr", nargs="+", action=OneOrList, default="sum", choices=AGGREGATIONS,
                   help="neighbour aggregation of every GNN layer, all models: sum (the authors' code) or mean "
                        "(the paper's GraphSAGE-mean); several: each its own setting of the rows")
    g.add_argument("--levels", type=int_at_least(1), default=None,
                   help="DiffPool models: pooling levels (default: 1; --arch paper: 2)")
    g.add_argument("--cluster-ratio", type=float_in(0, 1, low_open=True), default=None,
                   help="DiffPool models: clusters per level as a share of the previous level's nodes "
                        "(at level 0: of the largest graph's nodes), rounded up (default: 0.25)")
    g.add_argument("--num-layers", type=int_at_least(1), default=None,
                   help="GNN layers per block (--arch paper: after each pooling; flat models: the DiffPool "
                        "models' total, the same depth) (default: 3)")
    g.add_argument("--batch-size", type=int_at_least(2), default=64,
                   help="graphs per batch (>= 2: batch norm needs two graphs)")
    g.add_argument("--lr", type=float_in(0, float("inf"), low_open=True, high_open=True), default=5e-3,
                   help="Adam learning rate")
    g.add_argument("--link-weight", type=float_in(0, float("inf"), high_open=True), default=1.0,
                   help="weight of DiffPool's link-prediction loss ||A - S S^T||_F in the training loss "
                        f"({NO_LINK_PRED}: always 0)")
    g.add_argument("--entropy-weight", type=float_in(0, float("inf"), high_open=True), default=1.0,
                   help="weight of DiffPool's assignment-entropy loss in the training loss")
    g.add_argument("--coarse-adj", nargs="+", action=OneOrList, default="raw", choices=COARSE_ADJ,
                   help="DiffPool models: the coarsened adjacency S^T A S as is (raw, the paper's), with its "
                        "diagonal zeroed (no-diag), or zeroed then D^-1/2 A D^-1/2 (degree-norm, as MinCutPool); "
                        f"several: each trained, plus a row <model>+{CHOSEN} choosing among them per fold on "
                        "the validation split")
    g.add_argument("--readout", default="mean", choices=READOUT_OPTIONS,
                   help="DiffPool models: mean over the last level's clusters (ours), or max over nodes at every "
                        "level, concatenated (max-concat, the authors' code)")
    return p


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Cross-flag checks that need no data (exit status 2, the flag named); fills the flags that
    ``--arch`` sets."""
    if len(set(args.models)) != len(args.models):
        p.error(f"--models must be distinct, got {args.models}")
    if len(set(args.seeds)) != len(args.seeds):
        p.error(f"--seeds must be distinct, got {args.seeds}")
    for flag, values in (("--coarse-adj", as_list(args.coarse_adj)), ("--aggr", as_list(args.aggr)),
                         ("--data-seeds", args.data_seeds or [])):
        if len(set(values)) != len(values):
            p.error(f"{flag} must be distinct, got {' '.join(map(str, values))}")
    if STATS in args.models:
        if args.models != [STATS]:
            p.error(f"--models {STATS} runs alone (no GNN; its own file and rows), got --models "
                    f"{' '.join(args.models)}")
        for key in GNN_FLAGS:
            if getattr(args, key) != p.get_default(key):
                value = getattr(args, key)
                shown = " ".join(map(str, as_list(value) if isinstance(value, (str, list)) else [value]))
                p.error(f"--{key.replace('_', '-')} {shown} shapes or trains the GNN models; --models {STATS} "
                        f"has none")
    for key in ARCH_FLAGS:
        if getattr(args, key) is None:
            setattr(args, key, ARCHS[args.arch][key])
    if args.max_folds is not None and args.max_folds > args.folds:
        p.error(f"--max-folds {args.max_folds} is larger than --folds {args.folds}")
    if not set(args.models) & set(DIFFPOOL_MODELS):
        for key, default in DEFAULTS.items():
            flag = "--" + key.replace("_", "-")
            if getattr(args, key) != default:
                shown = " ".join(as_list(getattr(args, key)))
                p.error(f"{flag} {shown} applies to the DiffPool models {', '.join(DIFFPOOL_MODELS)}, "
                        f"but --models is {' '.join(args.models)}")
    if ORACLE in args.models and args.dataset not in WITH_COMMUNITIES:
        p.error(f"--models {ORACLE} needs planted communities, which only {', '.join(WITH_COMMUNITIES)} has, "
                f"not --dataset {args.dataset}")
    if args.dataset == "tu_local":
        for flag, value in (("--num-graphs", args.num_graphs), ("--data-seeds", args.data_seeds)):
            if value is not None:
                p.error(f"{flag} applies to the generator datasets {', '.join(GENERATORS)}, not to --dataset tu_local")
        if args.root is not None and not Path(args.root).expanduser().is_dir():
            p.error(f"--root {args.root}: no such folder (it must hold {args.tu_name or 'ENZYMES'}/raw/)")
        args.tu_name = args.tu_name or "ENZYMES"
    else:
        for flag, value in (("--tu-name", args.tu_name), ("--root", args.root)):
            if value is not None:
                p.error(f"{flag} applies to --dataset tu_local only, not to {args.dataset}")
    if DET in args.models:
        require_packages(p, "pymetis")


def check_reuse(p: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[dict[int, list[dict]], list[dict]]:
    """The rows of each seed that ``--reuse`` files hold, checked against this run (flag errors),
    and where they came from (each file's name, seeds, wall time and date)."""
    records, sources = read_reused(p, args.reuse, settings_of(args), args.seeds)
    return {seed: r["rows"] for seed, r in records.items()}, sources


def dataset_name(args: argparse.Namespace) -> str:
    return args.tu_name if args.dataset == "tu_local" else args.dataset


def load_graphs(p: argparse.ArgumentParser, args: argparse.Namespace, data_seed: int | None = None) -> list:
    """The dataset's graphs with at most ``--max-nodes`` nodes (a generator's with ``data_seed``,
    when given); a dataset the folds cannot split is a flag error (before any training)."""
    kw: dict[str, Any] = {}
    if args.dataset == "tu_local":
        kw = {"dataset": args.tu_name, "root": None if args.root is None else Path(args.root).expanduser()}
    elif args.num_graphs is not None:
        kw = {"num_graphs": args.num_graphs}
    if data_seed is not None:
        kw["seed"] = data_seed
    where = f"--dataset {args.dataset}" + ("" if data_seed is None else f" (--data-seeds {data_seed})")
    try:
        graphs = data.load(args.dataset, **kw)
    except (FileNotFoundError, ValueError) as e:
        p.error(f"{where}: {e}")
    kept = [g for g in graphs if g.num_nodes <= args.max_nodes]
    if not kept:
        p.error(f"--max-nodes {args.max_nodes} drops all {len(graphs)} graphs of {where}")
    labels = np.array([int(g.y) for g in kept])
    if len(np.unique(labels)) < 2:
        p.error(f"--max-nodes {args.max_nodes} leaves graphs of a single class in {where}: nothing to classify")
    try:
        stratified_folds(labels, args.folds)
    except ValueError as e:
        p.error(f"--folds {args.folds} on {where}: {e}")
    return kept


def settings_rows(args: argparse.Namespace) -> list[tuple[Any, int | None, str | None]]:
    """``(setting, data seed or None, aggregation)`` of every setting of the rows: the dataset's
    name alone as before the flags (no ``--data-seeds``, ``--aggr sum``), else a dict. For
    ``graph-stats`` the aggregation is None and a dict names the data only."""
    aggrs, name = as_list(args.aggr), dataset_name(args)
    if args.models == [STATS]:  # no aggregation: the setting names the data only
        if args.data_seeds is None:
            return [(name, None, None)]
        return [({"dataset": name, "data_seed": ds}, ds, None) for ds in args.data_seeds]
    if args.data_seeds is None and aggrs == ["sum"]:
        return [(name, None, "sum")]
    return [({"dataset": name, **({} if ds is None else {"data_seed": ds}), "aggr": aggr}, ds, aggr)
            for ds in (args.data_seeds or [None]) for aggr in aggrs]


def metrics_of(args: argparse.Namespace) -> tuple[dict, tuple[str, ...]]:
    """The rows' metrics (name -> higher is better) and which of them are timings."""
    return (STATS_METRICS, STATS_TIMING) if args.models == [STATS] else (METRICS, TIMING)


def variant(args: argparse.Namespace) -> str:
    """The DiffPool options that differ from the defaults, joined by ``+`` (``""`` for the defaults)."""
    return "+".join("+".join(as_list(getattr(args, key))) for key, default in DEFAULTS.items()
                    if getattr(args, key) != default)


def method_label(kind: str, args: argparse.Namespace, coarse_adj: str | None = None) -> str:
    """The model's name in the rows: ``kind``, plus ``+<option>`` for each non-default DiffPool
    option (``coarse_adj``: the one value of a run with several, or ``val-chosen``)."""
    if kind not in DIFFPOOL_MODELS:
        return kind
    if coarse_adj is None:
        return f"{kind}+{variant(args)}" if variant(args) else kind
    parts = [coarse_adj] if coarse_adj != DEFAULTS["coarse_adj"] else []
    parts += [args.readout] if args.readout != DEFAULTS["readout"] else []
    return "+".join([kind, *parts])


def model_runs(args: argparse.Namespace) -> list[tuple[str, str | None, str]]:
    """``(kind, --coarse-adj value or None, label)`` of every model a setting trains, in order;
    with several ``--coarse-adj`` values each DiffPool kind is trained once per value."""
    coarse = as_list(args.coarse_adj)
    runs = []
    for kind in args.models:
        if kind in DIFFPOOL_MODELS and len(coarse) > 1:
            runs += [(kind, c, method_label(kind, args, c)) for c in coarse]
        else:
            runs.append((kind, None, method_label(kind, args)))
    return runs


def row_labels(args: argparse.Namespace) -> list[str]:
    """Every method of a setting's rows, in file order: each trained model, and after a DiffPool
    kind's variants its ``+val-chosen`` row when there are several."""
    labels, several = [], len(as_list(args.coarse_adj)) > 1
    for kind in args.models:
        labels += [label for k, _, label in model_runs(args) if k == kind]
        if kind in DIFFPOOL_MODELS and several:
            labels.append(method_label(kind, args, CHOSEN))
    return labels


def run_tag(args: argparse.Namespace) -> str:
    """The options a file name adds for ``--arch``, ``--aggr`` and ``--data-seeds`` (``""`` at defaults)."""
    parts = [f"{args.arch}-arch"] if args.arch != "book" else []
    parts += ["aggr-" + "+".join(as_list(args.aggr))] if as_list(args.aggr) != ["sum"] else []
    parts += ["data-" + "+".join(map(str, args.data_seeds))] if args.data_seeds is not None else []
    return "_".join(parts)


def results_name(args: argparse.Namespace) -> str:
    """``cv_<dataset>_<model>.json`` for one model, ``cv_<dataset>.json`` for several; a non-default
    ``--coarse-adj``/``--readout`` is part of the name (``cv_hier_graphs_diffpool+no-diag.json``,
    ``cv_hier_graphs_no-diag.json``), and so are ``--arch paper``, ``--aggr`` and ``--data-seeds``
    (``cv_hier_graphs_paper-arch_aggr-sum+mean_data-0+1.json``)."""
    name = dataset_name(args)
    if len(args.models) == 1:
        stem = f"cv_{name}_{method_label(args.models[0], args)}"
    else:
        stem = f"cv_{name}_{variant(args)}" if variant(args) else f"cv_{name}"
    return f"{stem}_{run_tag(args)}.json" if run_tag(args) else f"{stem}.json"


def main(argv: list[str] | None = None) -> list[dict]:
    p = build_parser()
    args = p.parse_args(argv)
    check_args(p, args)
    reused, sources = check_reuse(p, args)
    settings = settings_rows(args)
    graphs = {ds: load_graphs(p, args, ds) for ds in dict.fromkeys(ds for _, ds, _ in settings)}
    datasets = [(setting, graphs[ds], aggr) for setting, ds, aggr in settings]
    argv = strip_reuse(sys.argv[1:] if argv is None else argv)
    run = start_run(p, args, module="companion.diffpool", chapter="08_diffpool", argv=argv, one_file=True)
    runs, labels = model_runs(args), row_labels(args)
    width = max(13, *map(len, labels))
    filename = results_name(args)
    # a seed cross-validates every model on every setting (each model's folds are seeded from the
    # seed alone, so the order does not change a number): each finished seed is kept, and a rerun
    # of the same command resumes after it
    ckpt = run.checkpoint(filename)
    for seed, seed_rows in sorted(reused.items()):
        if ckpt.done(seed) is None:
            ckpt.save(seed, seed_rows)
    units = len(settings) * len(runs)  # a unit: one trained model of one setting of one seed
    with run.progress(len(run.seeds) * units) as display:
        seed_rows = run_seeds(run.seeds, lambda seed: _seed_rows(args, datasets, seed, width, display),
                              checkpoint=ckpt, display=display, units=units)
    # the file lists a model's seeds together, models in --models order, settings one after the other
    rows = [r for setting, _, _ in settings for label in labels for seed in run.seeds for r in seed_rows
            if r["setting"] == setting and r["method"] == label and r["seed"] == seed]
    sizes = {"num_graphs": len(datasets[0][1])} if args.data_seeds is None else \
        {"num_graphs_per_data_seed": {str(ds): len(g) for ds, g in graphs.items()}}
    # an assembled file's wall time is its seeds' (in their own processes) plus this run's
    wall = run.wall_seconds + sum(src["wall_seconds"] or 0.0 for src in sources if src["seeds"])
    assembled = {"assembled_from": sources} if sources else {}
    metrics, timing = metrics_of(args)
    out = save_results(run.path(filename), rows, seeds=run.seeds, command=run.command,
                       metrics=metrics, timing=timing, wall_seconds=wall, dataset=dataset_name(args),
                       **sizes, settings=settings_of(args), **assembled)
    summary = {(str(r["setting"]), r["method"], r["metric"]): r for r in summarize(rows, metrics, timing)}
    for setting, _, _ in settings:
        if len(settings) > 1:
            print(f"\n{setting}")
        cpu = "CPU s/seed" if timing == STATS_TIMING else "CPU s/epoch"
        print(f"\n{'model':{width}s} {'accuracy (mean ± std over seeds)':>34s} {cpu:>12s}")
        for label in labels:
            acc, sec = (summary[(str(setting), label, m)] for m in ("accuracy", timing[0]))
            print(f"{label:{width}s} {mean_std_text(acc['mean'], acc['std']):>29s} ({acc['n']}) {sec['mean']:12.3f}")
    ckpt.finish()
    print(f"wrote {out} ({run.wall_seconds:.0f} s)")
    return rows


def _seed_rows(args: argparse.Namespace, datasets: list[tuple[Any, list, str | None]], seed: int, width: int,
               display: RunProgress | None = None) -> list[dict]:
    """One seed's rows: every model of ``--models`` cross-validated on every setting (each printed,
    and counted on ``display``, as it ends), then each ``+val-chosen`` row from the validation
    accuracies of its variants."""
    rows = []
    arch = ARCHS[args.arch]
    # what --arch fixes beyond the flags goes to the models only when it differs from the book's
    # architecture, so that the book's runs call cross_validate exactly as before the flag
    arch_kw = {k: arch[k] for k in ("first_layers", "normalize") if arch[k] != ARCHS["book"][k]}
    for setting, graphs, aggr in datasets:
        where = "" if isinstance(setting, str) else " " + ", ".join(f"{k} {v}" for k, v in setting.items()
                                                                   if k != "dataset")
        by_kind: dict[str, dict[str, dict]] = {}
        for kind, coarse, label in model_runs(args):
            if kind == STATS:
                rows.append(_stats_row(args, setting, graphs, seed))
                r = rows[-1]
                print(f"{label:{width}s} seed {seed}{where}: acc {r['accuracy']:.3f} (std over "
                      f"{len(r['fold_acc'])} folds {r['fold_std']:.3f})   {r['cpu_seconds']:.2f} CPU s", flush=True)
                if display is not None:
                    display.done(f"seed {seed}{where}, {label}")
                continue
            # the DiffPool options go to the DiffPool models only, and only when set (defaults: as before)
            extra = {k: getattr(args, k) for k, d in DEFAULTS.items() if kind in DIFFPOOL_MODELS and getattr(args, k) != d}
            if coarse is not None:
                extra["coarse_adj"] = coarse
            if aggr != "sum":
                extra["aggr"] = aggr
            r = cross_validate(graphs, kind, folds=args.folds, epochs=args.epochs, seed=seed,
                               max_folds=args.max_folds, hidden=args.hidden, levels=args.levels,
                               cluster_ratio=args.cluster_ratio, num_layers=args.num_layers,
                               batch_size=args.batch_size, lr=args.lr, link_weight=args.link_weight,
                               entropy_weight=args.entropy_weight, device=args.device, **arch_kw, **extra)
            if coarse is not None:
                by_kind.setdefault(kind, {})[coarse] = r
            rows.append(_row(setting, label, seed, r))
            print(f"{label:{width}s} seed {seed}{where}: acc {r['mean']:.3f} (std over {len(r['fold_acc'])} folds "
                  f"{r['std']:.3f})   {r['cpu_seconds_per_epoch']:.3f} CPU s/epoch", flush=True)
            if display is not None:
                display.done(f"seed {seed}{where}, {label}")
        for kind, results in by_kind.items():
            r = choose_on_validation(results)
            label = method_label(kind, args, CHOSEN)
            rows.append({**_row(setting, label, seed, r), "chosen_coarse_adj": r["chosen"]})
            print(f"{label:{width}s} seed {seed}{where}: acc {r['mean']:.3f}, chose {' '.join(r['chosen'])}",
                  flush=True)
    return rows


def _stats_row(args: argparse.Namespace, setting: Any, graphs: list, seed: int) -> dict:
    """One seed's row of the graph-statistics baseline on one setting's graphs (the GNNs' folds)."""
    cpu = time.process_time()
    r = statistics_cv(graphs, folds=args.folds, seed=seed, max_folds=args.max_folds)
    return {"setting": setting, "method": STATS, "seed": seed, "accuracy": r["mean"], "fold_std": r["std"],
            "cpu_seconds": time.process_time() - cpu, "fold_acc": r["fold_acc"]}


def _row(setting: Any, label: str, seed: int, r: dict) -> dict:
    return {"setting": setting, "method": label, "seed": seed, "accuracy": r["mean"], "fold_std": r["std"],
            "cpu_seconds_per_epoch": r["cpu_seconds_per_epoch"], "fold_acc": r["fold_acc"],
            "fold_val_acc": r["fold_val_acc"]}


if __name__ == "__main__":
    sys.exit(cli_entry(main))
