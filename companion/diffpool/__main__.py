"""CLI: k-fold cross-validation of flat and DiffPool classifiers on one dataset.

    python -m companion.diffpool --dataset hier_graphs --folds 10
    python -m companion.diffpool --dataset tu_local --tu-name ENZYMES --root ~/data/tu --folds 10

Prints the table (accuracy mean +/- std over folds, CPU seconds per training epoch) and writes JSON
with :func:`companion.results.save_results` (default: ``book/08_diffpool/results/cv_<dataset>.json``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import torch

from companion import data
from companion.diffpool.train import MODELS, cross_validate
from companion.results import save_results
from companion.utils import repo_path, torch_threads


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m companion.diffpool", description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="hier_graphs", help="a graph-classification dataset of companion.data")
    p.add_argument("--num-graphs", type=int, default=None, help="generator datasets: how many graphs")
    p.add_argument("--tu-name", default="ENZYMES", help="tu_local: which TU dataset")
    p.add_argument("--root", default=None, help="tu_local: folder holding NAME/raw/")
    p.add_argument("--max-nodes", type=int, default=150, help="drop larger graphs (DiffPool code: --max-nodes)")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--folds", type=int, default=10)
    p.add_argument("--max-folds", type=int, default=None, help="run only the first folds (quick checks)")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--levels", type=int, default=1)
    p.add_argument("--cluster-ratio", type=float, default=0.25)
    p.add_argument("--num-layers", type=int, default=3, help="GNN layers per block")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--link-weight", type=float, default=1.0)
    p.add_argument("--entropy-weight", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (small dense batches run best on 1)")
    p.add_argument("--out", default=None, help="JSON path (default book/08_diffpool/results/cv_<dataset>.json)")
    args = p.parse_args(argv)
    if args.folds < 2:
        p.error(f"--folds must be >= 2, got {args.folds}")
    if args.epochs < 1:
        p.error(f"--epochs must be >= 1, got {args.epochs}")
    return args


def load_graphs(args: argparse.Namespace) -> list:
    kw = {}
    if args.dataset == "tu_local":
        kw = {"dataset": args.tu_name, "root": args.root}
    elif args.num_graphs is not None:
        kw = {"num_graphs": args.num_graphs}
    graphs = data.load(args.dataset, **kw)
    return [g for g in graphs if g.num_nodes <= args.max_nodes]


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    graphs = load_graphs(args)
    start = time.perf_counter()
    rows = []
    with torch_threads(args.threads):
        for kind in args.models:
            r = cross_validate(graphs, kind, folds=args.folds, epochs=args.epochs, seed=args.seed,
                               max_folds=args.max_folds, hidden=args.hidden, levels=args.levels,
                               cluster_ratio=args.cluster_ratio, num_layers=args.num_layers,
                               batch_size=args.batch_size, lr=args.lr, link_weight=args.link_weight,
                               entropy_weight=args.entropy_weight)
            rows.append(r)
            print(f"{kind:13s} acc {r['mean']:.3f} +/- {r['std']:.3f}   {r['cpu_seconds_per_epoch']:.3f} CPU s/epoch",
                  flush=True)
    wall = time.perf_counter() - start
    name = args.dataset if args.dataset != "tu_local" else args.tu_name
    out = args.out or repo_path("book", "08_diffpool", "results", f"cv_{name}.json")
    command = "python -m companion.diffpool " + shlex.join(sys.argv[1:] if argv is None else argv)
    save_results(out, rows, seeds=[args.seed], command=command, wall_seconds=wall, dataset=name,
                 num_graphs=len(graphs), settings=vars(args))
    print(f"\n{'model':13s} {'accuracy':>16s} {'CPU s/epoch':>12s}")
    for r in rows:
        print(f"{r['model']:13s} {r['mean']:8.3f} +/- {r['std']:.3f} {r['cpu_seconds_per_epoch']:12.3f}")
    print(f"wrote {out} ({wall:.0f} s)")
    return rows


if __name__ == "__main__":
    main()
