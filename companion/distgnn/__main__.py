"""CLI of the distributed-training chapter.

Without ``torchrun`` it sweeps worker counts and workflows with local processes
(``torch.multiprocessing``) and writes the table the chapter reads::

    python -m companion.distgnn --sweep --workers 1 2 4 --num-nodes 200000

``--cache-sweep`` varies the cache size and policy instead, and with neither flag it runs one
workflow (``--mode``, ``--partition``) on ``--workers`` local processes.

Every worker loads only its own partition folder (written once by the parent process, or by
``--write-partitions DIR``). Under ``torchrun`` (one process per worker)::

    torchrun --standalone --nproc-per-node 4 -m companion.distgnn --mode minibatch

runs one workflow on ``WORLD_SIZE`` workers: rank 0 partitions the graph and writes the folders
(unless ``--partition-dir`` already holds them), every worker loads its own and trains, and rank
0 prints the merged row and writes the JSON file. Across machines, write the partitions first
(``--write-partitions DIR --workers 4``), give each machine the folders of its ranks, and run
``torchrun --nnodes 2 --node-rank R --master-addr HOST --master-port PORT --nproc-per-node 2
-m companion.distgnn ... --partition-dir DIR`` on each. ``--backend nccl`` (or ``--device cuda``)
puts every worker on its own GPU, ``cuda:LOCAL_RANK``.

``--engine pyg`` runs the mini-batch workflow on PyG's own distributed engine instead
(:mod:`companion.distgnn.pyg_engine`): it writes the METIS partitions in PyG's partition format,
loads each back into PyG's stores, and trains with ``DistNeighborLoader`` where PyG's sampler can
run; where it cannot, it stops there and says why::

    python -m companion.distgnn --engine pyg --workers 2 --pyg-root parts/

Results go to ``./results/`` (``--out`` to choose, ``--publish`` for the book's folder), one
row per seed, workflow and worker count; the summary aggregates the rows over ``--seeds``.
A worker that fails stops all the others, and so does Ctrl-C.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch

from companion.cli import (RunProgress, add_list_argument, chapter_parser, cli_entry, float_in, float_list,
                           device_argv, int_at_least, int_list, require_packages, run_seeds, start_run,
                           str_list, strip_output_flags)
from companion.distgnn.cache import CACHE_POLICIES
from companion.distgnn.launch import (BACKENDS, DEFAULT_TIMEOUT_S, WORKFLOWS, check_backend, check_training_nodes,
                                      init_process_group, leave_process_group, load_graph, run_partitioned,
                                      worker_device)
from companion.distgnn.local import load_partition, rss_mb, write_partitions
from companion.distgnn.partition import METIS_WEIGHTS, partition, partition_quality
from companion.distgnn.pyg_engine import add_engine_arguments, run_engine_cli, validate_engine_args
from companion.distgnn.train import WORKFLOWS_LOCAL, DistConfig, summarise
from companion.results import SeedCheckpoint, save_results

MODULE, CHAPTER = "companion.distgnn", "02_distgnn"

NOTE = ("epoch times measured with every worker process on this one machine over loopback; with more processes "
        "than cores they share the cores, and separate machines would have more cores but a slower network, so "
        "times are specific to this machine; bytes are the machine-independent measure")

class Workflow(NamedTuple):
    """One workflow of the sweep: how its workers train, and whether it runs only when named."""

    mode: str
    partition: str
    stale: bool
    cache_fraction: float | None  # None: --cache-fraction
    stale_grads: bool
    zero_halo: bool = False       # the hidden layer's halo is zeros in training, never sent
    opt_in: bool = False          # run only when named in --workflows


# the +zerohalo workflows are the control of stale mode; they and stale mode on a random
# partition, where far more edges are cut, run only when named
SWEEP_WORKFLOWS = {
    "full/random": Workflow("full", "random", False, 0.0, False),
    "full/metis": Workflow("full", "metis", False, 0.0, False),
    "full/metis+stale": Workflow("full", "metis", True, 0.0, True),            # PipeGCN: stale halos and halo gradients
    "full/metis+stale-nograd": Workflow("full", "metis", True, 0.0, False),    # stale halos, no halo gradients at all
    "minibatch/random": Workflow("minibatch", "random", False, 0.0, False),
    "minibatch/metis": Workflow("minibatch", "metis", False, 0.0, False),
    "minibatch/metis+cache": Workflow("minibatch", "metis", False, None, False),
    "full/metis+zerohalo": Workflow("full", "metis", False, 0.0, False, zero_halo=True, opt_in=True),
    "full/random+stale": Workflow("full", "random", True, 0.0, True, opt_in=True),
    "full/random+zerohalo": Workflow("full", "random", False, 0.0, False, zero_halo=True, opt_in=True),
}
OPT_IN_WORKFLOWS = tuple(name for name, wf in SWEEP_WORKFLOWS.items() if wf.opt_in)  # not run by default

# metric -> higher_is_better (None: neither); every row of every experiment holds a subset
METRICS = {
    "test_acc": True, "val_acc": True, "final_loss": False, "bytes_per_epoch": False,
    "max_data_mb_per_worker": False, "edge_cut": False, "cut_fraction": False, "total_halo": False,
    "cache_hit_rate": True, "remote_lookups_per_epoch": None, "fetched_rows_per_epoch": False,
    "epoch_time_s": False, "wall_seconds": False, "cpu_seconds": False, "cpu_seconds_per_epoch": False,
    "setup_bytes": False, "max_partition_mb": False, "max_structure_mb": False, "max_edge_share": False,
    "edge_balance": False,
    "rss_base_mb": None, "rss_graph_mb": False, "rss_train_mb": False, "max_peak_rss_mb": False,
}
# wall-clock and CPU time, and resident memory, depend on the machine and its load (and the
# allocator): reported, never compared on rerun
TIMING = ["epoch_time_s", "wall_seconds", "cpu_seconds", "cpu_seconds_per_epoch",
          "rss_base_mb", "rss_graph_mb", "rss_train_mb", "max_peak_rss_mb"]


def _num_classes(dataset: str) -> int:
    """Classes of a generated dataset (its loader's default), for the split-size check."""
    from companion.data.powerlaw import load_powerlaw_graph
    from companion.data.sbm import load_sbm_features

    loader = {"sbm_features": load_sbm_features, "powerlaw_graph": load_powerlaw_graph}[dataset]
    return int(inspect.signature(loader).parameters["num_classes"].default)


EXAMPLES = [
    "python -m companion.distgnn --sweep --workers 1 2 4 --num-nodes 200000",
    "python -m companion.distgnn --cache-sweep --workers 4 --dataset powerlaw_graph --num-nodes 200000 "
    "--train-per-class 2000 --num-val 5000 --num-test 20000 --batch-size 1024 --epochs 30 --full-lr 0.03 "
    "--minibatch-epochs 8",
]


def build_parser() -> argparse.ArgumentParser:
    p = chapter_parser("python -m companion.distgnn", __doc__.split("\n\n")[0], seeds=(0,), threads=1,
                       examples=EXAMPLES)
    g = p.add_argument_group("what to run")
    g.add_argument("--sweep", action="store_true", help="sweep --workers x --workflows with local processes")
    g.add_argument("--cache-sweep", action="store_true",
                   help="sweep --cache-fractions x --cache-policies (minibatch/metis) on --workers local processes")
    g.add_argument("--mode", choices=sorted(WORKFLOWS), default="minibatch",
                   help="workflow of a single run: full (full-graph training, halo exchange every layer) or "
                        "minibatch (sampled mini-batches, remote features fetched)")
    g.add_argument("--partition", choices=["metis", "random"], default="metis",
                   help="partitioner of a single run: metis (few cut edges, needs pymetis) or random (hashing)")
    g.add_argument("--stale", action="store_true",
                   help="single full-graph run: use halo embeddings and halo gradients one epoch old (PipeGCN)")
    g.add_argument("--no-stale-grads", action="store_true",
                   help="with --stale: send no halo gradients at all (the owners of halo rows never get them)")
    g.add_argument("--backend", choices=BACKENDS, default=None,
                   help="process-group backend: gloo (CPU tensors; the default) or nccl (one CUDA GPU per "
                        "worker, cuda:LOCAL_RANK; implied by --device cuda)")
    g.add_argument("--write-partitions", metavar="DIR", default=None,
                   help="only write the partition folders DIR/seed<S>/part<R> of --workers (one count), "
                        "--partition and --seeds, for torchrun --partition-dir (copy each machine's own)")
    g.add_argument("--partition-dir", metavar="DIR", default=None,
                   help="under torchrun: load partitions from DIR/seed<S>/part<RANK> (rank 0 writes missing "
                        "ones when the machines share DIR)")
    add_list_argument(g, "--workers", int_list(1), default=None,
                      help="local worker processes, space-separated: several counts for --sweep, one otherwise "
                           "(default: 1 2 4 for --sweep, 4 for --cache-sweep, 2 for a single run; under "
                           "torchrun the count is WORLD_SIZE)")
    add_list_argument(g, "--workflows", str_list(list(SWEEP_WORKFLOWS)),
                      default=[w for w in SWEEP_WORKFLOWS if w not in OPT_IN_WORKFLOWS],
                      help="workflows of --sweep, space-separated (default: all but the opt-in "
                           f"{', '.join(OPT_IN_WORKFLOWS)}; +zerohalo trains with the hidden layer's halo "
                           "set to zero, the control of +stale)")
    g.add_argument("--zero-halo", action="store_true",
                   help="single full-graph run, the control of --stale: the hidden layer's halo is zeros in "
                        "training and never sent (input halo once, exact halos at evaluation, as fresh)")
    g.add_argument("--metis-weights", choices=list(METIS_WEIGHTS), default="nodes",
                   help="what METIS balances: nodes (its default) or degree (a node weighs 1 + its degree: "
                        "nodes and edges balanced together)")
    add_list_argument(g, "--cache-fractions", float_list(0, 1), default=[0.0, 0.01, 0.05, 0.2],
                      help="cache sizes of --cache-sweep, as a share of the nodes a worker owns (0: no cache)")
    add_list_argument(g, "--cache-policies", str_list(sorted(CACHE_POLICIES)), default=["degree", "random"],
                      help="cache policies of --cache-sweep: degree (remote nodes of highest degree), "
                           "halo_degree (most edges into this worker first), random (the baseline)")
    g.add_argument("--baseline-threads", type=int_at_least(1), default=None,
                   help="threads of the extra one-process, all-cores baseline of --sweep (default: every "
                        "core); equal to --threads: no extra baseline")
    add_engine_arguments(g)
    g.add_argument("--collective-timeout", type=int_at_least(1), default=DEFAULT_TIMEOUT_S,
                   help="seconds a collective waits for the other workers before the run fails")
    d = p.add_argument_group("data")
    d.add_argument("--dataset", default="sbm_features", choices=["sbm_features", "powerlaw_graph"],
                   help="generated graph: sbm_features (stochastic block model, Cora-like features) or "
                        "powerlaw_graph (R-MAT graph with skewed degrees, where caching hubs pays)")
    d.add_argument("--num-nodes", type=int_at_least(10), default=3000, help="nodes of the generated graph")
    d.add_argument("--train-per-class", type=int_at_least(1), default=20, help="labelled training nodes per class")
    d.add_argument("--num-val", type=int_at_least(1), default=500, help="validation nodes")
    d.add_argument("--num-test", type=int_at_least(1), default=1000, help="test nodes")
    d.add_argument("--graph-seed", type=int_at_least(0), default=0,
                   help="seed of the generated graph (--seeds vary partition, weights and sampling)")
    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=int_at_least(1), default=30,
                   help="training epochs (of the mini-batch workflow too, unless --minibatch-epochs)")
    t.add_argument("--minibatch-epochs", type=int_at_least(1), default=None,
                   help="epochs of the mini-batch workflow (default: --epochs)")
    t.add_argument("--hidden", type=int_at_least(1), default=32, help="hidden units of the 2-layer GNN")
    t.add_argument("--lr", type=float_in(0, 10, low_open=True), default=0.01,
                   help="learning rate (of mini-batch runs; of full-graph runs too unless --full-lr)")
    t.add_argument("--full-lr", type=float_in(0, 10, low_open=True), default=None,
                   help="learning rate of full-graph runs (default: --lr)")
    t.add_argument("--batch-size", type=int_at_least(1), default=256,
                   help="global mini-batch size in seed nodes (each of P workers takes batch-size / P)")
    add_list_argument(t, "--fanouts", int_list(1), default=[10, 5],
                      help="sampled neighbours per node, one per layer (2 layers), space-separated")
    t.add_argument("--cache-fraction", type=float_in(0, 1), default=0.1,
                   help="cache size of minibatch/metis+cache and of a single mini-batch run, as a share of "
                        "the nodes a worker owns (0: no cache)")
    t.add_argument("--cache-policy", choices=sorted(CACHE_POLICIES), default="degree",
                   help="cache policy of those runs (see --cache-policies)")
    return p


