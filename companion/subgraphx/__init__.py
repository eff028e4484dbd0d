"""SubgraphX (Yuan et al., ICML 2021): explaining GNN predictions with subgraphs found by Monte
Carlo tree search, scored by Shapley values (see ``book/03_subgraphx/subgraphx.md``)."""

from companion.subgraphx.compare import (Explainers, clear_explain_state, compare_on_item, make_explainers,
                                         make_gnnexplainer, make_pgexplainer, summarize, train_pgexplainer)
from companion.subgraphx.evaluate import (label_fidelity, motif_accuracy, motif_oracle, node_scores,
                                          probability_fidelity, random_connected_subgraph, top_k_nodes)
from companion.subgraphx.explainer import (SubgraphXExplainer, SubgraphXExplanation, coalition_masks,
                                           num_message_passing_layers, subgraphx)
from companion.subgraphx.gnn import (GNNGraphClassifier, GNNNodeClassifier, graph_accuracy, train_graph_classifier,
                                     train_node_classifier)
from companion.subgraphx.mcts import (MCTSNode, MCTSResult, adjacency_list, connected_components, expansion_order,
                                      find_closest_node_result, mcts, prune)
from companion.subgraphx.shapley import (exact_shapley, graph_value_function, local_region, mc_l_shapley,
                                         mc_l_shapley_batch, node_value_function, sample_coalition_masks)
from companion.subgraphx.tune import random_motif_accuracy, tune_gnnexplainer, tune_pgexplainer

__all__ = [
    "Explainers", "clear_explain_state", "make_gnnexplainer", "make_pgexplainer", "motif_oracle",
    "random_motif_accuracy", "tune_gnnexplainer", "tune_pgexplainer",
    "GNNGraphClassifier", "GNNNodeClassifier", "MCTSNode", "MCTSResult", "SubgraphXExplainer", "SubgraphXExplanation",
    "adjacency_list", "coalition_masks", "compare_on_item", "connected_components", "exact_shapley",
    "expansion_order", "find_closest_node_result", "graph_accuracy", "graph_value_function", "label_fidelity",
    "local_region", "make_explainers", "mc_l_shapley", "mc_l_shapley_batch", "mcts", "motif_accuracy",
    "node_scores", "node_value_function", "num_message_passing_layers", "probability_fidelity", "prune",
    "random_connected_subgraph", "sample_coalition_masks", "subgraphx", "summarize", "top_k_nodes",
    "train_graph_classifier", "train_node_classifier", "train_pgexplainer",
]
