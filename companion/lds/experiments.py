"""The chapter's two experiments, shared by the CLI and the notebook.

- :func:`run_no_graph`: Table 1 of the paper on Wine, Breast Cancer and Digits (no graph given):
  the majority class, LogReg, MLP, kNN-GCN (k tuned on validation), kNN-LDS and LDS, one row per
  method, plus the two controls below.
- :func:`run_incomplete_graph`: the incomplete-graph experiment (paper Fig. 2 / Table 2): a share
  of the edges is deleted, a GCN is trained on what is left, and LDS starts from it.

Each LDS row has two controls beside it. "graph frozen": LDS with outer learning rate 0, the
same restarts, inner schedule, early-stopping selection and expected prediction on the graph it
starts from, so LDS minus it is what learning the graph adds. "LDS recipe": the GCN on the same
fixed graph with LDS's restarts and early-stopping selection over a learning-rate grid, so the
single-run GCN's gap is not credited to the method.

Both return per-seed rows (the schema of :mod:`companion.results`). Every method of every seed
starts from freshly seeded generators (:func:`companion.utils.seed_everything`): dropout draws
from torch's global generator, so without this a method's result would depend on which methods
ran before it in the same process.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import torch

from companion import data
from companion.cli import RunProgress, run_seeds
from companion.results import SeedCheckpoint
from companion.utils import seed_everything
from companion.lds.baselines import gcn_with_restarts, knn_gcn, logistic_regression, mlp, train_gcn
from companion.lds.bilevel import LDSConfig, train_lds
from companion.lds.graph import drop_edges, graph_statistics, init_edge_probabilities
from companion.lds.knn import knn_graph
from companion.lds.splits import UCI_SIZES, divide_validation, uci_split

NO_GRAPH_DATASETS = tuple(UCI_SIZES)
GRAPH_DATASETS = ("karate", "sbm_features", "planetoid")
METHODS = ("Majority", "LogReg", "MLP", "kNN-GCN", "kNN-GCN, LDS recipe", "kNN-LDS, graph frozen", "kNN-LDS",
           "LDS, graph frozen", "LDS")
GRAPH_METHODS = ("Majority", "GCN", "GCN, LDS recipe", "LDS, graph frozen", "LDS")
# the two controls of every LDS row: "graph frozen" is LDS with outer learning rate 0 (the same
# restarts, inner schedule, selection and expected prediction, on the graph it starts from);
# "LDS recipe" is the GCN with LDS's restarts and selection over a learning-rate grid
RECIPE_LRS = (0.01, 0.02)  # the GCN's own rate and LDS's inner rate
# what the graph rows also record (graph_statistics, plus LDS's best outer iteration)
GRAPH_METRICS = ("nonzero_share", "expected_edges", "intra_class_mass", "chance_intra", "best_iteration")


def load_features(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Features and labels of a no-graph dataset: wine and cancer standardised (as ``scale=True`` in
    the official code), digits in [0, 1] (the official code uses the raw 0..16 values)."""
    if name not in NO_GRAPH_DATASETS:
        raise ValueError(f"dataset must be one of {NO_GRAPH_DATASETS}, got {name!r}")
    d = data.load(name)
    return d["x"], d["y"]