def needs_metis(args: argparse.Namespace) -> bool:
    """Whether any run splits the graph with METIS (one worker needs no partition)."""
    if _under_torchrun():
        return args.partition == "metis" and int(os.environ["WORLD_SIZE"]) > 1
    return any(run.method == "metis" and run.workers > 1 for run in plan_runs(args)[0])


def _under_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every cross-flag constraint, through ``parser.error`` (exit 2) before any work."""
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f"--seeds: repeated seed in {args.seeds}")
    validate_engine_args(parser, args, _under_torchrun())
    if args.sweep and args.cache_sweep:
        parser.error("--sweep and --cache-sweep are exclusive: run them one after the other")
    sweeping = args.sweep or args.cache_sweep
    if _under_torchrun():
        if sweeping:
            parser.error("--sweep/--cache-sweep start their own local processes: run them without torchrun")
        if args.workers is not None:
            parser.error("--workers: under torchrun the number of workers is WORLD_SIZE (--nproc-per-node)")
    if args.device == "cuda" and args.backend == "gloo":
        parser.error("--device cuda: gloo moves CPU tensors here; GPU workers talk over --backend nccl "
                     "(or leave --backend out)")
    if args.backend is None:
        args.backend = "nccl" if args.device == "cuda" else "gloo"
    if args.zero_halo and (sweeping or args.mode != "full" or args.stale):
        parser.error("--zero-halo applies to a single --mode full run without --stale (the sweep has its "
                     "full/metis+zerohalo workflow)")
    if args.no_stale_grads and not args.stale:
        parser.error("--no-stale-grads changes --stale (the sweep has its full/metis+stale-nograd workflow)")
    if args.partition_dir is not None and not _under_torchrun():
        parser.error("--partition-dir is for torchrun workers; a local run writes its own partitions")
    if args.write_partitions is not None and (sweeping or _under_torchrun()):
        parser.error("--write-partitions writes one partition and exits: run it alone, without torchrun")
    if args.workers is None:
        args.workers = ([int(os.environ["WORLD_SIZE"])] if _under_torchrun() else
                        [1, 2, 4] if args.sweep else [4] if args.cache_sweep else [2])
    if len(set(args.workers)) != len(args.workers):
        parser.error(f"--workers: repeated worker count in {args.workers}")
    if not args.sweep and len(args.workers) != 1:
        parser.error(f"--workers takes one count without --sweep, got {args.workers}")
    if args.cache_sweep and args.workers[0] < 2:
        parser.error("--workers: a cache holds remote rows, so --cache-sweep needs at least 2 workers")
    if len(set(args.workflows)) != len(args.workflows):
        parser.error(f"--workflows: repeated workflow in {args.workflows}")
    for flag, values in (("--cache-fractions", args.cache_fractions), ("--cache-policies", args.cache_policies)):
        if len(set(values)) != len(values):
            parser.error(f"{flag}: repeated value in {values}")
    if args.baseline_threads is not None and not args.sweep:
        parser.error("--baseline-threads sets the extra one-process baseline of --sweep: use it with --sweep")
    if args.sweep and args.baseline_threads is None:
        args.baseline_threads = os.cpu_count() or 1
    if args.stale and (sweeping or args.mode != "full"):
        parser.error("--stale applies to a single --mode full run (the sweep has its full/metis+stale workflow)")
    if len(args.fanouts) != 2:
        parser.error(f"--fanouts: the models have 2 layers, so give 2 fan-outs (one per layer), got {args.fanouts}")
    classes = _num_classes(args.dataset)
    need = classes * args.train_per_class + args.num_val + args.num_test
    if need > args.num_nodes:
        parser.error(f"--num-nodes {args.num_nodes} is too small for the split: {classes} classes x "
                     f"--train-per-class {args.train_per_class} + --num-val {args.num_val} + "
                     f"--num-test {args.num_test} = {need} nodes")
    if max(args.workers) > args.num_nodes:
        flag = "--nproc-per-node" if _under_torchrun() else "--workers"
        parser.error(f"{flag}: {max(args.workers)} workers for {args.num_nodes} nodes")
    if (_under_torchrun() and args.partition_dir is None
            and int(os.environ.get("LOCAL_WORLD_SIZE", os.environ["WORLD_SIZE"])) != int(os.environ["WORLD_SIZE"])):
        parser.error("--partition-dir: on several machines every worker loads its partition from a folder "
                     "on its own machine; write them with --write-partitions and give the folder")
    if args.write_partitions is None:
        gpus = int(os.environ.get("LOCAL_WORLD_SIZE", 1)) if _under_torchrun() else max(args.workers)
        try:
            check_backend(args.backend, gpus)
        except ValueError as e:
            parser.error(str(e))


def _load(parser: argparse.ArgumentParser, args):
    try:
        return load_graph(_spec(args))
    except ValueError as e:  # a generator's own check that the flags above do not cover
        parser.error(f"--dataset {args.dataset}: {e}")


def _spec(args) -> dict:
    return {"name": args.dataset, "num_nodes": args.num_nodes, "train_per_class": args.train_per_class,
            "num_val": args.num_val, "num_test": args.num_test, "seed": args.graph_seed}


def _config(args, mode: str, stale: bool, cache_fraction: float, seed: int,
            cache_policy: str | None = None, stale_grads: bool = True, zero_halo: bool = False) -> DistConfig:
    return DistConfig(mode=mode, hidden=args.hidden, epochs=(args.minibatch_epochs or args.epochs)
                      if mode == "minibatch" else args.epochs,
                      lr=(args.full_lr or args.lr) if mode == "full" else args.lr, stale=stale,
                      stale_grads=stale_grads, zero_halo=zero_halo,
                      fanouts=list(args.fanouts), batch_size=args.batch_size, cache_fraction=cache_fraction,
                      cache_policy=cache_policy or args.cache_policy, seed=seed)


@dataclass
class Planned:
    """One run of the plan: a workflow on ``workers`` processes with one seed."""

    label: str
    workers: int
    method: str         # partitioner ("" for one process)
    config: DistConfig
    setting: dict
    threads: int | None = None  # None: --threads (every worker of a distributed run)


def plan_runs(args) -> tuple[list[Planned], str]:
    """The runs a local invocation makes, in order, and the experiment's name."""
    runs = []
    for seed in args.seeds:
        if args.cache_sweep:
            w = args.workers[0]
            for policy in args.cache_policies:
                for frac in args.cache_fractions:
                    if frac == 0 and policy != args.cache_policies[0]:
                        continue  # no cache: the policy does not matter
                    cfg = _config(args, "minibatch", False, frac, seed, policy)
                    setting = {"workers": w, "cache_policy": policy if frac > 0 else "none", "cache_fraction": frac}
                    runs.append(Planned("minibatch/metis+cache", w, "metis", cfg, setting))
            continue
        if args.sweep:
            items = [(w, name, *SWEEP_WORKFLOWS[name][:6]) for w in args.workers for name in args.workflows]
        else:
            items = [(args.workers[0], _single_name(args), args.mode, args.partition, args.stale, None,
                      not args.no_stale_grads, args.zero_halo)]
        for w, name, mode, method, stale, frac, stale_grads, zero_halo in items:
            if w == 1 and args.sweep and (method == "random" or stale or frac is None or zero_halo):
                continue  # one process: no partition, no halo, nothing remote to cache
            if frac is None:  # minibatch/metis+cache of the sweep, or a single run
                frac = args.cache_fraction if mode == "minibatch" else 0.0
            label = f"{mode} (1 process)" if w == 1 else name
            runs.append(Planned(label, w, "" if w == 1 else method,
                                _config(args, mode, stale, frac, seed, stale_grads=stale_grads, zero_halo=zero_halo),
                                {"workers": w}))
            if w == 1 and args.sweep and args.baseline_threads != args.threads:
                # the fair baseline: one process may use every core the P workers share
                n = args.baseline_threads
                runs.append(Planned(f"{mode} (1 process, {n} threads)", 1, "",
                                    _config(args, mode, stale, frac, seed), {"workers": 1, "threads": n}, n))
    experiment = "cache" if args.cache_sweep else "scaling" if args.sweep else f"local_{args.mode}"
    return runs, experiment


