"""SubgraphX beside PyG's GNNExplainer and PGExplainer and a random connected subgraph, at matched sparsity.

For each explained graph (or node), SubgraphX's coalition of at most ``k`` nodes fixes the size;
the other explainers give their top nodes of that size; every set is scored with the same
metrics (:mod:`companion.subgraphx.evaluate`). Rows are plain dicts, one per (item, method, k);
``seconds`` is CPU time per explanation (``time.process_time``: less sensitive to a busy machine
than wall time; PGExplainer's training is reported apart).
"""

from __future__ import annotations

import time
from typing import Sequence

import torch

from companion.subgraphx.evaluate import (label_fidelity, motif_accuracy, node_scores, probability_fidelity,
                                          random_connected_subgraph, top_k_nodes)
from companion.subgraphx.explainer import subgraphx
from companion.utils import progress

METHODS = ("SubgraphX", "GNNExplainer", "PGExplainer", "Random")


def _model_config(task_level: str) -> dict:
    return dict(mode="multiclass_classification", task_level=task_level, return_type="raw")


def make_explainers(model: torch.nn.Module, task_level: str, gnnexplainer_epochs: int = 100,
                    pg_epochs: int = 30):
    """PyG ``Explainer`` objects: the metric one (model type, node mask), GNNExplainer, PGExplainer."""
    from torch_geometric.explain import Explainer, GNNExplainer, PGExplainer

    cfg = _model_config(task_level)
    metric = Explainer(model, algorithm=GNNExplainer(epochs=1), explanation_type="model",
                       node_mask_type="object", model_config=cfg)
    gnnexp = Explainer(model, algorithm=GNNExplainer(epochs=gnnexplainer_epochs), explanation_type="model",
                       node_mask_type="object", edge_mask_type="object", model_config=cfg)
    pgexp = Explainer(model, algorithm=PGExplainer(epochs=pg_epochs, lr=0.003), explanation_type="phenomenon",
                      edge_mask_type="object", model_config=cfg)
    return metric, gnnexp, pgexp


def train_pgexplainer(pgexp, model, items: Sequence, node_data=None) -> float:
    """Train PGExplainer (for its configured epochs) on ``items`` (graphs, or node ids of ``node_data``).

    Returns the CPU seconds spent (``time.process_time``). The targets are the model's own predictions.
    """
    if len(items) == 0:
        raise ValueError("PGExplainer needs at least one training item")
    start = time.process_time()
    for epoch in progress(range(pgexp.algorithm.epochs), desc="PGExplainer training"):
        for it in items:
            if node_data is None:
                target = model(it.x, it.edge_index).argmax(-1)
                pgexp.algorithm.train(epoch, model, it.x, it.edge_index, target=target)
            else:
                target = model(node_data.x, node_data.edge_index).argmax(-1)
                pgexp.algorithm.train(epoch, model, node_data.x, node_data.edge_index, target=target, index=int(it))
    return time.process_time() - start


def compare_on_item(model, x, edge_index, *, motif_mask, ks: Sequence[int], explainers, node_idx: int | None = None,
                    subgraphx_kwargs: dict | None = None, seed: int = 0, item: int = 0) -> list[dict]:
    """All four explainers on one graph (``node_idx=None``) or one node; one row per method and ``k``."""
    metric, gnnexp, pgexp = explainers
    ks = sorted(ks)
    rows: list[dict] = []
    n = x.shape[0]
    with torch.no_grad():
        out = model(x, edge_index)
    pred = int((out[node_idx] if node_idx is not None else out.view(-1, out.shape[-1])[0]).argmax())
    sx = subgraphx(model, x, edge_index, node_idx=node_idx, max_nodes=max(ks), **(subgraphx_kwargs or {}))
    candidates = sx.subset  # the searched graph (the computation graph for a node)
    index = None if node_idx is None else node_idx
    start = time.process_time()
    ge = gnnexp(x, edge_index, index=index)
    t_gnn = time.process_time() - start
    start = time.process_time()
    target = out.argmax(-1).view(-1)
    pe = pgexp(x, edge_index, target=target, index=index)
    t_pg = time.process_time() - start
    scores = {"GNNExplainer": node_scores(ge.get("node_mask"), ge.get("edge_mask"), edge_index, n),
              "PGExplainer": node_scores(None, pe.get("edge_mask"), edge_index, n)}
    seconds = {"SubgraphX": sx.cpu_seconds, "GNNExplainer": t_gnn, "PGExplainer": t_pg, "Random": 0.0}
    gen = torch.Generator().manual_seed(seed * 100_003 + item)
    for k in ks:
        sx_nodes = sx.coalition_at(k)
        size = len(sx_nodes)
        sets = {"SubgraphX": sx_nodes}
        for name, s in scores.items():
            sets[name] = top_k_nodes(s, size, candidates)
        sets["Random"] = random_connected_subgraph(edge_index, n, size, gen, start=node_idx,
                                                   candidates=candidates.tolist())
        for name in METHODS:
            nodes = sets[name]
            fp, fm = label_fidelity(metric, x, edge_index, nodes, index)
            pfp, pfm = probability_fidelity(model, x, edge_index, nodes, pred, node_idx)
            rows.append({"item": item, "node_idx": node_idx, "method": name, "k": k, "size": len(nodes),
                         "sparsity": 1.0 - len(nodes) / candidates.numel(), "fid_plus": fp, "fid_minus": fm,
                         "prob_fid_plus": pfp, "prob_fid_minus": pfm,
                         "motif_acc": motif_accuracy(nodes, motif_mask), "seconds": seconds[name],
                         "predicted": pred, "nodes": nodes})
    return rows


def summarize(rows: Sequence[dict], k: int) -> list[dict]:
    """Per-method means at size limit ``k``, with PyG's ``characterization_score`` of the mean fid+/fid-."""
    from torch_geometric.explain.metric import characterization_score

    out = []
    for name in METHODS:
        sel = [r for r in rows if r["method"] == name and r["k"] == k]
        if not sel:
            continue
        mean = {key: sum(r[key] for r in sel) / len(sel)
                for key in ("sparsity", "fid_plus", "fid_minus", "prob_fid_plus", "prob_fid_minus", "motif_acc", "seconds")}
        char = characterization_score(torch.tensor(mean["fid_plus"]), torch.tensor(mean["fid_minus"]))
        out.append({"method": name, "k": k, "n": len(sel), **mean, "characterization": float(char)})
    return out
