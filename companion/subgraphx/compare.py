"""SubgraphX beside PyG's GNNExplainer and PGExplainer, a random connected subgraph and the
ground-truth motif, at matched sparsity.

For each explained graph (or node), SubgraphX's coalition of at most ``k`` nodes fixes the size;
the other explainers give their top nodes of that size; every set is scored with the same
metrics (:mod:`companion.subgraphx.evaluate`). Rows are plain dicts, one per (item, method, k);
``seconds`` is CPU time per explanation (``time.process_time``: less sensitive to a busy machine
than wall time; PGExplainer's training is reported apart). :func:`summarize` averages them per
method, overall and per class (see its docstring for why the per-class view matters).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import torch

from companion.subgraphx.evaluate import (SCORE_RULES, greedy_occlusion, label_fidelity, motif_accuracy, motif_oracle,
                                          node_scores, probability_fidelity, random_connected_subgraph, top_k_nodes)
from companion.subgraphx.explainer import subgraphx
from companion.utils import progress

METHODS = ("SubgraphX", "GNNExplainer", "PGExplainer", "Random", "Oracle")
# opt-in rows (``compare_on_item(controls=...)``, the CLI's --controls): Greedy grows a connected set
# by the metric's own zero-fill perturbation without MCTS or Shapley values (evaluate.greedy_occlusion)
CONTROLS = ("Greedy",)
EXPLAINERS = ("SubgraphX", "GNNExplainer", "PGExplainer")  # the oracle and random are references
PER_ITEM = ("sparsity", "fid_plus", "fid_minus", "prob_fid_plus", "prob_fid_minus", "motif_acc")
PER_CLASS = ("fid_plus", "fid_minus", "prob_fid_plus", "prob_fid_minus", "motif_acc")
# PyG's documented graph-level settings (torch_geometric.explain docs and examples): GNNExplainer
# 200 epochs, lr 0.01, node feature mask "attributes" + edge mask "object", its default size
# (0.005) and entropy (1.0) coefficients of the edge mask; PGExplainer 30 epochs, lr 0.003, edge
# mask, its default coefficients. ``score`` turns the masks into node scores.
GNNEXPLAINER_DEFAULT = dict(epochs=200, lr=0.01, node_mask_type="attributes", edge_size=0.005, edge_ent=1.0,
                            score="edge_sum")
PGEXPLAINER_DEFAULT = dict(epochs=30, lr=0.003, edge_size=0.05, edge_ent=1.0, score="edge_sum")
# PyG's PGExplainer defaults; its ``coeffs`` dict is a class attribute that ``__init__`` updates in
# place, so every instance here gets its own copy built from these values
PG_COEFFS = {"edge_size": 0.05, "edge_ent": 1.0, "temp": [5.0, 2.0], "bias": 0.01}


def _model_config(task_level: str) -> dict:
    return dict(mode="multiclass_classification", task_level=task_level, return_type="raw")


def _check_score(score: str) -> str:
    if score not in SCORE_RULES:
        raise ValueError(f"score must be one of {SCORE_RULES}, got {score!r}")
    return score


def make_gnnexplainer(model, task_level: str, epochs: int = 200, lr: float = 0.01,
                      node_mask_type: str | None = "attributes", edge_size: float = 0.005, edge_ent: float = 1.0,
                      **_ignored):
    """PyG ``Explainer`` running GNNExplainer with an edge mask (and a node mask unless ``None``).

    ``edge_size`` and ``edge_ent`` weigh the edge mask's size (sum) and entropy penalties in its
    loss (PyG's ``coeffs``; the node-feature coefficients stay at PyG's defaults).
    """
    from torch_geometric.explain import Explainer, GNNExplainer

    if node_mask_type not in ("attributes", "object", None):
        raise ValueError(f"node_mask_type must be 'attributes', 'object' or None, got {node_mask_type!r}")
    if edge_size < 0 or edge_ent < 0:
        raise ValueError(f"edge_size and edge_ent must be >= 0, got {edge_size} and {edge_ent}")
    algorithm = GNNExplainer(epochs=epochs, lr=lr, edge_size=edge_size, edge_ent=edge_ent)  # per-instance coeffs
    return Explainer(model, algorithm=algorithm, explanation_type="model",
                     node_mask_type=node_mask_type, edge_mask_type="object", model_config=_model_config(task_level))


def make_pgexplainer(model, task_level: str, epochs: int = 30, lr: float = 0.003, edge_size: float = 0.05,
                     edge_ent: float = 1.0, **_ignored):  # ignores "score" and "restart"
    """PyG ``Explainer`` running PGExplainer (phenomenon: the model's predicted class) with an edge mask."""
    from torch_geometric.explain import Explainer, PGExplainer

    algorithm = PGExplainer(epochs=epochs, lr=lr).to(next(model.parameters()).device)  # its MLP beside the GNN
    algorithm.coeffs = {**PG_COEFFS, "edge_size": edge_size, "edge_ent": edge_ent}  # per instance
    return Explainer(model, algorithm=algorithm, explanation_type="phenomenon", edge_mask_type="object",
                     model_config=_model_config(task_level))


@dataclass
class Explainers:
    """The explainers of one comparison and the rule that turns each one's masks into node scores."""

    metric: object  # PyG Explainer used only by PyG's fidelity metric (model type, node mask)
    gnn: object
    pg: object
    gnn_score: str = "edge_sum"
    pg_score: str = "edge_sum"
    gnn_config: dict = field(default_factory=dict)
    pg_config: dict = field(default_factory=dict)


def make_explainers(model: torch.nn.Module, task_level: str, gnnexplainer: dict | None = None,
                    pgexplainer: dict | None = None) -> Explainers:
    """The metric explainer, GNNExplainer and (untrained) PGExplainer with the given settings.

    ``gnnexplainer``/``pgexplainer`` update :data:`GNNEXPLAINER_DEFAULT`/:data:`PGEXPLAINER_DEFAULT`
    (keys: the ``make_*`` arguments and ``score``, one of ``"node"``, ``"edge_sum"``, ``"edge_max"``).
    """
    from torch_geometric.explain import Explainer, GNNExplainer

    gcfg = {**GNNEXPLAINER_DEFAULT, **(gnnexplainer or {})}
    pcfg = {**PGEXPLAINER_DEFAULT, **(pgexplainer or {})}
    metric = Explainer(model, algorithm=GNNExplainer(epochs=1), explanation_type="model",
                       node_mask_type="object", model_config=_model_config(task_level))
    return Explainers(metric, make_gnnexplainer(model, task_level, **gcfg), make_pgexplainer(model, task_level, **pcfg),
                      _check_score(gcfg["score"]), _check_score(pcfg["score"]), gcfg, pcfg)


def clear_explain_state(model: torch.nn.Module) -> None:
    """Undo what a GNNExplainer run leaves on the model's message-passing layers.

    PyG's GNNExplainer stores its edge mask as a ``Parameter`` named ``_edge_mask`` on every
    ``MessagePassing`` layer; ``clear_masks`` then sets it to ``None`` but leaves the name
    registered as a parameter, and a later ``set_masks`` wraps any mask in a *new* ``Parameter``
    to be allowed to assign it. For PGExplainer that new leaf cuts the gradient from the
    prediction loss to its mask network, which then learns from the size and entropy terms only
    (measured here: validation motif accuracy 0.19 instead of 0.91 on one seed). Removing the
    registration restores the normal path.
    """
    from torch_geometric.nn.conv import MessagePassing

    for module in model.modules():
        if isinstance(module, MessagePassing) and "_edge_mask" in module._parameters:
            del module._parameters["_edge_mask"]
            module._edge_mask = None


def train_pgexplainer(pgexp, model, items: Sequence, node_data=None, desc: str = "PGExplainer training") -> float:
    """Train PGExplainer (for its configured epochs) on ``items`` (graphs, or node ids of ``node_data``).

    Returns the CPU seconds spent (``time.process_time``). The targets are the model's own
    predictions. Clears a previous GNNExplainer's state first (:func:`clear_explain_state`).
    """
    if len(items) == 0:
        raise ValueError("PGExplainer needs at least one training item")
    clear_explain_state(model)
    start = time.process_time()
    if node_data is not None:
        with torch.no_grad():
            node_target = model(node_data.x, node_data.edge_index).argmax(-1)
    else:
        with torch.no_grad():
            targets = [model(it.x, it.edge_index).argmax(-1) for it in items]
    for epoch in progress(range(pgexp.algorithm.epochs), desc=desc):
        for i, it in enumerate(items):
            if node_data is None:
                pgexp.algorithm.train(epoch, model, it.x, it.edge_index, target=targets[i])
            else:
                pgexp.algorithm.train(epoch, model, node_data.x, node_data.edge_index, target=node_target,
                                      index=int(it))
    return time.process_time() - start


def explainer_scores(explainers: Explainers, model, x, edge_index, node_idx: int | None = None,
                     which: Sequence[str] = ("GNNExplainer", "PGExplainer")) -> tuple[dict, dict]:
    """Node scores ``(N,)`` of GNNExplainer and PGExplainer for one item, and their CPU seconds."""
    n = x.shape[0]
    scores, seconds = {}, {}
    if "GNNExplainer" in which:
        start = time.process_time()
        ge = explainers.gnn(x, edge_index, index=node_idx)
        seconds["GNNExplainer"] = time.process_time() - start
        scores["GNNExplainer"] = node_scores(ge.get("node_mask"), ge.get("edge_mask"), edge_index, n,
                                             explainers.gnn_score)
    if "PGExplainer" in which:
        clear_explain_state(model)  # after GNNExplainer (see there)
        with torch.no_grad():
            target = model(x, edge_index).argmax(-1).view(-1)
        start = time.process_time()
        pe = explainers.pg(x, edge_index, target=target, index=node_idx)
        seconds["PGExplainer"] = time.process_time() - start
        scores["PGExplainer"] = node_scores(None, pe.get("edge_mask"), edge_index, n, explainers.pg_score)
    return scores, seconds


def compare_on_item(model, x, edge_index, *, motif_mask, ks: Sequence[int], explainers: Explainers,
                    node_idx: int | None = None, subgraphx_kwargs: dict | None = None, seed: int = 0,
                    item: int = 0, label: int | None = None, controls: Sequence[str] = ()) -> list[dict]:
    """All methods on one graph (``node_idx=None``) or one node; one row per method and ``k``.

    ``label`` (the item's true class) is copied into the rows for the per-class summary.
    ``controls`` adds the opt-in methods of :data:`CONTROLS` (their own generator, so the sets of
    the other methods are the same with or without them).
    """
    unknown = [c for c in controls if c not in CONTROLS]
    if unknown:
        raise ValueError(f"controls must be among {CONTROLS}, got {unknown}")
    ks = sorted(ks)
    rows: list[dict] = []
    n = x.shape[0]
    with torch.no_grad():
        out = model(x, edge_index)
    pred = int((out[node_idx] if node_idx is not None else out.view(-1, out.shape[-1])[0]).argmax())
    sx = subgraphx(model, x, edge_index, node_idx=node_idx, max_nodes=max(ks), **(subgraphx_kwargs or {}))
    candidates = sx.subset  # the searched graph (the computation graph for a node)
    scores, seconds = explainer_scores(explainers, model, x, edge_index, node_idx)
    seconds.update({"SubgraphX": sx.cpu_seconds, "Random": 0.0, "Oracle": 0.0})
    greedy: list[int] = []
    if "Greedy" in controls:
        start = time.process_time()
        largest = max(len(sx.coalition_at(k)) for k in ks)
        greedy = greedy_occlusion(model, x, edge_index, largest, pred,
                                  torch.Generator().manual_seed(seed * 100_003 + item + 7), node_idx,
                                  candidates.tolist())
        seconds["Greedy"] = time.process_time() - start
    gen = torch.Generator().manual_seed(seed * 100_003 + item)
    for k in ks:
        sx_nodes = sx.coalition_at(k)
        size = len(sx_nodes)
        sets = {"SubgraphX": sx_nodes}
        for name, s in scores.items():
            # a node task: the explained node and its k - 1 best others, as SubgraphX's set holds it
            sets[name] = top_k_nodes(s, size, candidates, generator=gen, include=node_idx)
        sets["Random"] = random_connected_subgraph(edge_index, n, size, gen, start=node_idx,
                                                   candidates=candidates.tolist())
        sets["Oracle"] = motif_oracle(motif_mask, edge_index, size, gen, start=node_idx,
                                      candidates=candidates.tolist())
        if greedy:
            sets["Greedy"] = sorted(greedy[:size])
        for name in (*METHODS, *controls):
            nodes = sets[name]
            fp, fm = label_fidelity(explainers.metric, x, edge_index, nodes, node_idx)
            pfp, pfm = probability_fidelity(model, x, edge_index, nodes, pred, node_idx)
            rows.append({"item": item, "node_idx": node_idx, "label": label, "method": name, "k": k,
                         "size": len(nodes), "sparsity": 1.0 - len(nodes) / candidates.numel(),
                         "fid_plus": fp, "fid_minus": fm, "prob_fid_plus": pfp, "prob_fid_minus": pfm,
                         "motif_acc": motif_accuracy(nodes, motif_mask), "seconds": seconds[name],
                         "predicted": pred, "nodes": nodes,
                         "holds_node": None if node_idx is None else node_idx in nodes})
    return rows


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def summarize(rows: Sequence[dict], k: int) -> list[dict]:
    """Per-method means at size limit ``k``: overall, per class and class-balanced.

    Besides the mean over items of each metric, rows that carry a ``label`` give ``<metric>_y<c>``
    (the mean over items of class ``c``) and ``<metric>_bal`` (the mean of the class means). The
    class view matters on BA-2Motifs: a binary GNN may learn "house or not", and then no removal
    of nodes from a five-cycle graph can change its prediction; the overall mean then only
    reflects the share of house graphs. ``characterization`` is PyG's ``characterization_score``
    of the mean fid+/fid-, ``characterization_bal`` that of the class-balanced ones.
    """
    from torch_geometric.explain.metric import characterization_score

    def char(fp, fm):
        return float(characterization_score(torch.tensor(fp), torch.tensor(fm)))

    out = []
    present = {r["method"] for r in rows}
    for name in (*METHODS, *(c for c in CONTROLS if c in present)):
        sel = [r for r in rows if r["method"] == name and r["k"] == k]
        if not sel:
            continue
        mean = {key: _mean(r[key] for r in sel) for key in (*PER_ITEM, "seconds")}
        row = {"method": name, "k": k, "n": len(sel), **mean,
               "characterization": char(mean["fid_plus"], mean["fid_minus"])}
        labels = sorted({r["label"] for r in sel if r.get("label") is not None})
        if labels:
            for key in PER_CLASS:
                per = {c: _mean(r[key] for r in sel if r.get("label") == c) for c in labels}
                row.update({f"{key}_y{c}": v for c, v in per.items()})
                row[f"{key}_bal"] = _mean(per.values())
            row["characterization_bal"] = char(row["fid_plus_bal"], row["fid_minus_bal"])
        out.append(row)
    return out
