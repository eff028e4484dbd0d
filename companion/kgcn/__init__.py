"""KGCN-LS / KGNN-LS (Wang et al., KDD 2019): knowledge-graph convolution for recommendation
with label-smoothness regularisation, plus the BPR-MF baseline without the KG.

Modules: ``sampling`` (fixed-size neighbour tables), ``aggregators`` (user-relation scores and
the sum / concat / neighbor layers), ``model`` (KGCN, the interaction table, label propagation
and the LS loss), ``baselines`` (BPR-MF, popularity), ``metrics`` (AUC, F1, Recall@K),
``train`` (splits, trainers, the step budget, the comparison behind the CLI
``python -m companion.kgcn``).
"""

from companion.kgcn.aggregators import AGGREGATORS, KGCNAggregator, mix_neighbors, user_relation_scores
from companion.kgcn.baselines import BPRMF, Popularity, bpr_loss
from companion.kgcn.metrics import auc_score, f1_at_half, recall_at_k, user_records
from companion.kgcn.model import KGCN, InteractionTable, label_propagation, label_smoothness_loss
from companion.kgcn.sampling import build_adjacency, receptive_field
from companion.kgcn.train import (
    BASELINES,
    MODELS,
    KGCNConfig,
    evaluate_ctr,
    epochs_for_steps,
    evaluate_model,
    fit_bprmf,
    fit_kgcn,
    predict,
    run_comparison,
    split_ratings,
    subsample,
    tune_on_eval,
)

__all__ = [
    "AGGREGATORS", "BASELINES", "BPRMF", "Popularity", "epochs_for_steps",
    "KGCN", "KGCNAggregator", "KGCNConfig", "InteractionTable", "MODELS",
    "auc_score", "bpr_loss", "build_adjacency", "evaluate_ctr", "evaluate_model", "f1_at_half",
    "fit_bprmf", "fit_kgcn", "label_propagation", "label_smoothness_loss", "mix_neighbors", "predict",
    "recall_at_k", "receptive_field", "run_comparison", "split_ratings", "subsample", "tune_on_eval",
    "user_records", "user_relation_scores",
]
