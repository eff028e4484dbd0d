"""CLI: ``python -m companion.kgcn --data kg_recsys --aggregator sum --ls-weight 1.0``.

Trains BPR-MF, KGCN (no LS) and KGCN-LS for every training fraction and seed, prints a table of
AUC, F1 and Recall@{5,10,20} (mean and std over seeds) and writes every run with
:func:`companion.results.save_results`.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict

import numpy as np
import torch

from companion import data as datasets
from companion.kgcn.train import MODELS, KGCNConfig, run_comparison
from companion.results import save_results
from companion.utils import repo_path

METRICS = ("auc", "f1", "recall@5", "recall@10", "recall@20")


def summarize(rows: list[dict]) -> list[dict]:
    """Mean and std over seeds per (fraction, model)."""
    out = []
    keys = sorted({(r["fraction"], r["model"]) for r in rows}, key=lambda k: (-k[0], MODELS.index(k[1])))
    for fraction, model in keys:
        group = [r for r in rows if r["fraction"] == fraction and r["model"] == model]
        entry = {"fraction": fraction, "model": model, "n_seeds": len(group)}
        for m in METRICS:
            vals = np.array([r[m] for r in group])
            entry[m], entry[m + "_std"] = float(vals.mean()), float(vals.std())
        out.append(entry)
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m companion.kgcn", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="kg_recsys", help="kg_recsys (generated) or kgcn_files (needs --root)")
    parser.add_argument("--root", default=None, help="folder with ratings_final.txt and kg_final.txt (kgcn_files)")
    parser.add_argument("--density", type=float, default=None, help="kg_recsys: share of movies a user watches")
    parser.add_argument("--n-users", type=int, default=None, help="kg_recsys: number of users")
    parser.add_argument("--n-items", type=int, default=None, help="kg_recsys: number of movies")
    parser.add_argument("--aggregator", default="sum", choices=["sum", "concat", "neighbor"])
    parser.add_argument("--ls-weight", type=float, default=KGCNConfig.ls_weight)
    parser.add_argument("--l2-weight", type=float, default=KGCNConfig.l2_weight)
    parser.add_argument("--n-iter", type=int, default=KGCNConfig.n_iter)
    parser.add_argument("--neighbor-sample-size", type=int, default=KGCNConfig.neighbor_sample_size)
    parser.add_argument("--dim", type=int, default=KGCNConfig.dim)
    parser.add_argument("--lr", type=float, default=KGCNConfig.lr)
    parser.add_argument("--batch-size", type=int, default=KGCNConfig.batch_size)
    parser.add_argument("--epochs", type=int, default=KGCNConfig.n_epochs)
    parser.add_argument("--fractions", type=float, nargs="+", default=[1.0], help="shares of training rows kept")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--topk-users", type=int, default=100)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads for this run")
    parser.add_argument("--out", default=str(repo_path("book", "06_kgcn", "results", "kgcn.json")))
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)  # a run-level choice of the CLI user, not of the library
    kwargs = {}
    if args.data == "kgcn_files":
        kwargs["root"] = args.root
    else:
        for key in ("density", "n_users", "n_items"):
            if getattr(args, key) is not None:
                kwargs[key] = getattr(args, key)
    data = datasets.load(args.data, **kwargs)
    config = KGCNConfig(dim=args.dim, n_iter=args.n_iter, neighbor_sample_size=args.neighbor_sample_size,
                        aggregator=args.aggregator, ls_weight=args.ls_weight, l2_weight=args.l2_weight,
                        lr=args.lr, batch_size=args.batch_size, n_epochs=args.epochs)
    start = time.perf_counter()
    rows = run_comparison(data, args.fractions, args.seeds, config, args.models, topk_users=args.topk_users)
    wall = time.perf_counter() - start
    summary = summarize(rows)
    print(f"{'fraction':>8s} {'model':8s} " + " ".join(f"{m:>15s}" for m in METRICS))
    for s in summary:
        print(f"{s['fraction']:8.2f} {s['model']:8s} " +
              " ".join(f"{s[m]:8.3f} ±{s[m + '_std']:.3f}" for m in METRICS))
    command = "python -m companion.kgcn " + " ".join(argv if argv is not None else __import__("sys").argv[1:])
    save_results(args.out, rows, seeds=args.seeds, command=command, wall_seconds=wall,
                 config=asdict(config), data=args.data, data_kwargs=kwargs, summary=summary)
    print(f"wrote {args.out} ({wall:.0f} s)")
    return rows


if __name__ == "__main__":
    main()
