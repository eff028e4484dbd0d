"""CLI: ``python -m companion.subgraphx --dataset ba2motifs --graphs 50``.

Trains the GNN, explains ``--graphs`` test graphs (BA-2Motifs) or test motif nodes (BA-Shapes)
with SubgraphX, PyG's GNNExplainer and PGExplainer and a random connected subgraph at matched
sparsity, once per seed, prints the summary table and writes ``<dataset>.json`` into
``./results`` (``--out``; ``--publish`` writes ``book/03_subgraphx/results/``).

The file's ``rows`` hold one record per seed: per size limit ``k`` (setting ``{"k": k}``) and
method, the means over the explained items; ``{"setting": "model", "method": "GNN"}`` the GNN's
accuracies; ``{"setting": "training", "method": "PGExplainer"}`` PGExplainer's training CPU time.
``items`` keeps every (seed, item, method, k) record.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import torch

from companion import data
from companion.cli import chapter_parser, int_at_least, int_list, start_run
from companion.results import load_results, save_results, summary_table
from companion.subgraphx.compare import compare_on_item, make_explainers, summarize, train_pgexplainer
from companion.subgraphx.gnn import (GNNGraphClassifier, GNNNodeClassifier, graph_accuracy, train_graph_classifier,
                                     train_node_classifier)
from companion.utils import progress, seed_everything

# DIG's benchmarks/xgraph/config/explainers/subgraphx.yaml, per data set
DIG_CONFIG = {
    "ba2motifs": dict(rollout=20, c_puct=10.0, min_atoms=5, expand_atoms=20, high2low=True, local_radius=4, sample_num=100),
    "ba_shapes": dict(rollout=20, c_puct=10.0, min_atoms=5, expand_atoms=20, high2low=True, local_radius=4, sample_num=100),
}
BA2MOTIFS_NODES = 25  # 20 Barabási–Albert nodes + a 5-node motif: the largest size limit k
BA_SHAPES_NODES = 300 + 5 * 80  # load_ba_shapes' defaults
TRAIN_FRACTION = 0.8  # BA-2Motifs: the first 80% of the graphs train the GNN
METRICS = {"sparsity": None, "fid_plus": True, "fid_minus": False, "characterization": True,
           "prob_fid_plus": True, "prob_fid_minus": False, "motif_acc": True, "seconds": False,
           "items": None, "train_acc": True, "test_acc": True, "train_seconds": False}
TIMING = ["seconds", "train_seconds"]


def build_parser() -> argparse.ArgumentParser:
    p = chapter_parser("python -m companion.subgraphx", __doc__.splitlines()[0])
    p.add_argument("--dataset", choices=sorted(DIG_CONFIG), default="ba2motifs")
    p.add_argument("--graphs", type=int_at_least(1), default=50, help="graphs (or nodes) to explain per seed")
    p.add_argument("--ks", type=int_list(1), default=[5, 6, 8, 10],
                   help="size limits max_nodes for the fidelity-sparsity curve (comma list)")
    p.add_argument("--rollout", type=int_at_least(1), default=None, help="MCTS rollouts (default: DIG's config)")
    p.add_argument("--sample-num", type=int_at_least(1), default=None,
                   help="Monte Carlo samples per Shapley value (default: DIG's config)")
    p.add_argument("--num-graphs", type=int_at_least(5), default=None,
                   help="BA-2Motifs data set size (default 1000; 80%% train the GNN, the rest are explained)")
    p.add_argument("--epochs", type=int_at_least(1), default=None,
                   help="GNN training epochs (default 80 for BA-2Motifs, 300 for BA-Shapes)")
    p.add_argument("--gnnexplainer-epochs", type=int_at_least(1), default=100)
    p.add_argument("--pg-epochs", type=int_at_least(1), default=30)
    p.add_argument("--pg-train", type=int_at_least(1), default=50, help="training items for PGExplainer")
    return p


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Cross-flag checks (parser.error: exit status 2, before any work)."""
    limit = BA2MOTIFS_NODES if args.dataset == "ba2motifs" else BA_SHAPES_NODES
    if max(args.ks) > limit:
        p.error(f"--ks: size limits must be <= {limit} (the nodes of a {args.dataset} graph), got {max(args.ks)}")
    if len(set(args.ks)) != len(args.ks):
        p.error(f"--ks: size limits must be distinct, got {args.ks}")
    if args.dataset == "ba_shapes" and args.num_graphs is not None:
        p.error("--num-graphs sets the BA-2Motifs data set size; BA-Shapes is one graph (drop it)")
    if args.dataset == "ba2motifs":
        num_graphs = args.num_graphs or 1000
        test = num_graphs - int(TRAIN_FRACTION * num_graphs)
        if args.graphs > test:
            p.error(f"--graphs {args.graphs}: only {test} test graphs among --num-graphs {num_graphs} "
                    f"({1 - TRAIN_FRACTION:.0%} are test graphs)")


