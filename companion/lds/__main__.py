"""CLI: ``python -m companion.lds --dataset wine --seeds 5`` (the no-graph table) or
``python -m companion.lds --dataset karate --seeds 5`` (the incomplete-graph experiment).

Prints a table and writes JSON with :func:`companion.results.save_results` to
``book/07_lds/results/<experiment>_<dataset>.json`` unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict

import torch

from companion.lds.bilevel import LDSConfig
from companion.lds.experiments import GRAPH_DATASETS, NO_GRAPH_DATASETS, run_incomplete_graph, run_no_graph
from companion.results import save_results
from companion.utils import repo_path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m companion.lds", description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", required=True, choices=NO_GRAPH_DATASETS + GRAPH_DATASETS)
    p.add_argument("--seeds", type=int, default=5, help="number of seeds (0..seeds-1)")
    p.add_argument("--out", default=None, help="JSON path (default: book/07_lds/results/...)")
    p.add_argument("--tau", type=int, default=5, help="inner steps per hypergradient")
    p.add_argument("--max-inner-steps", type=int, default=100, help="inner Adam steps per outer iteration")
    p.add_argument("--max-outer-iterations", type=int, default=10)
    p.add_argument("--patience", type=int, default=5, help="outer iterations without es improvement")
    p.add_argument("--n-samples", type=int, default=16, help="graphs for the expected prediction")
    p.add_argument("--epochs", type=int, default=200, help="epochs of the MLP / GCN baselines")
    p.add_argument("--ks", type=int, nargs="+", default=[5, 10, 15, 20], help="k grid of kNN-GCN")
    p.add_argument("--missing", type=float, nargs="+", default=[0.25, 0.5, 0.75],
                   help="shares of deleted edges (graph datasets)")
    p.add_argument("--sbm-nodes", type=int, default=3000, help="nodes of sbm_features")
    p.add_argument("--root", default=None, help="local Planetoid folder (dataset planetoid)")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads for this run")
    return p


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    if args.seeds < 1:
        raise SystemExit("--seeds must be >= 1")
    if args.threads:
        torch.set_num_threads(args.threads)  # a run-level choice of the CLI user, not of the library
    config = LDSConfig(tau=args.tau, max_inner_steps=args.max_inner_steps,
                       max_outer_iterations=args.max_outer_iterations, patience=args.patience,
                       n_samples=args.n_samples)
    seeds = list(range(args.seeds))
    start = time.perf_counter()
    cpu0 = time.process_time()
    if args.dataset in NO_GRAPH_DATASETS:
        experiment = "table"
        rows = run_no_graph(args.dataset, seeds, config, ks=tuple(args.ks), epochs=args.epochs, log=print)
        header = f"{'method':10s} test accuracy (mean ± std over {len(seeds)} seeds)"
        lines = [f"{r['method']:10s} {100 * r['mean']:.1f} ± {100 * r['std']:.1f}" for r in rows]
    else:
        experiment = "incomplete"
        rows = run_incomplete_graph(args.dataset, seeds, tuple(args.missing), config, epochs=args.epochs,
                                    sbm_nodes=args.sbm_nodes, root=args.root, log=print)
        header = f"{'missing':8s}{'method':8s}{'edges':>8s}  test accuracy (mean ± std over {len(seeds)} seeds)"
        lines = [f"{r['missing']:<8.0%}{r['method']:8s}{r['edges_left']:8.0f}  {100 * r['mean']:.1f} ± {100 * r['std']:.1f}"
                 for r in rows]
    wall = time.perf_counter() - start
    print(f"\n{args.dataset}\n{header}\n" + "\n".join(lines))
    out = args.out or repo_path("book", "07_lds", "results", f"{experiment}_{args.dataset}.json")
    argv_used = sys.argv[1:] if argv is None else argv
    path = save_results(out, rows, seeds=seeds, wall_seconds=wall,
                        command="python -m companion.lds " + " ".join(argv_used),
                        experiment=experiment, dataset=args.dataset, config=asdict(config),
                        cpu_seconds=time.process_time() - cpu0,
                        settings={k: v for k, v in vars(args).items() if k != "out"})
    print(f"wrote {path}")
    return {"rows": rows, "path": str(path)}


if __name__ == "__main__":
    main()
