"""The same mini-batch workflow on PyG's distributed engine (``torch_geometric.distributed``).

PyG ships the pieces this chapter builds by hand: an on-disk partition format written by
``Partitioner`` (one folder per partition), per-machine ``LocalGraphStore`` /
``LocalFeatureStore`` loaded from that folder, and ``DistNeighborLoader``, whose
``DistNeighborSampler`` samples the local part of a neighbourhood itself and asks the owning
partition, over ``torch.distributed.rpc``, for the rest (neighbours and feature rows).

This module

- writes *our* METIS partition (:func:`companion.distgnn.partition.metis_partition`) in PyG's
  homogeneous partition format (:func:`write_partition`): ``Partitioner`` itself gets its METIS
  assignment from ``pyg-lib`` or ``torch-sparse``, and without either it stops before writing
  anything. The files are the ones ``Partitioner`` writes for the same assignment (a test
  checks this file by file), plus the labels and each partition's split, which PyG's own
  examples keep next to the partition folders;
- loads one partition back into PyG's stores (:func:`load_stores`) and checks them against the
  graph (:func:`check_stores`);
- reports whether the sampling operators ``DistNeighborSampler`` calls exist
  (:func:`missing_ops`, :func:`unavailable_message`): they come from ``pyg-lib``;
- trains GraphSAGE with ``DistNeighborLoader`` and DDP on every worker (:func:`train_pyg`),
  where those operators exist.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import torch

__all__ = ["PYG_OPS", "missing_ops", "sampler_error", "engine_problems", "wheel_index_url",
           "unavailable_message", "PygUnavailable",
           "write_partition", "load_stores", "check_stores", "partition_bytes", "topology_bytes", "train_pyg",
           "add_engine_arguments", "validate_engine_args", "run_engine_cli"]

# the pyg-lib operators DistNeighborSampler calls for a homogeneous graph (dist_neighbor_sampler.py)
PYG_OPS = ("dist_neighbor_sample", "relabel_neighborhood", "merge_sampler_outputs")


class PygUnavailable(RuntimeError):
    """PyG's distributed sampler cannot run here (see :func:`engine_problems`)."""


def missing_ops() -> list[str]:
    """The operators of :data:`PYG_OPS` that ``torch.ops.pyg`` lacks here (empty: the engine can sample)."""
    try:  # pyg-lib registers its operators on import
        import pyg_lib  # noqa: F401
    except Exception:  # not installed, or built for another torch: its library does not load
        pass
    missing = []
    for op in PYG_OPS:
        try:
            getattr(torch.ops.pyg, op)
        except (AttributeError, RuntimeError):
            missing.append(op)
    return missing


def sampler_error() -> str | None:
    """The error ``DistNeighborSampler(...)`` raises on a two-node graph here, or ``None``.

    Construction starts no RPC and samples nothing, so this probe is cheap; it catches a broken
    constructor, such as the ``warn(..., stack_level=2)`` call of torch_geometric 2.8.0 and 2.8.1
    (``warnings.warn`` takes ``stacklevel``: a ``TypeError`` before any work).
    """
    import warnings

    from torch_geometric.distributed import (DistContext, DistNeighborSampler, LocalFeatureStore,
                                             LocalGraphStore)

    edge_index = torch.tensor([[0, 1], [1, 0]])
    feature = LocalFeatureStore.from_data(torch.arange(2), x=torch.zeros(2, 1))
    graph = LocalGraphStore.from_data(torch.arange(2), edge_index, num_nodes=2)
    ctx = DistContext(rank=0, global_rank=0, world_size=1, global_world_size=1, group_name="probe")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its deprecation notice, when the call works
            DistNeighborSampler(ctx, (feature, graph), num_neighbors=[1])
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return None