def run_no_graph(
    dataset: str,
    seeds: list[int],
    config: LDSConfig | None = None,
    ks: tuple[int, ...] = (5, 10, 15, 20),
    lds_k: int = 10,
    epochs: int = 200,
    log: Callable[[str], None] | None = None,
    checkpoint: SeedCheckpoint | None = None,
    display: RunProgress | None = None,
    device: torch.device | str = "cpu",
) -> list[dict]:
    """Every method of the table on ``dataset`` for each seed (the seed fixes the split and the inits),
    the networks and graphs on ``device`` (splits and random draws on the CPU).

    kNN-LDS starts from the cosine ``lds_k``-NN graph (the official default k = 10); LDS starts
    from the empty graph with ``p_init = 0`` (the official ``est_p_edge``: the UCI loader gives
    no graph). The controls: each LDS variant once more with its graph frozen, and the GCN on
    kNN-LDS's starting graph with LDS's restarts (:func:`gcn_with_restarts`). Returns one row per
    (seed, method of :data:`METHODS`): ``setting`` ``{"dataset": ...}``, ``method``, ``seed``,
    ``test_acc``, and the chosen ``k`` (kNN-GCN; ``lr`` too for the recipe row) or
    ``best_iteration`` (the LDS rows);
    the graph methods add :func:`graph_statistics` of their graph (LDS: the best iteration's
    :math:`\theta`). A ``checkpoint`` keeps each finished seed and skips it on a rerun; a ``display`` (a CLI's
    :class:`companion.cli.RunProgress`) counts the finished units.
    """
    config = config or LDSConfig()
    frozen = replace(config, outer_lr=0.0)
    x, y = _on(load_features(dataset), device)
    setting = {"dataset": dataset}

    def seed_rows(seed: int) -> list[dict]:
        split = _on(uci_split(y.cpu(), *UCI_SIZES[dataset], seed=seed), device)
        out: dict[str, dict] = {"Majority": {"test_acc": majority(y, split)}}
        seed_everything(seed)
        out["LogReg"] = {"test_acc": logistic_regression(x, y, split)["test_acc"]}
        seed_everything(seed)
        out["MLP"] = {"test_acc": mlp(x, y, split, seed=seed, epochs=epochs)["test_acc"]}
        seed_everything(seed)
        knn = knn_gcn(x, y, split, ks=ks, seed=seed, epochs=epochs)
        out["kNN-GCN"] = {"test_acc": knn["test_acc"], "k": knn["k"],
                          **graph_statistics(knn_graph(x, knn["k"]).to(device), y)}
        a_lds = knn_graph(x, lds_k).to(device)
        seed_everything(seed)
        rec = gcn_with_restarts(x, y, a_lds, split, restarts=config.max_outer_iterations, lrs=RECIPE_LRS,
                                seed=seed, epochs=epochs)
        out["kNN-GCN, LDS recipe"] = {"test_acc": rec["test_acc"], "k": lds_k, "lr": rec["lr"],
                                      **graph_statistics(a_lds, y)}
        starts = {"kNN-LDS": init_edge_probabilities(len(y), a_lds), "LDS": init_edge_probabilities(len(y))}
        for name, theta0 in starts.items():
            for method, cfg in ((f"{name}, graph frozen", frozen), (name, config)):
                seed_everything(seed)
                res = train_lds(x, y, theta0, split, cfg, seed=seed, desc=f"{method} {dataset} seed {seed}")
                out[method] = {"test_acc": res.test_accuracy, "best_iteration": res.best_iteration,
                               **graph_statistics(res.theta, y)}
        if log:
            log(f"{dataset} seed {seed}: " + ", ".join(f"{m} {out[m]['test_acc']:.3f}" for m in METHODS))
        return [{"setting": setting, "method": m, "seed": seed, **out[m]} for m in METHODS]

    return run_seeds(seeds, seed_rows, checkpoint=checkpoint, display=display, label=f"{dataset} seed {{}}".format)


def _on(tensors, device: torch.device | str):
    """A tuple or dict of tensors, each moved to ``device`` (the same tensors on the CPU)."""
    if isinstance(tensors, dict):
        return {k: v.to(device) if isinstance(v, torch.Tensor) else _on(v, device) for k, v in tensors.items()}
    return tuple(t.to(device) for t in tensors)


def majority(y: torch.Tensor, split: dict[str, torch.Tensor]) -> float:
    """Test accuracy of predicting the most frequent training label (the trivial baseline)."""
    top = torch.bincount(y[split["train"]]).argmax()
    return (y[split["test"]] == top).float().mean().item()


def _row_normalize(x: torch.Tensor) -> torch.Tensor:
    return x / x.sum(1, keepdim=True).clamp_min(1e-12)


