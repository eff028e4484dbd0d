"""DiffPool (Ying et al., NeurIPS 2018): differentiable hierarchical pooling for graph classification."""

from companion.diffpool.dense import DenseGraphs, to_dense
from companion.diffpool.det import det_clusters, metis_clusters
from companion.diffpool.gnn import DenseSAGELayer, GNNBlock, masked_batch_norm
from companion.diffpool.model import DiffPoolNet, FlatGNN, cluster_sizes, readout
from companion.diffpool.pool import (COARSE_ADJ, coarse_adjacency, coarsen, diff_pool, entropy_loss,
                                     hard_assignment, link_prediction_loss)
from companion.diffpool.train import (DEFAULT_MODELS, MODELS, choose_on_validation, cross_validate,
                                      evaluate_accuracy, fit, make_model, stratified_folds)

__all__ = [
    "DenseGraphs", "to_dense", "det_clusters", "metis_clusters", "DenseSAGELayer", "GNNBlock", "masked_batch_norm",
    "DiffPoolNet", "FlatGNN", "cluster_sizes", "readout", "COARSE_ADJ", "coarse_adjacency", "coarsen", "diff_pool",
    "entropy_loss", "hard_assignment", "link_prediction_loss", "DEFAULT_MODELS", "MODELS", "choose_on_validation",
    "cross_validate", "evaluate_accuracy", "fit", "make_model", "stratified_folds",
]
