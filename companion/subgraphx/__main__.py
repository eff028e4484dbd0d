"""CLI: ``python -m companion.subgraphx --dataset ba2motifs --graphs 50``.

Trains the GNN, explains ``--graphs`` test graphs (BA-2Motifs) or test motif nodes (BA-Shapes)
with SubgraphX, PyG's GNNExplainer and PGExplainer and a random connected subgraph at matched
sparsity, prints the summary table and writes every row to
``book/03_subgraphx/results/<dataset>.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from companion import data
from companion.results import save_results
from companion.subgraphx.compare import compare_on_item, make_explainers, summarize, train_pgexplainer
from companion.subgraphx.gnn import (GNNGraphClassifier, GNNNodeClassifier, graph_accuracy, train_graph_classifier,
                                     train_node_classifier)
from companion.utils import progress, repo_path, seed_everything, torch_threads

# DIG's benchmarks/xgraph/config/explainers/subgraphx.yaml, per data set
DIG_CONFIG = {
    "ba2motifs": dict(rollout=20, c_puct=10.0, min_atoms=5, expand_atoms=20, high2low=True, local_radius=4, sample_num=100),
    "ba_shapes": dict(rollout=20, c_puct=10.0, min_atoms=5, expand_atoms=20, high2low=True, local_radius=4, sample_num=100),
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m companion.subgraphx", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=sorted(DIG_CONFIG), default="ba2motifs")
    p.add_argument("--graphs", type=int, default=50, help="graphs (or nodes) to explain")
    p.add_argument("--ks", default="5,6,8,10", help="size limits max_nodes for the fidelity-sparsity curve")
    p.add_argument("--rollout", type=int, default=None, help="MCTS rollouts (default: DIG's config)")
    p.add_argument("--sample-num", type=int, default=None, help="Monte Carlo samples per Shapley value")
    p.add_argument("--num-graphs", type=int, default=1000, help="BA-2Motifs data set size")
    p.add_argument("--epochs", type=int, default=None, help="GNN training epochs")
    p.add_argument("--gnnexplainer-epochs", type=int, default=100)
    p.add_argument("--pg-epochs", type=int, default=30)
    p.add_argument("--pg-train", type=int, default=50, help="training items for PGExplainer")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads for this run")
    p.add_argument("--out", default=None, help="output JSON (default: book/03_subgraphx/results/<dataset>.json)")
    args = p.parse_args(argv)
    if args.graphs < 1:
        p.error(f"--graphs must be >= 1, got {args.graphs}")
    return args


def run(args: argparse.Namespace) -> dict:
    seed_everything(args.seed)
    ks = sorted(int(k) for k in args.ks.split(","))
    cfg = dict(DIG_CONFIG[args.dataset])
    if args.rollout is not None:
        cfg["rollout"] = args.rollout
    if args.sample_num is not None:
        cfg["sample_num"] = args.sample_num
    cfg["seed"] = args.seed
    rows = []
    if args.dataset == "ba2motifs":
        graphs = data.load("ba2motifs", num_graphs=args.num_graphs, seed=args.seed)
        split = int(0.8 * len(graphs))
        train, test = graphs[:split], graphs[split:]
        model = GNNGraphClassifier(graphs[0].num_features, 2)
        train_graph_classifier(model, train, epochs=args.epochs or 80, seed=args.seed)
        model_acc = {"train_acc": graph_accuracy(model, train), "test_acc": graph_accuracy(model, test)}
        explainers = make_explainers(model, "graph", args.gnnexplainer_epochs, args.pg_epochs)
        pg_seconds = train_pgexplainer(explainers[2], model, train[: args.pg_train])
        for i, g in enumerate(progress(test[: args.graphs], desc="explaining graphs")):
            for r in compare_on_item(model, g.x, g.edge_index, motif_mask=g.node_mask, ks=ks, explainers=explainers,
                                     subgraphx_kwargs=cfg, seed=args.seed, item=i):
                rows.append({**r, "label": int(g.y)})
    else:
        g = data.load("ba_shapes", seed=args.seed)
        model = GNNNodeClassifier(g.num_features, 4)
        model_acc = train_node_classifier(model, g, epochs=args.epochs or 300)
        explainers = make_explainers(model, "node", args.gnnexplainer_epochs, args.pg_epochs)
        motif_train = torch.nonzero(g.train_mask & g.node_mask).flatten()
        motif_test = torch.nonzero(g.test_mask & g.node_mask).flatten()
        pg_seconds = train_pgexplainer(explainers[2], model, motif_train[: args.pg_train].tolist(), node_data=g)
        for i, v in enumerate(progress(motif_test[: args.graphs].tolist(), desc="explaining nodes")):
            for r in compare_on_item(model, g.x, g.edge_index, motif_mask=g.node_mask, ks=ks, explainers=explainers,
                                     node_idx=v, subgraphx_kwargs=cfg, seed=args.seed, item=i):
                rows.append({**r, "label": int(g.y[v])})
    summary = [s for k in ks for s in summarize(rows, k)]
    return {"rows": rows, "summary": summary, "model": model_acc, "pg_train_seconds": pg_seconds,
            "subgraphx_config": cfg, "ks": ks}


def main(argv=None) -> Path:
    args = parse_args(argv)
    start = time.perf_counter()
    if args.threads is not None:
        with torch_threads(args.threads):
            out = run(args)
    else:
        out = run(args)
    wall = time.perf_counter() - start
    import pandas as pd

    table = pd.DataFrame(out["summary"])
    cols = ["method", "k", "n", "sparsity", "fid_plus", "fid_minus", "characterization", "prob_fid_plus",
            "prob_fid_minus", "motif_acc", "seconds"]
    print(f"model: {out['model']}; PGExplainer training {out['pg_train_seconds']:.1f} CPU s")
    print(table[cols].round(3).to_string(index=False))
    path = Path(args.out) if args.out else repo_path("book", "03_subgraphx", "results", f"{args.dataset}.json")
    command = "python -m companion.subgraphx " + " ".join(sys.argv[1:] if argv is None else argv)
    save_results(path, out["rows"], seeds=[args.seed], command=command, wall_seconds=wall,
                 summary=out["summary"], model=out["model"], pg_train_seconds=out["pg_train_seconds"],
                 subgraphx_config=out["subgraphx_config"], ks=out["ks"], dataset=args.dataset,
                 gnnexplainer_epochs=args.gnnexplainer_epochs, pg_epochs=args.pg_epochs)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