def engine_problems() -> list[str]:
    """What stops PyG's ``DistNeighborLoader`` here, one sentence each (empty: nothing found).

    Both are checked before any process starts: without the operators, the loader's sampling
    task fails inside its event loop, logs the error and the training loop waits for a batch
    that never comes (no exception reaches the caller).
    """
    import torch_geometric

    problems = []
    err = sampler_error()
    if err is not None:
        known = ("; torch_geometric 2.8.0 and 2.8.1 pass warnings.warn a 'stack_level' argument there, 2.7.0 "
                 "and 2.6.1 do not: pip install torch_geometric==2.7.0") if "stack_level" in err else ""
        problems.append(f"torch_geometric {torch_geometric.__version__}: constructing DistNeighborSampler raises "
                        f"{err}{known}")
    missing = missing_ops()
    if missing:
        try:
            from importlib.metadata import version
            lib = f"pyg-lib {version('pyg-lib')} is installed but does not provide them (built for another torch?)"
        except Exception:
            lib = "pyg-lib is not installed"
        problems.append(f"the sampler calls {', '.join('torch.ops.pyg.' + op for op in missing)}, which this "
                        f"environment lacks: {lib}; pyg-lib is not on PyPI, its wheels are built per torch "
                        f"version at data.pyg.org: pip install pyg-lib -f {wheel_index_url()} "
                        f"(if that index lists no wheel, use a torch version it lists)")
    return problems


def wheel_index_url(torch_version: str | None = None) -> str:
    """PyG's wheel index for a torch build (``2.13.0+cpu`` -> ``https://data.pyg.org/whl/torch-2.13.0+cpu.html``).

    The index is per minor version of torch (``x.y.0``) and per build (``cpu``, ``cu1xx``).
    """
    v = torch_version or torch.__version__
    base, _, local = v.partition("+")
    major, minor = base.split(".")[:2]
    build = local if local.startswith("cu") or local == "cpu" else "cpu"
    return f"https://data.pyg.org/whl/torch-{major}.{minor}.0+{build}.html"


def unavailable_message(problems: list[str] | None = None) -> str:
    """One paragraph naming every problem of :func:`engine_problems` and what fixes each."""
    import torch_geometric

    problems = engine_problems() if problems is None else problems
    if not problems:
        return "PyG's distributed sampler can run here"
    fixes = "; ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))
    return (f"PyG's DistNeighborLoader cannot run with torch {torch.__version__} and torch_geometric "
            f"{torch_geometric.__version__}: {fixes}.")


def _owned(parts: torch.Tensor, p: int) -> torch.Tensor:
    return torch.nonzero(parts == p).flatten()  # ascending global ids, the order Partitioner writes


def write_partition(data, parts: torch.Tensor, root: str | os.PathLike) -> Path:
    """Write ``data`` (PyG ``Data`` with ``x``, ``y``, ``edge_index`` and the three masks) split by
    ``parts`` (N,) in PyG's on-disk partition format; returns ``root``.

    The layout is ``Partitioner``'s for a homogeneous graph: ``META.json``, ``node_map.pt`` (part
    of every node), ``edge_map.pt`` (part of every edge: the part of its destination) and one
    ``part_{p}`` folder per part holding ``graph.pt`` (the edges into the part's nodes, global ids,
    sorted by destination), ``node_feats.pt`` (the part's global ids and feature rows) and
    ``edge_feats.pt`` (empty: no edge features). Besides, as PyG's examples do: ``labels.pt``
    (every node's label) and ``part_{p}/split.pt`` (the part's train/val/test global ids).
    """
    root = Path(root)
    n, num_parts = data.num_nodes, int(parts.max()) + 1
    if parts.shape != (n,):
        raise ValueError(f"parts must be ({n},), got {tuple(parts.shape)}")
    if num_parts < 2:
        raise ValueError("PyG's partition format needs at least 2 parts")
    root.mkdir(parents=True, exist_ok=True)
    src, dst = data.edge_index
    edge_map = parts[dst]  # an edge lives with its destination: the sampler walks in-edges locally
    for p in range(num_parts):
        folder = root / f"part_{p}"
        folder.mkdir(exist_ok=True)
        eid = torch.nonzero(edge_map == p).flatten()
        # sort by destination, then source, as Partitioner's sort_csc does (is_sorted in META.json)
        order = torch.argsort(dst[eid] * n + src[eid], stable=True)
        eid = eid[order]
        torch.save({"edge_id": eid, "row": src[eid], "col": dst[eid], "size": (n, n)}, folder / "graph.pt")
        ids = _owned(parts, p)
        torch.save({"global_id": ids, "feats": {"x": data.x[ids]}}, folder / "node_feats.pt")
        torch.save({}, folder / "edge_feats.pt")
        torch.save({name: ids[getattr(data, f"{name}_mask")[ids]] for name in ("train", "val", "test")},
                   folder / "split.pt")
    torch.save(parts.clone(), root / "node_map.pt")
    torch.save(edge_map.clone(), root / "edge_map.pt")
    torch.save(data.y.clone(), root / "labels.pt")
    meta = {"num_parts": num_parts, "node_types": None, "edge_types": None, "node_offset": None,
            "is_hetero": False, "is_sorted": True}
    (root / "META.json").write_text(json.dumps(meta))
    return root


