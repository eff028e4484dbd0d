"""CLI: ``python -m companion.subgraphx --dataset ba2motifs --graphs 40``.

Per seed: generates the data (BA-2Motifs: 80 % of the graphs train the GNN, 10 % are validation,
10 % test), trains the GNN and passes it through the gate of :mod:`companion.subgraphx.gate`
(per-class accuracy and the oracle's per-class Fidelity on validation items, checked before any
explaining; a failing GNN is retrained with a derived seed, every attempt recorded), tunes GNNExplainer and PGExplainer on validation items by motif
accuracy (``--tune-metric fidelity``: by Fidelity; :mod:`companion.subgraphx.tune`), then explains ``--graphs`` test graphs (classes
alternating; BA-Shapes: test motif nodes) with SubgraphX at DIG's settings, the two tuned
baselines, a random connected subgraph and the ground-truth motif (an oracle), prints the
summary and writes ``<dataset>.json`` into ``./results`` (``--out``; ``--publish`` writes
``book/03_subgraphx/results/``). A seed changes the generated data, the GNN's initialisation and
batch order, the explainers' initialisation and sampling, SubgraphX's Monte Carlo samples, the
random baseline and the tie-breaks. Each finished seed is checkpointed, so a killed run resumes.
On BA-Shapes every method's set holds the explained node (SubgraphX never prunes it, Random and
the oracle grow from it, GNNExplainer and PGExplainer give it and their ``k - 1`` best others).

Seeds can run in separate processes (``--seeds 1 --out r/seed1.json``) and be assembled into one
file by the same command with all seeds and ``--reuse r/seed*.json``: the seeds those files hold
are taken from them (their settings must match this command's), the others are computed, and
the recorded command omits ``--reuse`` (rerunning it computes every seed, with the same rows).

The file's ``rows`` hold one record per seed: per size limit ``k`` (setting ``{"k": k}``) and
method, the means over the explained items (overall, per class ``_y<c>`` and class-balanced
``_bal``); ``{"setting": "model", "method": "GNN"}`` the GNN's accuracies; setting
``"validation"`` the tuned baselines' and random's validation motif accuracy and the chosen
settings; ``{"setting": "gate", "method": "GNN"}`` the accepted GNN's trainings (``attempts``),
training seed and per-class validation accuracy and oracle Fidelity; ``{"setting": "training", "method": "PGExplainer"}`` PGExplainer's training CPU time.
``items`` keeps every (seed, item, method, k) record, ``tuning`` every grid point and ``gate``
every training attempt.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

import torch

from companion import data
from companion.cli import (add_list_argument, add_reuse_argument, chapter_parser, cli_entry, float_in, int_at_least,
                           int_list, read_reused, run_seeds, settings_of, start_run, strip_reuse)
from companion.results import load_results, save_results, summary_table
from companion.subgraphx import gate
from companion.subgraphx.compare import CONTROLS, METHODS, PER_CLASS, compare_on_item, make_explainers, summarize
from companion.subgraphx.gnn import (GNNGraphClassifier, GNNNodeClassifier, graph_accuracy, train_graph_classifier,
                                     train_node_classifier)
from companion.subgraphx.tune import TUNE_METRICS, random_motif_accuracy, tune_gnnexplainer, tune_pgexplainer
from companion.utils import progress, seed_everything

# DIG's benchmarks/xgraph/config/explainers/subgraphx.yaml, per data set
DIG_CONFIG = {
    "ba2motifs": dict(rollout=20, c_puct=10.0, min_atoms=5, expand_atoms=20, high2low=True, local_radius=4, sample_num=100),
    "ba_shapes": dict(rollout=20, c_puct=10.0, min_atoms=5, expand_atoms=20, high2low=True, local_radius=4, sample_num=100),
}
BA2MOTIFS_NODES = 25  # 20 Barabási–Albert nodes + a 5-node motif: the largest size limit k
BA_SHAPES_NODES = 300 + 5 * 80  # load_ba_shapes' defaults
TRAIN_FRACTION, VAL_FRACTION = 0.8, 0.1  # BA-2Motifs split, as in the paper's code (0.8/0.1/0.1)
CLASS_METRICS = {f"{m}_{c}": higher for m, higher in (("fid_plus", True), ("fid_minus", False),
                                                      ("prob_fid_plus", True), ("prob_fid_minus", False),
                                                      ("motif_acc", True))
                 for c in ("bal", "y0", "y1", "y2", "y3")}
METRICS = {"sparsity": None, "fid_plus": True, "fid_minus": False, "characterization": True,
           "prob_fid_plus": True, "prob_fid_minus": False, "motif_acc": True, **CLASS_METRICS,
           "characterization_bal": True, "seconds": False, "items": None, "val_motif_acc": True, "val_fidelity": True,
           "train_acc": True, "test_acc": True, "train_seconds": False, "attempts": None,
           **{f"{m}_y{c}": True for m in ("acc", "oracle_fid") for c in range(4)}}
TIMING = ["seconds", "train_seconds"]
SEED_CHANGES = ("the generated data set (graphs or the BA-Shapes graph and its split), the GNN's initialisation "
                "and batch order, GNNExplainer's and PGExplainer's initialisation and sampling, SubgraphX's "
                "Monte Carlo samples, the random baseline, the oracle's growth and the tie-breaks of top-k; a GNN "
                "that fails the gate is retrained with seed + 1000 x attempt on the same data (file: gate)")


EXAMPLES = [
    "python -m companion.subgraphx --dataset ba2motifs --graphs 40 --val-items 20 --seeds 0 1 2 3 4 --threads 1",
    "python -m companion.subgraphx --dataset ba_shapes --graphs 30 --rollout 10 --sample-num 20 --val-items 10 "
    "--pg-train 20 --seeds 0 1 2 3 4 --threads 1",
]


def build_parser() -> argparse.ArgumentParser:
    p = chapter_parser("python -m companion.subgraphx", __doc__.splitlines()[0], examples=EXAMPLES)
    p.add_argument("--dataset", choices=sorted(DIG_CONFIG), default="ba2motifs",
                   help="ba2motifs (graph classification: a house or a five-cycle motif on a BA graph) or ba_shapes "
                        "(node classification on one BA graph with house motifs)")
    p.add_argument("--graphs", type=int_at_least(1), default=40,
                   help="test graphs (BA-Shapes: test motif nodes) to explain per seed")
    add_list_argument(p, "--ks", int_list(1), default=[5, 6, 8, 10],
                      help="size limits (max nodes of an explanation) of the fidelity-sparsity curve, "
                           "space-separated")
    p.add_argument("--rollout", type=int_at_least(1), default=None,
                   help="MCTS rollouts of SubgraphX (default: DIG's config, 20)")
    p.add_argument("--sample-num", type=int_at_least(1), default=None,
                   help="Monte Carlo samples per Shapley value (default: DIG's config, 100)")
    p.add_argument("--num-graphs", type=int_at_least(10), default=None,
                   help="BA-2Motifs data set size: 80 % train the GNN, 10 % validate, 10 % test "
                        "(default: 1000)")
    p.add_argument("--epochs", type=int_at_least(1), default=None,
                   help="GNN training epochs (default: 80 for BA-2Motifs, 300 for BA-Shapes)")
    p.add_argument("--gnnexplainer-epochs", type=int_at_least(1), default=200,
                   help="optimisation epochs of GNNExplainer per explained item")
    add_list_argument(p, "--pg-epochs", int_list(1), default=[30, 100],
                      help="PGExplainer training lengths in epochs to tune over, space-separated "
                           "(PyG documents 30)")
    p.add_argument("--pg-restarts", type=int_at_least(1), default=2,
                   help="PGExplainer trainings per length, from different initialisations (tuned on validation)")
    p.add_argument("--pg-train", type=int_at_least(1), default=100,
                   help="training graphs (BA-Shapes: motif nodes) PGExplainer trains on")
    p.add_argument("--val-items", type=int_at_least(1), default=40,
                   help="validation graphs (or nodes) on which the baselines are tuned")
    p.add_argument("--tune-metric", choices=sorted(TUNE_METRICS), default="motif",
                   help="what the baselines' grid point is chosen by on the validation items: motif accuracy of "
                        "the top-5 nodes, or their Fidelity (the test's metric; the control for tuning on another "
                        "metric than the one the methods are judged on)")
    p.add_argument("--gate-acc", type=float_in(0.0, 1.0), default=gate.MIN_CLASS_ACC,
                   help="the gate: least accuracy of the GNN on each explained class (validation items)")
    p.add_argument("--gate-fid", type=float_in(-1.0, 1.0), default=gate.MIN_ORACLE_FIDELITY,
                   help="the gate: least mean oracle Fidelity (probability drop when the true motif is removed) "
                        "on each explained class (validation items)")
    p.add_argument("--max-retrains", type=int_at_least(1), default=gate.MAX_ATTEMPTS,
                   help="GNN trainings per seed (derived seeds) before a run that no GNN passes stops")
    p.add_argument("--controls", nargs="+", choices=CONTROLS, default=[],
                   help="opt-in control rows: Greedy grows a connected set node by node, each time adding the node "
                        "whose zero-filling lowers the predicted probability most (the Fidelity's own perturbation, "
                        "without tree search or Shapley values) (default: none)")
    add_reuse_argument(p)
    return p


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Cross-flag checks (parser.error: exit status 2, before any work)."""
    limit = BA2MOTIFS_NODES if args.dataset == "ba2motifs" else BA_SHAPES_NODES
    if max(args.ks) > limit:
        p.error(f"--ks: size limits must be <= {limit} (the nodes of a {args.dataset} graph), got {max(args.ks)}")
    if len(set(args.ks)) != len(args.ks):
        p.error(f"--ks: size limits must be distinct, got {args.ks}")
    if len(set(args.pg_epochs)) != len(args.pg_epochs):
        p.error(f"--pg-epochs: training lengths must be distinct, got {args.pg_epochs}")
    if args.dataset == "ba_shapes" and args.num_graphs is not None:
        p.error("--num-graphs sets the BA-2Motifs data set size; BA-Shapes is one graph (drop it)")
    if args.dataset == "ba2motifs":
        num_graphs = args.num_graphs or 1000
        train, val, test = split_sizes(num_graphs)
        if args.graphs > test:
            p.error(f"--graphs {args.graphs}: only {test} test graphs among --num-graphs {num_graphs} "
                    f"({1 - TRAIN_FRACTION - VAL_FRACTION:.0%} are test graphs)")
        if args.pg_train > train:
            p.error(f"--pg-train {args.pg_train}: only {train} training graphs among --num-graphs {num_graphs}")