def _single_name(args) -> str:
    name = f"{args.mode}/{args.partition}" + ("+stale" if args.stale else "") + \
        ("-nograd" if args.stale and args.no_stale_grads else "") + ("+zerohalo" if args.zero_halo else "")
    if args.mode == "minibatch" and args.cache_fraction > 0:
        name += "+cache"
    return name


def _row(label: str, seed: int, setting: dict, results: list[dict], quality: dict, config: DistConfig,
         method: str, wall: float) -> dict:
    return {"setting": setting, "method": label, "seed": seed, "workflow": label, **summarise(results),
            "partition": method, "edge_cut": quality["edge_cut"], "cut_fraction": quality["cut_fraction"],
            "total_halo": quality["total_halo"], "edge_balance": quality["edge_balance"], "cache_fraction": config.cache_fraction,
            "cache_policy": config.cache_policy if config.cache_fraction > 0 else "none", "wall_seconds": wall}


def _print(rows: list[dict]) -> None:
    print(f"\n{'workflow':34s}{'P':>3s}{'seed':>5s}{'epoch s':>9s}{'MB/epoch':>10s}{'setup MB':>9s}"
          f"{'edge cut':>10s}{'hit rate':>9s}{'test acc':>9s}{'part MB':>9s}{'RSS MB':>8s}")
    for r in rows:
        hit = f"{r['cache_hit_rate']:.2f}" if "cache_hit_rate" in r else "-"
        graph_rss = f"{r['rss_graph_mb']:.0f}" if "rss_graph_mb" in r else "-"
        print(f"{r['workflow']:34s}{r['workers']:3d}{r['seed']:5d}{r['epoch_time_s']:9.3f}"
              f"{r['bytes_per_epoch'] / 2**20:10.2f}{r['setup_bytes'] / 2**20:9.2f}{r['edge_cut']:10d}{hit:>9s}"
              f"{r['test_acc']:9.3f}{r['max_partition_mb']:9.1f}{graph_rss:>8s}")