def load_stores(root: str | os.PathLike, pid: int):
    """PyG's ``(LocalFeatureStore, LocalGraphStore)`` of partition ``pid`` with the labels attached,
    and the partition's split ``{"train", "val", "test"}`` (global ids)."""
    from torch_geometric.distributed import LocalFeatureStore, LocalGraphStore

    root = Path(root)
    if not (root / "META.json").is_file():
        raise FileNotFoundError(f"{root} holds no PyG partition (no META.json)")
    num_parts = json.loads((root / "META.json").read_text())["num_parts"]
    if not 0 <= pid < num_parts or not (root / f"part_{pid}").is_dir():
        raise FileNotFoundError(f"{root} has no part_{pid} (it holds {num_parts} parts)")
    feature = LocalFeatureStore.from_partition(str(root), pid)
    graph = LocalGraphStore.from_partition(str(root), pid)
    feature.labels = torch.load(root / "labels.pt")  # DistNeighborSampler reads labels from here
    split = torch.load(root / f"part_{pid}" / "split.pt")
    return feature, graph, split


def check_stores(feature, graph, data, parts: torch.Tensor, pid: int) -> dict:
    """Check one partition's stores against the graph; returns its counts.

    Raises ``ValueError`` when the stores do not hold exactly the nodes ``parts`` gives ``pid``,
    their feature rows, and every edge into those nodes.
    """
    ids = feature.get_global_id(None)
    owned = _owned(parts, pid)
    if not torch.equal(ids, owned):
        raise ValueError(f"part {pid}: the feature store holds {ids.numel()} nodes, the partition {owned.numel()}")
    x = feature.get_tensor_from_global_id(group_name=None, attr_name="x", index=owned)
    if not torch.equal(x, data.x[owned]):
        raise ValueError(f"part {pid}: feature rows differ from the graph's")
    row, col = graph.get_edge_index(edge_type=None, layout="coo")
    eid = graph.get_edge_id(edge_type=None, layout="coo")
    into = torch.nonzero(parts[data.edge_index[1]] == pid).flatten()
    if not (torch.equal(torch.sort(eid).values, into) and torch.equal(data.edge_index[0, eid], row)
            and torch.equal(data.edge_index[1, eid], col)):
        raise ValueError(f"part {pid}: the graph store does not hold exactly the {into.numel()} edges into its nodes")
    if not torch.equal(graph.node_pb, parts):
        raise ValueError(f"part {pid}: node_map.pt differs from the partition")
    return {"part": pid, "nodes": int(owned.numel()), "edges": int(eid.numel()),
            "features": tuple(x.shape), "train": int(data.train_mask[owned].sum())}