def split_sizes(num_graphs: int) -> tuple[int, int, int]:
    """(train, validation, test) sizes of the BA-2Motifs split."""
    train = int(TRAIN_FRACTION * num_graphs)
    val = int(VAL_FRACTION * num_graphs)
    return train, val, num_graphs - train - val


def alternate_classes(graphs: Sequence, labels: Sequence[int]) -> list:
    """``graphs`` reordered so that classes alternate (0, 1, 0, 1, ...) while both last, keeping order within a class."""
    by_class: dict[int, list] = {}
    for g, y in zip(graphs, labels):
        by_class.setdefault(int(y), []).append(g)
    queues = [by_class[c] for c in sorted(by_class)]
    out = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out


def subgraphx_config(args: argparse.Namespace) -> dict:
    """DIG's SubgraphX settings for the data set, with ``--rollout`` and ``--sample-num`` applied."""
    cfg = dict(DIG_CONFIG[args.dataset])
    cfg.update({k: v for k, v in (("rollout", args.rollout), ("sample_num", args.sample_num)) if v is not None})
    return cfg


def _tune(args, model, task_level, pg_train, val, node_data, seed):
    """Tune both baselines on ``val``; (Explainers with the chosen settings, validation rows, grid rows)."""
    gcfg, gtable = tune_gnnexplainer(model, task_level, val, epochs=args.gnnexplainer_epochs, node_data=node_data,
                                     seed=seed, metric=args.tune_metric)
    pcfg, ptable, pg, pg_seconds = tune_pgexplainer(model, task_level, pg_train, val, epochs=args.pg_epochs,
                                                    restarts=args.pg_restarts, node_data=node_data, seed=seed,
                                                    metric=args.tune_metric)
    explainers = make_explainers(model, task_level, gnnexplainer=gcfg, pgexplainer=pcfg)
    explainers.pg = pg  # the trained explainer of the chosen setting
    rand = random_motif_accuracy(model, val, node_data=node_data, seed=seed)
    by = TUNE_METRICS[args.tune_metric]
    # the chosen grid point's validation scores (max returns the first best, as the tuning does);
    # its Fidelity is a summary row only when it is what the choice was made by
    chosen_g, chosen_p = (max(table, key=lambda r: r[by]) for table in (gtable, ptable))
    scores = ("val_motif_acc", "val_fidelity") if args.tune_metric == "fidelity" else ("val_motif_acc",)
    rows = [{"setting": "validation", "method": "GNNExplainer", "seed": seed, **{m: chosen_g[m] for m in scores},
             "config": json.dumps(gcfg, sort_keys=True)},
            {"setting": "validation", "method": "PGExplainer", "seed": seed, **{m: chosen_p[m] for m in scores},
             "config": json.dumps(pcfg, sort_keys=True)},
            {"setting": "validation", "method": "Random", "seed": seed, "val_motif_acc": rand},
            {"setting": "training", "method": "PGExplainer", "seed": seed, "train_seconds": pg_seconds}]
    grid = ([{"seed": seed, "method": "GNNExplainer", **r} for r in gtable]
            + [{"seed": seed, "method": "PGExplainer", **r} for r in ptable])
    return explainers, rows, grid


