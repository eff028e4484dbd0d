"""CLI: ``python -m companion.lds --dataset wine`` (the no-graph table) or
``python -m companion.lds --dataset karate`` (the incomplete-graph experiment), seeds 0-4 by default.

Prints a table and writes ``<experiment>_<dataset>.json`` (``table_wine.json``,
``incomplete_karate.json``; ``incomplete_sbm_features_<nodes>.json``) with per-seed rows into
``./results/`` (or ``--out``; ``--publish`` writes the book's ``book/07_lds/results/``). Each
finished seed is kept in ``<file>.partial``: rerunning a killed command resumes after it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from companion import data
from companion.cli import cli_entry, add_list_argument, chapter_parser, float_list, int_at_least, int_list, start_run
from companion.lds.bilevel import LDSConfig
from companion.lds.experiments import (GRAPH_DATASETS, GRAPH_METRICS, NO_GRAPH_DATASETS, run_incomplete_graph,
                                      run_no_graph)
from companion.results import mean_std_text, save_results, summarize

DEFAULT_KS = [5, 10, 15, 20]
DEFAULT_MISSING = [0.25, 0.5, 0.75]
DEFAULT_SBM_NODES = 2708  # Cora's node count
EXAMPLES = ["python -m companion.lds --dataset wine --seeds 0 1 2 3 4 --threads 1",
            "python -m companion.lds --dataset sbm_features --sbm-nodes 600 --seeds 0 1 2 3 4 --threads 1 "
            "--max-inner-steps 50 --max-outer-iterations 6 --patience 3"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m companion.lds`` (every flag with its help)."""
    p = chapter_parser("python -m companion.lds", __doc__.split("\n\n")[0], seeds=(0, 1, 2, 3, 4), examples=EXAMPLES)
    g = p.add_argument_group("experiment")
    g.add_argument("--dataset", required=True, choices=NO_GRAPH_DATASETS + GRAPH_DATASETS,
                   help="wine/cancer/digits: the no-graph table; karate/sbm_features/planetoid: incomplete graphs")
    g.add_argument("--tau", type=int_at_least(1), default=5,
                   help="inner steps unrolled per hypergradient (the truncation; at most --max-inner-steps)")
    g.add_argument("--max-inner-steps", type=int_at_least(1), default=100,
                   help="inner Adam steps on the GCN weights per outer iteration, at most (fewer when the training "
                        "loss stops decreasing; the official code allows 400)")
    g.add_argument("--max-outer-iterations", type=int_at_least(1), default=10,
                   help="outer iterations at most; each trains fresh GCN weights while the edge probabilities "
                        "follow the hypergradient")
    g.add_argument("--patience", type=int_at_least(1), default=5,
                   help="stop after this many outer iterations without a better early-stopping (es) accuracy")
    g.add_argument("--n-samples", type=int_at_least(1), default=16,
                   help="graphs sampled for the expected prediction after each outer iteration")
    g.add_argument("--epochs", type=int_at_least(1), default=200,
                   help="training epochs of the MLP, GCN and kNN-GCN baselines")
    add_list_argument(g, "--ks", int_list(1), default=None,
                      help="k grid of kNN-GCN, space-separated; the best k on validation is kept "
                           f"(no-graph datasets; default {' '.join(map(str, DEFAULT_KS))})")
    add_list_argument(g, "--missing", float_list(0, 1), default=None,
                      help="shares of the graph's edges deleted, space-separated "
                           f"(graph datasets; default {' '.join(map(str, DEFAULT_MISSING))})")
    g.add_argument("--sbm-nodes", type=int_at_least(2), default=None,
                   help=f"nodes of sbm_features (default {DEFAULT_SBM_NODES}, Cora's count)")
    g.add_argument("--sparse", action="store_true",
                   help="graph datasets: multiply by the fixed graphs (the GCN rows and LDS with its graph frozen) "
                        "as sparse tensors; about 15x faster at 2,708 nodes, the same maths summed in another "
                        "order, so the last bits differ from a run without it")
    g.add_argument("--root", default=None,
                   help="local Planetoid folder holding Cora/raw/ with Kipf's ind.cora.* files "
                        "(--dataset planetoid only; never downloaded)")
    return p


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Cross-flag checks, all before any training (errors exit with status 2 and name the flag)."""
    table = args.dataset in NO_GRAPH_DATASETS
    if args.tau > args.max_inner_steps:
        p.error(f"--tau {args.tau} is larger than --max-inner-steps {args.max_inner_steps}: "
                "a hypergradient unrolls tau of the inner steps")
    if len(set(args.seeds)) != len(args.seeds):
        p.error(f"--seeds must be distinct, got {args.seeds}")
    if table:
        for flag, value in (("--missing", args.missing), ("--sbm-nodes", args.sbm_nodes), ("--root", args.root),
                            ("--sparse", args.sparse or None)):
            if value is not None:
                p.error(f"{flag} applies to the graph datasets {GRAPH_DATASETS}, not to --dataset {args.dataset}")
        args.ks = DEFAULT_KS if args.ks is None else args.ks
        n = len(data.load(args.dataset)["y"])
        if len(set(args.ks)) != len(args.ks) or max(args.ks) >= n:
            p.error(f"--ks must be distinct integers in [1, {n - 1}] ({args.dataset} has {n} points), got {args.ks}")
        return
    if args.ks is not None:
        p.error(f"--ks applies to the no-graph datasets {NO_GRAPH_DATASETS}, not to --dataset {args.dataset}")
    args.missing = DEFAULT_MISSING if args.missing is None else args.missing
    if len(set(args.missing)) != len(args.missing):
        p.error(f"--missing must be distinct shares, got {args.missing}")
    if args.dataset != "sbm_features" and args.sbm_nodes is not None:
        p.error(f"--sbm-nodes applies to --dataset sbm_features only, not to {args.dataset}")
    if args.dataset != "planetoid" and args.root is not None:
        p.error(f"--root applies to --dataset planetoid only, not to {args.dataset}")
    if args.dataset == "sbm_features":
        args.sbm_nodes = DEFAULT_SBM_NODES if args.sbm_nodes is None else args.sbm_nodes
        n = args.sbm_nodes
        try:  # the generator knows which sizes its split allows; it takes a second, training takes minutes
            data.load("sbm_features", num_nodes=n, num_val=max(20, n // 6), num_test=max(20, n // 3), seed=0)
        except ValueError as e:
            p.error(f"--sbm-nodes {n} is too small for the sbm_features split: {e}")
    if args.dataset == "planetoid":
        if args.root is None:
            p.error("--dataset planetoid needs --root, the folder holding Cora/raw/ (Kipf's ind.cora.* files)")
        if not Path(args.root).expanduser().is_dir():
            p.error(f"--root {args.root}: no such folder (it must hold Cora/raw/ with Kipf's ind.cora.* files)")
        try:
            data.load("planetoid", dataset="Cora", root=Path(args.root).expanduser())
        except (FileNotFoundError, ValueError) as e:
            p.error(f"--root {args.root}: {e}")


def main(argv: list[str] | None = None) -> dict:
    p = build_parser()
    args = p.parse_args(argv)
    check_args(p, args)
    run = start_run(p, args, module="companion.lds", chapter="07_lds", argv=argv, one_file=True)
    config = LDSConfig(tau=args.tau, max_inner_steps=args.max_inner_steps,
                       max_outer_iterations=args.max_outer_iterations, patience=args.patience,
                       n_samples=args.n_samples, sparse=args.sparse)
    seeds = run.seeds
    experiment = "table" if args.dataset in NO_GRAPH_DATASETS else "incomplete"
    name = f"{experiment}_{args.dataset}" + (f"_{args.sbm_nodes}" if args.dataset == "sbm_features" else "")
    checkpoint = run.checkpoint(f"{name}.json")  # a killed run resumes after its last finished seed
    if experiment == "table":
        with run.progress(len(seeds)) as display:
            rows = run_no_graph(args.dataset, seeds, config, ks=tuple(args.ks), epochs=args.epochs, log=print,
                                checkpoint=checkpoint, display=display, device=run.device)
        metrics = {"test_acc": True}
    else:
        with run.progress(len(seeds) * len(args.missing)) as display:
            rows = run_incomplete_graph(args.dataset, seeds, tuple(args.missing), config, epochs=args.epochs,
                                        sbm_nodes=args.sbm_nodes or DEFAULT_SBM_NODES, root=args.root, log=print,
                                        checkpoint=checkpoint, display=display, device=run.device)
        metrics = {"test_acc": True, "edges_left": None}
    metrics.update(dict.fromkeys(GRAPH_METRICS))
    path = save_results(run.path(f"{name}.json"), rows, seeds=seeds, command=run.command,
                        metrics=metrics, wall_seconds=run.wall_seconds, experiment=experiment,
                        dataset=args.dataset, config=asdict(config), cpu_seconds=run.cpu_seconds,
                        settings={k: v for k, v in vars(args).items() if k not in ("out", "publish", "no_progress")})
    print(f"\n{args.dataset}: test accuracy, mean ± std over {len(seeds)} seeds")
    for r in summarize(rows, {"test_acc": True}):
        where = "" if experiment == "table" else f"missing {r['setting']['missing']:<5.0%} "
        print(f"{where}{r['method']:8s} {mean_std_text(r['mean'], r['std'], digits=1, scale=100)}")
    checkpoint.finish()
    print(f"wrote {path}")
    return {"rows": rows, "path": str(path)}


if __name__ == "__main__":
    sys.exit(cli_entry(main))