def load_graph_dataset(name: str, seed: int, sbm_nodes: int = 2708, root: str | None = None) -> dict:
    """Features, labels, dense adjacency and a train/val/es/test split for the incomplete-graph experiment.

    ``karate``: identity features, 2 labelled members per club, 6 validation, 6 early-stopping,
    the other 18 are test (stratified, seeded). ``sbm_features``: ``sbm_nodes`` nodes (graph fixed by
    seed 0, like a dataset), Planetoid-style split with the validation nodes divided in two halves
    at random per seed (``divide_mask(0.5)``), row-normalised features. ``planetoid``: PyG's
    Planetoid Cora from ``root`` (a local folder), the same treatment.
    """
    if name == "karate":
        g = data.load("karate")
        split = uci_split(g.y, 4, 6, 6, seed=seed)
        x = g.x
    elif name in ("sbm_features", "planetoid"):
        if name == "sbm_features":
            n = int(sbm_nodes)
            g = data.load("sbm_features", num_nodes=n, num_val=max(20, n // 6), num_test=max(20, n // 3), seed=0)
        else:
            g = data.load("planetoid", dataset="Cora", root=root)
        idx = lambda m: m.nonzero().view(-1)  # noqa: E731
        val, es = divide_validation(idx(g.val_mask), seed=seed)
        split = {"train": idx(g.train_mask), "val": val, "es": es, "test": idx(g.test_mask)}
        x = _row_normalize(g.x.float())
    else:
        raise ValueError(f"dataset must be one of {GRAPH_DATASETS}, got {name!r}")
    n = g.num_nodes
    a = torch.zeros(n, n)
    a[g.edge_index[0], g.edge_index[1]] = 1.0
    a = torch.maximum(a, a.t()).fill_diagonal_(0.0)
    return {"x": x, "y": g.y, "adjacency": a, "split": split}


def run_incomplete_graph(
    dataset: str,
    seeds: list[int],
    fractions: tuple[float, ...] = (0.25, 0.5, 0.75),
    config: LDSConfig | None = None,
    epochs: int = 200,
    sbm_nodes: int = 2708,
    root: str | None = None,
    log: Callable[[str], None] | None = None,
    checkpoint: SeedCheckpoint | None = None,
    display: RunProgress | None = None,
    device: torch.device | str = "cpu",
) -> list[dict]:
    """GCN on the graph with a ``fraction`` of edges deleted vs LDS started from that graph, on ``device``.

    One row per (seed, fraction, method of :data:`GRAPH_METHODS`, the controls included):
    ``setting`` ``{"dataset", "missing"}``, ``method``, ``seed``, ``test_acc``, ``edges_left`` and
    :func:`graph_statistics` of the graph each method ends with (the GCNs: the incomplete graph;
    LDS: the best iteration's :math:`\theta`, with ``best_iteration``). The seed fixes the deletion, the split and the
    initialisations. A ``checkpoint`` keeps each finished seed and skips it on a rerun; a ``display`` (a CLI's
    :class:`companion.cli.RunProgress`) counts the finished units.
    ``config.sparse``: the fixed graphs (both GCN rows, the frozen control) as sparse tensors.
    ``fraction`` is the share of *missing* edges (the official ``-e`` flag; the paper's Fig. 2
    axis shows the share retained).
    """
    if not fractions or not all(0.0 <= f <= 1.0 for f in fractions):
        raise ValueError(f"fractions must be shares of deleted edges in [0, 1], got {fractions}")
    if len(set(fractions)) != len(fractions):
        raise ValueError(f"fractions must be distinct, got {fractions}")
    config = config or LDSConfig()
    frozen = replace(config, outer_lr=0.0)

    def seed_rows(seed: int) -> list[dict]:
        d = _on(load_graph_dataset(dataset, seed, sbm_nodes, root), device)
        rows: list[dict] = []
        for f in fractions:
            a = drop_edges(d["adjacency"], f, seed=seed)
            setting = {"dataset": dataset, "missing": f}
            edges_left = int(a.sum().item() // 2)
            seed_everything(seed)
            gcn = train_gcn(d["x"], d["y"], a, d["split"], epochs=epochs, seed=seed, sparse=config.sparse)
            seed_everything(seed)
            rec = gcn_with_restarts(d["x"], d["y"], a, d["split"], restarts=config.max_outer_iterations,
                                    lrs=RECIPE_LRS, seed=seed, epochs=epochs, sparse=config.sparse)
            stats = graph_statistics(a, d["y"])
            out = {"Majority": {"test_acc": majority(d["y"], d["split"])},
                   "GCN": {"test_acc": gcn["test_acc"], **stats},
                   "GCN, LDS recipe": {"test_acc": rec["test_acc"], "lr": rec["lr"], **stats}}
            theta0 = init_edge_probabilities(len(d["y"]), a)
            for method, cfg in (("LDS, graph frozen", frozen), ("LDS", config)):
                seed_everything(seed)
                res = train_lds(d["x"], d["y"], theta0, d["split"], cfg, seed=seed,
                                desc=f"{method} {dataset} -{f:.0%} seed {seed}")
                out[method] = {"test_acc": res.test_accuracy, "best_iteration": res.best_iteration,
                               **graph_statistics(res.theta, d["y"])}
            rows += [{"setting": setting, "method": m, "seed": seed, "edges_left": edges_left, **out[m]}
                     for m in GRAPH_METHODS]
            if log:
                log(f"{dataset} seed {seed} missing {f:.0%}: "
                    + ", ".join(f"{m} {out[m]['test_acc']:.3f}" for m in GRAPH_METHODS))
            if display is not None:
                display.done(f"{dataset} seed {seed}, missing {f:g}")
        return rows

    return run_seeds(seeds, seed_rows, checkpoint=checkpoint, display=display, units=len(fractions))