def _gated(args: argparse.Namespace, seed: int, fit, report) -> tuple[torch.nn.Module, list[dict]]:
    """The first GNN of ``fit(train_seed)`` that passes the gate; (model, attempt records)."""
    def train(ts: int) -> torch.nn.Module:
        seed_everything(ts)  # the GNN's initialisation
        return fit(ts)

    model, attempts = gate.train_gated(train, report, seed, min_acc=args.gate_acc, min_fid=args.gate_fid,
                                       max_attempts=args.max_retrains)
    seed_everything(seed)  # the explainers' masks start from torch's global stream, whatever the attempts
    return model, [{"seed": seed, **a} for a in attempts]


def _gate_row(seed: int, attempts: list[dict]) -> dict:
    last = attempts[-1]
    return {"setting": "gate", "method": "GNN", "seed": seed, "attempts": len(attempts),
            **{k: v for k, v in last.items() if k.startswith(("acc_y", "oracle_fid_y", "train_seed"))}}


def run_seed(args: argparse.Namespace, seed: int) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """One seed: data, gated GNN, tuned baselines, explanations; (per-seed rows, per-item rows, grid
    rows, gate attempts)."""
    ks = sorted(args.ks)
    cfg = subgraphx_config(args)
    items: list[dict] = []
    if args.dataset == "ba2motifs":
        graphs = [g.to(args.device) for g in data.load("ba2motifs", num_graphs=args.num_graphs or 1000, seed=seed)]
        n_train, n_val, _ = split_sizes(len(graphs))
        train, val, test = graphs[:n_train], graphs[n_train:n_train + n_val], graphs[n_train + n_val:]

        def fit(ts):
            m = GNNGraphClassifier(graphs[0].num_features, 2).to(args.device)
            train_graph_classifier(m, train, epochs=args.epochs or 80, seed=ts)
            return m

        # the gate reads every validation graph (the baselines are tuned on the first --val-items)
        model, attempts = _gated(args, seed, fit, lambda m: gate.class_report(m, val, classes=(0, 1), seed=seed))
        model_acc = {"train_acc": graph_accuracy(model, train), "test_acc": graph_accuracy(model, test)}
        explainers, rows, grid = _tune(args, model, "graph", train[: args.pg_train],
                                       alternate_classes(val, [int(g.y) for g in val])[: args.val_items], None, seed)
        explained = alternate_classes(test, [int(g.y) for g in test])[: args.graphs]
        for i, g in enumerate(progress(explained, desc=f"seed {seed}: explaining graphs")):
            items += [{"seed": seed, **r} for r in compare_on_item(
                model, g.x, g.edge_index, motif_mask=g.node_mask, ks=ks, explainers=explainers,
                subgraphx_kwargs={**cfg, "seed": seed}, seed=seed, item=i, label=int(g.y),
                controls=args.controls)]
    else:
        g = data.load("ba_shapes", seed=seed).to(args.device)
        motif_train = torch.nonzero(g.train_mask & g.node_mask).flatten().tolist()
        fitted = {}

        def fit(ts):
            m = GNNNodeClassifier(g.num_features, 4).to(args.device)
            fitted[id(m)] = train_node_classifier(m, g, epochs=args.epochs or 300)
            return m

        # BA-Shapes has no validation split: the gate reads the training-split motif nodes (never
        # explained in the test); the explained classes are the three house roles
        model, attempts = _gated(args, seed, fit, lambda m: gate.class_report(
            m, motif_train, node_data=g, classes=(1, 2, 3), seed=seed))
        model_acc = fitted[id(model)]
        motif_test = torch.nonzero(g.test_mask & g.node_mask).flatten().tolist()
        # validation nodes: training-split motif nodes that PGExplainer does not train on
        pg_nodes, val_nodes = motif_train[: args.pg_train], motif_train[args.pg_train: args.pg_train + args.val_items]
        if not val_nodes:
            val_nodes = motif_train[-args.val_items:]
        explainers, rows, grid = _tune(args, model, "node", pg_nodes, val_nodes, g, seed)
        for i, v in enumerate(progress(motif_test[: args.graphs], desc=f"seed {seed}: explaining nodes")):
            items += [{"seed": seed, **r} for r in compare_on_item(
                model, g.x, g.edge_index, motif_mask=g.node_mask, ks=ks, explainers=explainers, node_idx=v,
                subgraphx_kwargs={**cfg, "seed": seed}, seed=seed, item=i, label=int(g.y[v]),
                controls=args.controls)]
    rows = [{"setting": "model", "method": "GNN", "seed": seed, **model_acc}, _gate_row(seed, attempts), *rows]
    for k in ks:
        for s in summarize(items, k):
            n = s.pop("n")
            rows.append({"setting": {"k": s.pop("k")}, "method": s.pop("method"), "seed": seed, "items": n, **s})
    return rows, items, grid, attempts


