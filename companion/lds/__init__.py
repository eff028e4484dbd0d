"""LDS: learning discrete graph structures for GNNs (Franceschi, Niepert, Pontil, He; ICML 2019).

Each possible edge is a Bernoulli variable with a learnable probability; graphs sampled from
that distribution feed a GCN whose weights are trained on the training loss (inner problem)
while the probabilities follow the hypergradient of the validation loss (outer problem).
"""

from companion.lds.baselines import gcn_with_restarts, knn_gcn, logistic_regression, mlp, train_gcn
from companion.lds.bilevel import (
    AdamState,
    LDSConfig,
    LDSResult,
    adam_step,
    expected_prediction,
    frozen_steps,
    hypergradient,
    train_lds,
    validation_loss,
)
from companion.lds.experiments import load_graph_dataset, run_incomplete_graph, run_no_graph
from companion.lds.gcn import gcn_forward, gcn_training_loss, init_gcn_weights, normalize_adjacency, propagate
from companion.lds.graph import (
    drop_edges,
    expected_adjacency,
    graph_statistics,
    init_edge_probabilities,
    project_probabilities,
    sample_graph,
    upper_triangular_mask,
)
from companion.lds.knn import knn_graph
from companion.lds.splits import UCI_SIZES, divide_validation, uci_split

__all__ = [
    "AdamState", "LDSConfig", "LDSResult", "UCI_SIZES", "adam_step", "divide_validation", "drop_edges",
    "expected_adjacency", "expected_prediction", "frozen_steps", "gcn_forward", "gcn_training_loss",
    "gcn_with_restarts", "graph_statistics", "hypergradient",
    "init_edge_probabilities", "init_gcn_weights", "knn_gcn", "knn_graph", "load_graph_dataset",
    "logistic_regression", "mlp", "normalize_adjacency", "project_probabilities", "propagate",
    "run_incomplete_graph", "run_no_graph", "sample_graph", "train_gcn", "train_lds", "uci_split",
    "upper_triangular_mask", "validation_loss",
]
