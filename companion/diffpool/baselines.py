"""A trivial baseline for graph classification: five whole-graph statistics and a logistic
regression, cross-validated on the same stratified folds as the GNNs.

No message passing and no learned clustering: if such a baseline matches a GNN, the GNN's
accuracy says little about what its pooling learned.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from companion.diffpool.train import stratified_folds

STATISTICS = ("nodes", "edges", "diameter", "mean shortest-path length", "transitivity")


def graph_statistics(graph) -> np.ndarray:
    """The :data:`STATISTICS` of one graph (``num_nodes``, ``edge_index``; edges undirected).

    Diameter and mean shortest-path length are those of the largest connected component, so a
    disconnected graph gets finite values.
    """
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(int(graph.num_nodes)))
    g.add_edges_from(graph.edge_index.t().tolist())
    if g.number_of_nodes() == 0:
        raise ValueError("graph_statistics needs a graph with at least one node")
    core = g.subgraph(max(nx.connected_components(g), key=len))
    return np.array([g.number_of_nodes(), g.number_of_edges(), nx.diameter(core),
                     nx.average_shortest_path_length(core) if core.number_of_nodes() > 1 else 0.0,
                     nx.transitivity(g)], dtype=float)


def statistics_cv(graphs: Sequence, folds: int = 10, seed: int = 0, max_folds: int | None = None) -> dict:
    """k-fold CV of a standardised logistic regression (scikit-learn defaults, not tuned) on the
    graphs' :func:`graph_statistics`, with the test folds of
    :func:`~companion.diffpool.train.stratified_folds` for ``seed`` (the GNNs' folds for that seed).
    The model fits on every graph outside the test fold: with nothing to tune, it needs no
    validation split. ``max_folds`` runs only the first folds (as
    :func:`~companion.diffpool.train.cross_validate`).

    Returns ``{"fold_acc": [...], "mean": ..., "std": ...}`` (std over folds).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if max_folds is not None and not 1 <= max_folds <= folds:
        raise ValueError(f"max_folds must be in [1, folds={folds}] or None, got {max_folds}")
    labels = np.array([int(g.y) for g in graphs])
    x = np.stack([graph_statistics(g) for g in graphs])
    accs = []
    for test in stratified_folds(labels, folds, seed)[:max_folds]:
        train = np.setdiff1d(np.arange(len(labels)), test)
        # lbfgs is deterministic; the seed only matters to a solver that shuffles
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, random_state=seed))
        model.fit(x[train], labels[train])
        accs.append(float((model.predict(x[test]) == labels[test]).mean()))
    return {"fold_acc": accs, "mean": float(np.mean(accs)), "std": float(np.std(accs))}