def prepare_local(parser: argparse.ArgumentParser, args) -> tuple:
    """Plan every run, partition and check every partition (flag errors, exit 2) before any work."""
    runs, experiment = plan_runs(args)
    spec = _spec(args)
    graph = _load(parser, args)  # the parent partitions; every worker rebuilds the graph from the spec
    parts_of: dict[tuple[str, int, int], torch.Tensor] = {}
    for run in runs:
        key = (run.method or "one", run.workers, run.config.seed)
        if key not in parts_of:
            try:
                parts_of[key] = (torch.zeros(graph.num_nodes, dtype=torch.long) if run.workers == 1 else
                                 partition(run.method, graph.edge_index, graph.num_nodes, run.workers,
                                           seed=run.config.seed, metis_weights=args.metis_weights))
            except ValueError as e:
                parser.error(f"--workers {run.workers}: {e}")
        if run.config.mode == "minibatch":
            try:
                check_training_nodes(graph.train_mask, parts_of[key], run.workers,
                                     f"{run.method or 'one process'}, seed {run.config.seed}")
            except ValueError as e:
                parser.error(f"--workers {run.workers} with --train-per-class {args.train_per_class}: {e}")
    return runs, experiment, graph, spec, parts_of


def run_local(args, plan: tuple, checkpoint: SeedCheckpoint | None = None,
              display: RunProgress | None = None) -> tuple[list[dict], str]:
    """Train every planned run (:func:`prepare_local`); no worker starts on a bad plan.

    With a ``checkpoint``, a seed's rows are saved once its last run ends, and the runs of a seed
    the checkpoint holds are not trained again (their saved rows are used). ``display`` counts
    one unit per planned run.
    """
    runs, experiment, graph, spec, parts_of = plan
    seeds = list(dict.fromkeys(run.config.seed for run in runs))  # plan_runs: a seed's runs are together
    of_seed = {seed: [run for run in runs if run.config.seed == seed] for seed in seeds}
    rows = run_seeds(seeds, lambda seed: _seed_rows(args, of_seed[seed], graph, spec, parts_of, display),
                     checkpoint=checkpoint, display=display, units=lambda seed: len(of_seed[seed]))
    return rows, experiment