def subgraphx_config(args: argparse.Namespace) -> dict:
    """DIG's SubgraphX settings for the data set, with ``--rollout`` and ``--sample-num`` applied."""
    cfg = dict(DIG_CONFIG[args.dataset])
    cfg.update({k: v for k, v in (("rollout", args.rollout), ("sample_num", args.sample_num)) if v is not None})
    return cfg


def run_seed(args: argparse.Namespace, seed: int) -> tuple[list[dict], list[dict]]:
    """One seed: train the GNN and PGExplainer, explain the items; (per-seed rows, per-item rows)."""
    seed_everything(seed)  # GNNExplainer's and PGExplainer's masks start from torch's global stream
    ks = sorted(args.ks)
    cfg = subgraphx_config(args)
    items: list[dict] = []
    if args.dataset == "ba2motifs":
        graphs = data.load("ba2motifs", num_graphs=args.num_graphs or 1000, seed=seed)
        split = int(TRAIN_FRACTION * len(graphs))
        train, test = graphs[:split], graphs[split:]
        model = GNNGraphClassifier(graphs[0].num_features, 2)
        train_graph_classifier(model, train, epochs=args.epochs or 80, seed=seed)
        model_acc = {"train_acc": graph_accuracy(model, train), "test_acc": graph_accuracy(model, test)}
        explainers = make_explainers(model, "graph", args.gnnexplainer_epochs, args.pg_epochs)
        pg_seconds = train_pgexplainer(explainers[2], model, train[: args.pg_train])
        for i, g in enumerate(progress(test[: args.graphs], desc=f"seed {seed}: explaining graphs")):
            for r in compare_on_item(model, g.x, g.edge_index, motif_mask=g.node_mask, ks=ks, explainers=explainers,
                                     subgraphx_kwargs={**cfg, "seed": seed}, seed=seed, item=i):
                items.append({"seed": seed, **r, "label": int(g.y)})
    else:
        g = data.load("ba_shapes", seed=seed)
        model = GNNNodeClassifier(g.num_features, 4)
        model_acc = train_node_classifier(model, g, epochs=args.epochs or 300)
        explainers = make_explainers(model, "node", args.gnnexplainer_epochs, args.pg_epochs)
        motif_train = torch.nonzero(g.train_mask & g.node_mask).flatten()
        motif_test = torch.nonzero(g.test_mask & g.node_mask).flatten()
        pg_seconds = train_pgexplainer(explainers[2], model, motif_train[: args.pg_train].tolist(), node_data=g)
        for i, v in enumerate(progress(motif_test[: args.graphs].tolist(), desc=f"seed {seed}: explaining nodes")):
            for r in compare_on_item(model, g.x, g.edge_index, motif_mask=g.node_mask, ks=ks, explainers=explainers,
                                     node_idx=v, subgraphx_kwargs={**cfg, "seed": seed}, seed=seed, item=i):
                items.append({"seed": seed, **r, "label": int(g.y[v])})
    rows = [{"setting": "model", "method": "GNN", "seed": seed, **model_acc},
            {"setting": "training", "method": "PGExplainer", "seed": seed, "train_seconds": pg_seconds}]
    for k in ks:
        for s in summarize(items, k):
            n = s.pop("n")
            rows.append({"setting": {"k": s.pop("k")}, "method": s.pop("method"), "seed": seed, "items": n, **s})
    return rows, items


def main(argv: Sequence[str] | None = None) -> Path:
    p = build_parser()
    args = p.parse_args(argv)
    check_args(p, args)
    run = start_run(p, args, module="companion.subgraphx", chapter="03_subgraphx", argv=argv)
    rows, items = [], []
    for seed in run.seeds:
        seed_rows, seed_items = run_seed(args, seed)
        rows += seed_rows
        items += seed_items
    path = save_results(run.path(f"{args.dataset}.json"), rows, seeds=run.seeds, command=run.command,
                        metrics=METRICS, timing=TIMING, wall_seconds=run.wall_seconds, items=items,
                        subgraphx_config=subgraphx_config(args), ks=sorted(args.ks), dataset=args.dataset,
                        gnnexplainer_epochs=args.gnnexplainer_epochs, pg_epochs=args.pg_epochs)
    payload = load_results(path)
    print(summary_table(payload, metrics=["train_acc", "test_acc", "train_seconds"]).fillna("").to_string())
    print(summary_table(payload, metrics=["sparsity", "fid_plus", "fid_minus", "characterization", "prob_fid_plus",
                                          "prob_fid_minus", "motif_acc", "seconds"]).to_string())
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
