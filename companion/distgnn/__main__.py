"""CLI of the distributed-training chapter.

Under ``torchrun`` (one process per worker; the same command runs across machines)::

    torchrun --nproc-per-node 4 -m companion.distgnn --mode minibatch

runs one workflow on ``WORLD_SIZE`` workers: rank 0 partitions the graph and broadcasts the
partition, every worker trains, rank 0 prints the merged row and writes JSON.

Without ``torchrun`` it sweeps worker counts and workflows with local processes
(``torch.multiprocessing``) and writes the table the chapter reads::

    python -m companion.distgnn --sweep --workers 1 2 4 --num-nodes 200000

Results go to ``book/02_distgnn/results/`` through :func:`companion.results.save_results`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import asdict

import torch

from companion.distgnn.launch import WORKFLOWS, init_process_group, load_graph, run_workers
from companion.distgnn.partition import partition, partition_quality
from companion.distgnn.train import DistConfig, summarise
from companion.results import save_results
from companion.utils import repo_path

NOTE = ("epoch times measured with every worker process on this one machine over loopback; with more processes "
        "than cores they share the cores, and separate machines would have more cores but a slower network, so "
        "times are specific to this machine; bytes are the machine-independent measure")

# name -> (mode, partitioner, stale, cache_fraction)
SWEEP_WORKFLOWS = {
    "full/random": ("full", "random", False, 0.0),
    "full/metis": ("full", "metis", False, 0.0),
    "full/metis+stale": ("full", "metis", True, 0.0),
    "minibatch/random": ("minibatch", "random", False, 0.0),
    "minibatch/metis": ("minibatch", "metis", False, 0.0),
    "minibatch/metis+cache": ("minibatch", "metis", False, None),  # None: --cache-fraction
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m companion.distgnn", description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=sorted(WORKFLOWS), default="minibatch", help="workflow (torchrun / single run)")
    p.add_argument("--partition", choices=["metis", "random"], default="metis")
    p.add_argument("--stale", action="store_true", help="full-graph: historical halo embeddings")
    p.add_argument("--sweep", action="store_true", help="sweep --workers x --workflows with local processes")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker counts of the sweep")
    p.add_argument("--workflows", nargs="+", default=list(SWEEP_WORKFLOWS), choices=list(SWEEP_WORKFLOWS))
    p.add_argument("--cache-sweep", action="store_true",
                   help="sweep cache fraction x policy (minibatch/metis) at the largest --workers")
    p.add_argument("--cache-fractions", type=float, nargs="+", default=[0.0, 0.01, 0.05, 0.2])
    p.add_argument("--cache-policies", nargs="+", default=["degree", "random"])
    p.add_argument("--dataset", default="sbm_features", choices=["sbm_features", "powerlaw_graph"])
    p.add_argument("--num-nodes", type=int, default=3000)
    p.add_argument("--train-per-class", type=int, default=20)
    p.add_argument("--num-val", type=int, default=500)
    p.add_argument("--num-test", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--minibatch-epochs", type=int, default=None, help="epochs of the mini-batch workflow")
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--full-lr", type=float, default=None, help="learning rate of full-graph runs (default --lr)")
    p.add_argument("--batch-size", type=int, default=256, help="global mini-batch size")
    p.add_argument("--fanouts", type=int, nargs="+", default=[10, 5])
    p.add_argument("--cache-fraction", type=float, default=0.1)
    p.add_argument("--cache-policy", default="degree")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="JSON path (default: book/02_distgnn/results/...)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker process")
    return p


def _spec(args) -> dict:
    return {"name": args.dataset, "num_nodes": args.num_nodes, "train_per_class": args.train_per_class,
            "num_val": args.num_val, "num_test": args.num_test, "seed": args.seed}


def _config(args, mode: str, stale: bool, cache_fraction: float, cache_policy: str | None = None) -> DistConfig:
    return DistConfig(mode=mode, hidden=args.hidden, epochs=(args.minibatch_epochs or args.epochs)
                      if mode == "minibatch" else args.epochs,
                      lr=(args.full_lr or args.lr) if mode == "full" else args.lr, stale=stale,
                      fanouts=list(args.fanouts), batch_size=args.batch_size, cache_fraction=cache_fraction,
                      cache_policy=cache_policy or args.cache_policy, seed=args.seed)


def _row(name: str, results: list[dict], quality: dict, config: DistConfig, wall: float) -> dict:
    row = {"workflow": name, **summarise(results), "partition": name.split("/")[1].split("+")[0] if "/" in name else "",
           "edge_cut": quality["edge_cut"], "cut_fraction": quality["cut_fraction"],
           "total_halo": quality["total_halo"], "cache_fraction": config.cache_fraction,
           "cache_policy": config.cache_policy if config.cache_fraction > 0 else "none", "wall_seconds": wall}
    return row


def _print(rows: list[dict]) -> None:
    print(f"\n{'workflow':24s}{'P':>3s}{'epoch s':>9s}{'MB/epoch':>10s}{'edge cut':>10s}{'hit rate':>9s}{'test acc':>9s}")
    for r in rows:
        hit = f"{r['cache_hit_rate']:.2f}" if "cache_hit_rate" in r else "-"
        print(f"{r['workflow']:24s}{r['workers']:3d}{r['epoch_time_s']:9.3f}{r['bytes_per_epoch'] / 2**20:10.2f}"
              f"{r['edge_cut']:10d}{hit:>9s}{r['test_acc']:9.3f}")


def run_sweep(args) -> tuple[list[dict], str]:
    spec = _spec(args)
    graph = load_graph(spec)  # the parent partitions; every worker rebuilds the graph from the spec
    rows = []
    parts_cache: dict[tuple[str, int], torch.Tensor] = {}

    def parts_for(method: str, w: int) -> torch.Tensor:
        if (method, w) not in parts_cache:
            parts_cache[(method, w)] = partition(method, graph.edge_index, graph.num_nodes, w, seed=args.seed)
        return parts_cache[(method, w)]

    if args.cache_sweep:
        w = max(args.workers)
        parts = parts_for("metis", w)
        q = partition_quality(graph.edge_index, parts, w)
        for policy in args.cache_policies:
            for frac in args.cache_fractions:
                if frac == 0 and policy != args.cache_policies[0]:
                    continue
                cfg = _config(args, "minibatch", False, frac, policy)
                t = time.perf_counter()
                res = run_workers(w, spec, parts, cfg)
                rows.append(_row("minibatch/metis+cache", res, q, cfg, time.perf_counter() - t))
                print(f"cache {policy} {frac}: hit rate {rows[-1]['cache_hit_rate']:.3f}, "
                      f"{rows[-1]['bytes_per_epoch'] / 2**20:.2f} MB/epoch", flush=True)
        return rows, "cache"

    for w in args.workers:
        for name in args.workflows:
            mode, method, stale, frac = SWEEP_WORKFLOWS[name]
            if w == 1 and (method == "random" or stale or frac is None):
                continue  # one process: no partition, no halo, nothing remote to cache
            frac = args.cache_fraction if frac is None else frac
            parts = parts_for(method, w)
            q = partition_quality(graph.edge_index, parts, w)
            cfg = _config(args, mode, stale, frac)
            t = time.perf_counter()
            res = run_workers(w, spec, parts, cfg)
            label = f"{mode} (1 process)" if w == 1 else name
            rows.append(_row(label, res, q, cfg, time.perf_counter() - t))
            print(f"{label} P={w}: {rows[-1]['epoch_time_s']:.3f} s/epoch, "
                  f"{rows[-1]['bytes_per_epoch'] / 2**20:.2f} MB/epoch, test acc {rows[-1]['test_acc']:.3f}", flush=True)
    return rows, "scaling"


def run_torchrun(args) -> dict | None:
    """One workflow on the ``WORLD_SIZE`` processes started by torchrun; rank 0 writes the row."""
    import torch.distributed as dist

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    init_process_group(rank, world)
    try:
        spec = _spec(args)
        graph = load_graph(spec)
        parts = torch.empty(graph.num_nodes, dtype=torch.long)
        if rank == 0:
            parts = partition(args.partition, graph.edge_index, graph.num_nodes, world, seed=args.seed)
        dist.broadcast(parts, src=0)  # setup traffic, not counted per epoch
        cfg = _config(args, args.mode, args.stale, args.cache_fraction if args.mode == "minibatch" else 0.0)
        t = time.perf_counter()
        result = WORKFLOWS[args.mode](rank, world, graph, parts, cfg)
        gathered = [None] * world if rank == 0 else None
        dist.gather_object(result, gathered, dst=0)
        if rank != 0:
            return None
        q = partition_quality(graph.edge_index, parts, world)
        name = f"{args.mode}/{args.partition}" + ("+stale" if args.stale else "") + \
            ("+cache" if args.mode == "minibatch" and args.cache_fraction > 0 else "")
        return {"rows": [_row(name, gathered, q, cfg, time.perf_counter() - t)], "experiment": f"torchrun_{args.mode}"}
    finally:
        dist.barrier()
        dist.destroy_process_group()


def main(argv: list[str] | None = None) -> dict | None:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)  # several processes share the cores: one thread each
    os.environ.setdefault("COMPANION_NO_PROGRESS", "1")
    start = time.perf_counter()
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ and not args.sweep:
        out = run_torchrun(args)
        if out is None:
            return None
        rows, experiment = out["rows"], out["experiment"]
    else:
        if args.sweep or args.cache_sweep:
            rows, experiment = run_sweep(args)
        else:  # a single run with local processes: the first --workers value
            name = f"{args.mode}/{args.partition}" + ("+stale" if args.stale and args.mode == "full" else "")
            if args.mode == "minibatch" and args.partition == "metis" and args.cache_fraction > 0:
                name += "+cache"
            args.workflows = [name]
            args.workers = args.workers[:1]
            rows, experiment = run_sweep(args)
    wall = time.perf_counter() - start
    _print(rows)
    out_path = args.out or repo_path("book", "02_distgnn", "results", f"{experiment}_{args.dataset}_{args.num_nodes}.json")
    argv_used = sys.argv[1:] if argv is None else argv
    launcher = (f"torchrun --nproc-per-node {os.environ['WORLD_SIZE']} -m companion.distgnn "
                if experiment.startswith("torchrun") else "python -m companion.distgnn ")
    path = save_results(out_path, rows, seeds=[args.seed], wall_seconds=wall,
                        command=launcher + " ".join(argv_used), experiment=experiment,
                        dataset=_spec(args), settings={k: v for k, v in vars(args).items() if k != "out"},
                        note=NOTE)
    print(f"wrote {path}")
    return {"rows": rows, "path": str(path)}


if __name__ == "__main__":
    main()