def partition_bytes(root: str | os.PathLike, pid: int) -> int:
    """Bytes of the tensors one worker loads: its ``part_{pid}`` folder plus the shared maps and labels."""
    root = Path(root)
    files = list((root / f"part_{pid}").glob("*.pt")) + [root / n for n in ("node_map.pt", "edge_map.pt", "labels.pt")]
    return sum(f.stat().st_size for f in files)


def topology_bytes(feature, graph) -> int:
    """Bytes of the topology one worker's PyG stores hold: its in-edges (row, col, edge ids) and the
    node and edge maps (the part of every node and every edge), each distinct tensor counted once.

    ``from_partition`` loads the maps into the graph store and again into the feature store, as
    separate tensors: both copies count.
    """
    row, col = graph.get_edge_index(edge_type=None, layout="coo")
    tensors = [row, col, graph.get_edge_id(edge_type=None, layout="coo"), graph.node_pb, graph.edge_pb,
               feature.node_feat_pb, feature.edge_feat_pb]
    seen, total = set(), 0
    for t in tensors:
        if t is None or t.untyped_storage().data_ptr() in seen:
            continue
        seen.add(t.untyped_storage().data_ptr())
        total += t.untyped_storage().nbytes()
    return total


def train_pyg(rank: int, world_size: int, root: str, config, rpc_port: int) -> dict:
    """Mini-batch GraphSAGE on partition ``rank`` of ``root`` with PyG's ``DistNeighborLoader`` and DDP.

    Run inside a joined gloo process group (the launcher's); ``rpc_port`` is the port of PyG's
    RPC rendezvous (one per loader: train, then evaluation at ``rpc_port + 1``). The same
    seeds per step as the chapter's own workflow: ``batch_size // world_size`` per worker and
    ``ceil(train nodes / batch_size)`` steps an epoch on every worker, whatever its share of
    training nodes (DDP needs every worker in every step). Raises :class:`PygUnavailable`
    before any RPC starts when pyg-lib's operators are missing.
    """
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch_geometric.distributed import DistContext, DistNeighborLoader

    from companion.distgnn.comm import CommMeter
    from companion.distgnn.local import peak_rss_mb
    from companion.distgnn.models import SAGE
    from companion.utils import seed_everything

    problems = engine_problems()
    if problems:
        raise PygUnavailable(unavailable_message(problems))
    cpu0 = time.process_time()
    seed_everything(config.seed)
    feature, graph, split = load_stores(root, rank)
    labels = feature.labels
    # each machine holds only its own part_<p>: the global count comes from the group
    n_train_t = torch.tensor([split["train"].numel()], dtype=torch.long)
    dist.all_reduce(n_train_t)
    n_train = int(n_train_t)
    per_worker = max(1, config.batch_size // world_size)
    steps = max(1, math.ceil(n_train / config.batch_size))
    g = torch.Generator().manual_seed(config.seed * 1009 + rank)
    seeds = split["train"][torch.randperm(split["train"].numel(), generator=g)]
    seeds = seeds.repeat(math.ceil(steps * per_worker / seeds.numel()))[:steps * per_worker]
    ctx = DistContext(rank=rank, global_rank=rank, world_size=world_size, global_world_size=world_size,
                      group_name="companion-distgnn-pyg")
    addr = os.environ.get("MASTER_ADDR", "127.0.0.1")
    loader = DistNeighborLoader((feature, graph), num_neighbors=list(config.fanouts), input_nodes=seeds,
                                batch_size=per_worker, shuffle=True, drop_last=True, master_addr=addr,
                                master_port=rpc_port, current_ctx=ctx, num_workers=0, concurrency=1)
    x_dim = int(feature.get_tensor(group_name=None, attr_name="x").shape[1])
    model = SAGE(x_dim, config.hidden, int(labels.max()) + 1, config.num_layers, config.dropout)
    torch.manual_seed(config.seed * 1009 + rank)
    meter = CommMeter(rank, world_size)
    net = DDP(model)
    net.register_comm_hook(None, meter.ddp_hook("grad"))  # gradient bytes, as in our workflow
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    epoch_times, losses, grad_bytes = [], [], []
    for _ in range(config.epochs):
        t0, before = time.perf_counter(), meter.snapshot().get("grad", 0)
        net.train()
        total = 0.0
        for batch in loader:
            out = net(batch.x, batch.edge_index)[:batch.batch_size]
            loss = F.cross_entropy(out, batch.y[:batch.batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach())
        epoch_times.append(time.perf_counter() - t0)
        grad_bytes.append(meter.snapshot().get("grad", 0) - before)
        losses.append(total / steps)
    model.eval()
    counts = []
    for i, name in enumerate(("test", "val")):
        nodes = split[name]
        ev = DistNeighborLoader((feature, graph), num_neighbors=list(config.fanouts), input_nodes=nodes,
                                batch_size=config.eval_batch_size, shuffle=False, master_addr=addr,
                                master_port=rpc_port + 1 + i, current_ctx=ctx, num_workers=0)
        correct = 0
        with torch.no_grad():
            for batch in ev:
                pred = model(batch.x, batch.edge_index)[:batch.batch_size].argmax(1)
                correct += int((pred == batch.y[:batch.batch_size]).sum())
        counts += [float(correct), float(nodes.numel())]
    c = torch.tensor(counts, dtype=torch.float64)
    dist.all_reduce(c)
    return {"rank": rank, "world_size": world_size, "mode": "minibatch", "stale": False,
            "epoch_times": epoch_times, "epoch_bytes": [{"grad": b} for b in grad_bytes], "losses": losses,
            "test_acc": float(c[0] / max(c[1], 1)), "val_acc": float(c[2] / max(c[3], 1)),
            "owned": int(feature.get_global_id(None).numel()), "data_bytes": partition_bytes(root, rank),
            "peak_rss_mb": peak_rss_mb(), "cpu_seconds": time.process_time() - cpu0, "steps_per_epoch": steps}


# --- the CLI's --engine pyg ------------------------------------------------------------------------

def add_engine_arguments(group) -> None:
    """The flags of ``--engine pyg`` (on the CLI's "what to run" group)."""
    group.add_argument("--engine", choices=["ours", "pyg"], default="ours",
                       help="ours (this chapter's code) or pyg: the mini-batch workflow on PyG's distributed "
                            "engine (partition files, LocalGraphStore/LocalFeatureStore, DistNeighborLoader); "
                            "one run, --mode minibatch --partition metis, no cache")
    group.add_argument("--pyg-root", default=None,
                       help="--engine pyg: folder for PyG's partition files, one subfolder per seed (default: a "
                            "temporary folder, removed at the end); under torchrun, the folder to read them from")
    group.add_argument("--pyg-write-only", action="store_true",
                       help="--engine pyg: write and check the partition files in --pyg-root, then stop (copy "
                            "seed<s>/ to every machine before a torchrun across machines)")


def validate_engine_args(parser, args, under_torchrun: bool) -> None:
    """Flag errors of ``--engine`` (exit 2 through ``parser.error``) before any work."""
    if args.engine == "ours":
        if args.pyg_root is not None or args.pyg_write_only:
            parser.error("--pyg-root and --pyg-write-only apply to --engine pyg")
        return
    if args.sweep or args.cache_sweep:
        parser.error("--engine pyg runs one workflow: drop --sweep/--cache-sweep")
    if args.mode != "minibatch" or args.partition != "metis" or args.stale:
        parser.error("--engine pyg runs the mini-batch workflow on METIS partitions: use --mode minibatch "
                     "--partition metis (PyG's loader samples mini-batches; it has no full-graph workflow)")
    ours_only = [flag for flag, on in (("--write-partitions", getattr(args, "write_partitions", None) is not None),
                                       ("--partition-dir", getattr(args, "partition_dir", None) is not None),
                                       ("--backend nccl", getattr(args, "backend", "gloo") == "nccl"))
                 if on]
    if ours_only:
        parser.error(f"{', '.join(ours_only)}: the chapter's own engine only; --engine pyg writes its partitions "
                     "with --pyg-root and runs on gloo")
    if args.workers is not None and (len(args.workers) != 1 or args.workers[0] < 2):
        parser.error(f"--engine pyg: give one worker count >= 2 (PyG's partition format needs 2 parts), "
                     f"got {args.workers}")
    if args.pyg_write_only and args.pyg_root is None:
        parser.error("--pyg-write-only keeps the partition files: give --pyg-root")
    if under_torchrun and (args.pyg_write_only or args.pyg_root is None):
        parser.error("--engine pyg under torchrun reads partition files written before (without torchrun, "
                     "with --pyg-write-only): give --pyg-root and drop --pyg-write-only")


def prepare_partitions(parser, args, root: Path) -> list[dict]:
    """Partition the graph with METIS for every seed (as the chapter's own run does), write each in
    PyG's format under ``root/seed<s>`` and check every partition loads back; returns the checks."""
    from companion.distgnn.__main__ import _load
    from companion.distgnn.launch import check_training_nodes
    from companion.distgnn.partition import metis_partition

    graph = _load(parser, args)
    world, checks = args.workers[0], []
    for seed in args.seeds:
        try:
            parts = metis_partition(graph.edge_index, graph.num_nodes, world, seed=seed,
                                    weights=args.metis_weights)
            check_training_nodes(graph.train_mask, parts, world, f"metis, seed {seed}")
        except ValueError as e:
            parser.error(f"--workers {world}: {e}")
        folder = write_partition(graph, parts, root / f"seed{seed}")
        for p in range(world):
            feature, gstore, _ = load_stores(folder, p)
            checks.append({"seed": seed, **check_stores(feature, gstore, graph, parts, p),
                           "bytes": partition_bytes(folder, p)})
    return checks


def run_engine_cli(parser, args, argv: list[str]) -> dict | None:
    """``--engine pyg``: partition files, their check, then PyG's loader on ``--workers`` local
    processes (or the torchrun ranks). Where PyG's sampler cannot run, exits with status 2 and
    :func:`unavailable_message` after the partition files are written and checked."""
    import tempfile

    from companion.cli import start_run
    from companion.distgnn import __main__ as cli
    from companion.distgnn.launch import free_port, run_function

    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        return _run_torchrun(parser, args, argv)
    world = args.workers[0]
    tmp = None
    if args.pyg_root is None:
        tmp = tempfile.TemporaryDirectory(prefix="pyg_partitions_")
    root = Path(tmp.name if tmp is not None else args.pyg_root).expanduser().resolve()
    try:
        checks = prepare_partitions(parser, args, root)
        print(f"PyG partition files ({world} parts per seed) in {root}, each loaded back into "
              f"LocalGraphStore/LocalFeatureStore and checked:")
        print(f"{'seed':>5s}{'part':>5s}{'nodes':>9s}{'in-edges':>10s}{'train':>7s}{'MB on disk':>12s}")
        for c in checks:
            print(f"{c['seed']:5d}{c['part']:5d}{c['nodes']:9d}{c['edges']:10d}{c['train']:7d}"
                  f"{c['bytes'] / 2**20:12.2f}")
        if args.pyg_write_only:
            return {"rows": [], "path": None, "checks": checks}
        problems = engine_problems()
        if problems:
            kept = "" if tmp is not None else f" (the partition files stay in {root})"
            parser.exit(2, f"{parser.prog}: error: {unavailable_message(problems)}{kept}\n")
        run = start_run(parser, args, module=cli.MODULE, chapter=cli.CHAPTER, argv=argv, one_file=True)
        rows = []
        for seed in args.seeds:
            cfg = cli._config(args, "minibatch", False, 0.0, seed)
            t = time.perf_counter()
            res = run_function(train_pyg, world, (str(root / f"seed{seed}"), cfg, free_port()),
                               threads=args.threads, timeout_s=args.collective_timeout)
            rows.append(_engine_row(args, seed, res, cfg, time.perf_counter() - t))
        command = run.command
    finally:
        if tmp is not None:
            tmp.cleanup()
    return _save(args, run, rows, command)


def _engine_row(args, seed: int, results: list[dict], cfg, wall: float) -> dict:
    from companion.distgnn import __main__ as cli
    from companion.distgnn.launch import load_graph
    from companion.distgnn.partition import metis_partition, partition_quality

    graph = load_graph(cli._spec(args))
    parts = metis_partition(graph.edge_index, graph.num_nodes, len(results), seed=seed, weights=args.metis_weights)
    q = partition_quality(graph.edge_index, parts, len(results))
    row = cli._row("minibatch/metis (PyG DistNeighborLoader)", seed, {"workers": len(results)}, results, q, cfg,
                   "metis", wall)
    row["engine"] = "pyg"
    return row


def _save(args, run, rows: list[dict], command: str) -> dict:
    from companion.distgnn import __main__ as cli
    from companion.results import save_results

    cli._print(rows)
    path = save_results(run.path(cli.results_name("pyg_minibatch", args)), rows, seeds=run.seeds, command=command,
                        metrics=cli.METRICS, timing=cli.TIMING, wall_seconds=run.wall_seconds,
                        experiment="pyg_minibatch", dataset=cli._spec(args),
                        note=cli.NOTE + "; bytes_per_epoch counts the gradient all-reduce only: PyG's RPC "
                             "traffic (remote sampling, feature rows) is not metered",
                        settings={k: v for k, v in vars(args).items() if k not in ("out", "publish")})
    print(f"wrote {path}")
    return {"rows": rows, "path": str(path)}


def _run_torchrun(parser, args, argv: list[str]) -> dict | None:
    """One seed after another on the torchrun ranks: rank r reads ``--pyg-root/seed<s>/part_r``."""
    import shlex

    import torch.distributed as dist

    from companion.cli import device_argv, start_run, strip_output_flags
    from companion.distgnn import __main__ as cli
    from companion.distgnn.launch import init_process_group, leave_process_group

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    root = Path(args.pyg_root).expanduser().resolve()
    for seed in args.seeds:  # every rank checks its own folder before any collective
        meta = root / f"seed{seed}" / "META.json"
        if not meta.is_file() or json.loads(meta.read_text())["num_parts"] != world:
            parser.error(f"--pyg-root {root}: no seed{seed}/ partition of {world} parts here (write it with "
                         f"--engine pyg --pyg-write-only --workers {world} --seeds {seed})")
        if not (root / f"seed{seed}" / f"part_{rank}").is_dir():
            parser.error(f"--pyg-root {root}: rank {rank} has no seed{seed}/part_{rank} on this machine")
    problems = engine_problems()
    if problems:
        parser.exit(2, f"{parser.prog}: error: {unavailable_message(problems)}\n")
    run = start_run(parser, args, module=cli.MODULE, chapter=cli.CHAPTER, argv=argv, one_file=True)
    init_process_group(rank, world, timeout_s=args.collective_timeout)
    ok, rows = False, []
    try:
        rpc_port = int(os.environ.get("MASTER_PORT", "29500")) + 1
        for i, seed in enumerate(args.seeds):
            cfg = cli._config(args, "minibatch", False, 0.0, seed)
            t = time.perf_counter()
            result = train_pyg(rank, world, str(root / f"seed{seed}"), cfg, rpc_port)
            gathered = [None] * world if rank == 0 else None
            dist.gather_object(result, gathered, dst=0)
            if rank == 0:
                rows.append(_engine_row(args, seed, gathered, cfg, time.perf_counter() - t))
        ok = True
    finally:
        leave_process_group(ok)
    if rank != 0:
        return None
    command = shlex.join(["torchrun", "--standalone", "--nproc-per-node", str(world), "-m", cli.MODULE,
                          *device_argv(strip_output_flags(argv), run.device)])
    return _save(args, run, rows, command)