def _seed_rows(args, runs: list[Planned], graph, spec: dict, parts_of: dict,
               display: RunProgress | None = None) -> list[dict]:
    """The rows of ``runs`` (one seed's planned runs), each printed, and counted on ``display``, as it ends."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="distgnn-parts-") as tmp:
        written: dict[tuple, Path] = {}
        for run in runs:
            key = (run.method or "one", run.workers, run.config.seed)
            parts = parts_of[key]
            if key not in written:  # once per partition, for every workflow that uses it
                written[key] = write_partitions(graph, parts, Path(tmp) / f"{key[0]}_{key[1]}", run.workers,
                                                hops=len(args.fanouts) - 1)
            rows.append(_run_one(args, run, graph, parts, written[key], display))
    return rows


def _run_one(args, run: Planned, graph, parts: torch.Tensor, root: Path, display: RunProgress | None) -> dict:
    """Train one planned run on partition-local worker processes and return its row."""
    q = partition_quality(graph.edge_index, parts, run.workers)
    t = time.perf_counter()
    res = run_partitioned(root, run.workers, run.config, threads=run.threads or args.threads,
                          timeout_s=args.collective_timeout, backend=args.backend)
    r = _row(run.label, run.config.seed, run.setting, res, q, run.config, run.method, time.perf_counter() - t)
    extra = f", cache {r['cache_policy']} {r['cache_fraction']:g}: hit rate {r['cache_hit_rate']:.3f}" \
        if args.cache_sweep else ""
    print(f"{run.label} P={run.workers} seed {run.config.seed}{extra}: {r['epoch_time_s']:.3f} s/epoch, "
          f"{r['bytes_per_epoch'] / 2**20:.2f} MB/epoch, test acc {r['test_acc']:.3f}", flush=True)
    if display is not None:
        cache = f", cache {r['cache_policy']} {r['cache_fraction']:g}" if args.cache_sweep else ""
        display.done(f"seed {run.config.seed}, {run.label} P={run.workers}{cache}")
    return r


def _quality_keys(q: dict) -> dict:
    return {k: q[k] for k in ("edge_cut", "cut_fraction", "total_halo", "edge_balance")}


def ensure_partitions(args, root: Path, world: int, seed: int) -> dict | str:
    """The partition of ``seed`` for ``world`` workers under ``root`` (``part<R>`` folders and a
    ``meta.json``): written from the whole graph unless already there. Returns the meta dict, or
    an error message when a part would own no training node of a mini-batch run."""
    meta_path = root / "meta.json"
    want = {"dataset": _spec(args), "partition": args.partition, "seed": seed, "workers": world,
            "hops": len(args.fanouts) - 1, "metis_weights": args.metis_weights}
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if {k: meta.get(k) for k in want} != want:
            return (f"--partition-dir: {root} holds partitions of {({k: meta.get(k) for k in want})}, "
                    f"not of this run ({want}); use another folder")
        return meta
    graph = load_graph(_spec(args))
    parts = (torch.zeros(graph.num_nodes, dtype=torch.long) if world == 1 else
             partition(args.partition, graph.edge_index, graph.num_nodes, world, seed=seed,
                       metis_weights=args.metis_weights))
    try:
        check_training_nodes(graph.train_mask, parts, world, f"{args.partition}, seed {seed}")
    except ValueError as e:
        if args.mode == "minibatch":
            return f"--nproc-per-node {world} with --train-per-class {args.train_per_class}: {e}"
    write_partitions(graph, parts, root, world, hops=want["hops"])
    meta = {**want, "quality": _quality_keys(partition_quality(graph.edge_index, parts, world))}
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def run_torchrun(parser: argparse.ArgumentParser, args) -> list[dict] | None:
    """One workflow on the ``WORLD_SIZE`` processes started by torchrun; rank 0 returns the rows.

    Rank 0 writes the partitions (unless ``--partition-dir`` holds them); every rank loads only
    its own folder. Ranks other than 0 never build the graph.
    """
    import torch.distributed as dist

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    base = rss_mb()
    device = worker_device(args.backend, int(os.environ.get("LOCAL_RANK", 0)))
    init_process_group(rank, world, backend=args.backend, timeout_s=args.collective_timeout)
    ok, rows, tmp = False, [], None
    try:
        where = [args.partition_dir]  # with --partition-dir, each machine's own folder
        if where[0] is None:  # one machine: rank 0's temporary folder, which every rank reads
            if rank == 0:
                tmp = tempfile.mkdtemp(prefix="distgnn-parts-")
                where[0] = tmp
            dist.broadcast_object_list(where, src=0)
        for seed in args.seeds:
            root = Path(where[0]) / f"seed{seed}"
            meta = [ensure_partitions(args, root, world, seed) if rank == 0 else None]
            dist.broadcast_object_list(meta, src=0)  # every rank learns the outcome: all stop together
            if isinstance(meta[0], str):
                if rank == 0:
                    parser.error(meta[0])
                sys.exit(2)
            try:
                part, err = load_partition(root, rank, world, args.mode), None
            except (FileNotFoundError, ValueError) as e:
                part, err = None, f"rank {rank}: {e}"
            errors = [None] * world
            dist.all_gather_object(errors, err)  # every rank stops, before any training collective
            if any(errors):
                if rank == 0:
                    parser.error("--partition-dir: " + "; ".join(e for e in errors if e))
                sys.exit(2)
            loaded = rss_mb()
            frac = args.cache_fraction if args.mode == "minibatch" else 0.0
            cfg = _config(args, args.mode, args.stale, frac, seed, stale_grads=not args.no_stale_grads,
                          zero_halo=args.zero_halo)
            t = time.perf_counter()
            result = WORKFLOWS_LOCAL[args.mode](part, cfg, device)
            result.update(rss_base_mb=base, rss_loaded_mb=loaded)
            del part
            gathered = [None] * world if rank == 0 else None
            dist.gather_object(result, gathered, dst=0)
            if rank == 0:
                rows.append(_row(_single_name(args), seed, {"workers": world}, gathered, meta[0]["quality"], cfg,
                                 args.partition, time.perf_counter() - t))
        ok = True
    finally:
        leave_process_group(ok)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return rows if rank == 0 else None


def write_partition_dirs(parser: argparse.ArgumentParser, args) -> dict:
    """``--write-partitions DIR``: write ``DIR/seed<S>/part<R>`` for every seed and exit."""
    world = args.workers[0]
    for seed in args.seeds:
        root = Path(args.write_partitions) / f"seed{seed}"
        meta = ensure_partitions(args, root, world, seed)
        if isinstance(meta, str):
            parser.error(meta)
        print(f"wrote {root}/part0 .. part{world - 1} ({args.partition}, seed {seed}, edge cut "
              f"{meta['quality']['edge_cut']})")
    return {"rows": [], "path": str(args.write_partitions)}


def _strip_partition_dir(argv: list[str]) -> list[str]:
    """``argv`` without ``--partition-dir X``: where the partitions lie does not change the numbers."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--partition-dir":
            skip = True
        elif not arg.startswith("--partition-dir="):
            out.append(arg)
    return out