def file_settings(args: argparse.Namespace) -> dict:
    """The flags that change a number (what two files must share to be assembled into one), as
    files made before ``--controls`` and ``--tune-metric`` recorded them when those are at their default."""
    settings = settings_of(args)
    if not settings.get("controls"):  # no control rows: the settings of a run from before --controls
        settings.pop("controls", None)
    if settings.get("tune_metric") == "motif":  # the settings of a run from before --tune-metric
        settings.pop("tune_metric")
    return settings


def check_reuse(p: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[dict[int, dict], list[dict]]:
    """The record of each seed that ``--reuse`` files hold (rows, items, tuning, gate), checked
    against this run (flag errors), and where they came from."""
    return read_reused(p, args.reuse, file_settings(args), args.seeds, keys=("rows", "items", "tuning", "gate"))


def main(argv: Sequence[str] | None = None) -> Path:
    p = build_parser()
    args = p.parse_args(argv)
    check_args(p, args)
    reused, sources = check_reuse(p, args)
    argv = strip_reuse(sys.argv[1:] if argv is None else argv)
    run = start_run(p, args, module="companion.subgraphx", chapter="03_subgraphx", argv=argv)
    name = f"{args.dataset}.json"
    checkpoint = run.checkpoint(name)
    for seed, record in sorted(reused.items()):
        if checkpoint.done(seed) is None:
            checkpoint.save(seed, [record])

    def seed_record(seed: int) -> list[dict]:
        seed_rows, seed_items, seed_grid, seed_gate = run_seed(args, seed)
        return [{"rows": seed_rows, "items": seed_items, "tuning": seed_grid, "gate": seed_gate}]

    with run.progress(len(run.seeds)) as display:  # a unit: one seed (every k is scored on the same items)
        records = run_seeds(run.seeds, seed_record, checkpoint=checkpoint, display=display)
    rows = [r for record in records for r in record["rows"]]
    items = [r for record in records for r in record["items"]]
    grid = [r for record in records for r in record["tuning"]]
    attempts = [r for record in records for r in record["gate"]]
    # an assembled file's wall time is its seeds' (in their own processes) plus this run's
    wall = run.wall_seconds + sum(src["wall_seconds"] or 0.0 for src in sources if src["seeds"])
    assembled = {"assembled_from": sources} if sources else {}
    path = save_results(run.path(name), rows, seeds=run.seeds, command=run.command,
                        metrics=METRICS, timing=TIMING, wall_seconds=wall, items=items, tuning=grid,
                        gate=attempts, gate_bounds={"min_class_acc": args.gate_acc,
                                                    "min_oracle_fid": args.gate_fid, "k": gate.GATE_K,
                                                    "max_attempts": args.max_retrains},
                        settings=file_settings(args), **assembled,
                        subgraphx_config=subgraphx_config(args), ks=sorted(args.ks), dataset=args.dataset,
                        methods=[*METHODS, *args.controls], per_class_metrics=list(PER_CLASS), seed_changes=SEED_CHANGES,
                        gnnexplainer_epochs=args.gnnexplainer_epochs, pg_epochs=args.pg_epochs,
                        pg_restarts=args.pg_restarts, pg_train=args.pg_train, val_items=args.val_items)
    checkpoint.finish()
    payload = load_results(path)
    print(summary_table(payload, metrics=["train_acc", "test_acc", "attempts", "val_motif_acc", "train_seconds"])
          .fillna("").to_string())
    print(summary_table(payload, metrics=["sparsity", "prob_fid_plus_bal", "prob_fid_minus_bal", "fid_plus_bal",
                                          "fid_minus_bal", "motif_acc", "seconds"]).to_string())
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    sys.exit(cli_entry(main))