def results_name(experiment: str, args) -> str:
    """The results file of a run: ``<experiment>_<dataset>_<num nodes>.json``."""
    return f"{experiment}_{args.dataset}_{args.num_nodes}.json"


def main(argv: list[str] | None = None) -> dict | None:
    """Run the CLI; returns ``{"rows", "path"}`` (``None`` on torchrun ranks other than 0)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    validate(parser, args)  # fills in --workers, which decides whether METIS runs
    if needs_metis(args):
        require_packages(parser, "pymetis")
    elif args.metis_weights != "nodes":
        parser.error(f"--metis-weights {args.metis_weights}: no run of this command partitions with METIS")
    if args.engine == "pyg":  # PyG's engine: its own module, from partition files to results
        return run_engine_cli(parser, args, argv)
    if args.write_partitions is not None:
        return write_partition_dirs(parser, args)
    if _under_torchrun():
        os.environ.setdefault("COMPANION_NO_PROGRESS", "1")  # every rank's bars would interleave
    # a local run's partition checks come first: a bad plan leaves no output folder behind
    plan = None if _under_torchrun() else prepare_local(parser, args)
    run = start_run(parser, args, module=MODULE, chapter=CHAPTER, argv=argv, one_file=True)
    checkpoint = None
    if _under_torchrun():
        # no checkpoint here: every rank would have to agree on the seeds to skip, and torchrun
        # itself stops all ranks on Ctrl-C
        rows = run_torchrun(parser, args)
        if rows is None:
            return None
        experiment = f"torchrun_{args.mode}"
        command = shlex.join(["torchrun", "--standalone", "--nproc-per-node", os.environ["WORLD_SIZE"],
                              "-m", MODULE, *device_argv(_strip_partition_dir(strip_output_flags(argv)), run.device)])
    else:
        # a seed's runs take minutes at full size: each finished seed is kept, and a rerun of the
        # same command resumes after it
        checkpoint = run.checkpoint(results_name(plan[1], args))
        with run.progress(len(plan[0])) as display:  # a unit: one planned run (seed, workflow, workers)
            rows, experiment = run_local(args, plan, checkpoint, display)
        command = run.command
    _print(rows)
    path = save_results(run.path(results_name(experiment, args)), rows, seeds=run.seeds,
                        command=command, metrics=METRICS, timing=TIMING, wall_seconds=run.wall_seconds,
                        experiment=experiment, dataset=_spec(args), note=NOTE,
                        settings={k: v for k, v in vars(args).items() if k not in ("out", "publish")})
    if checkpoint is not None:
        checkpoint.finish()
    print(f"wrote {path}")
    return {"rows": rows, "path": str(path)}


if __name__ == "__main__":
    sys.exit(cli_entry(main))
