"""AliNet (Sun et al., AAAI 2020): entity alignment with gated multi-hop neighbourhood aggregation."""

from companion.alinet.graph import check_pairs, gcn_adjacency, joint_edges, joint_triples, two_hop_edges
from companion.alinet.layers import (AliNetLayer, DistantAttention, Gate, GCNLayer, aggregate, attention_scores,
                                     gate)
from companion.alinet.losses import alignment_loss, relation_loss, sample_negatives
from companion.alinet.metrics import csls, evaluate_alignment, ranking_metrics, ranks_of_matches
from companion.alinet.model import AliNet, GCNAlign
from companion.alinet.training import VARIANTS, AlignInputs, Config, build_model, fit, prepare, run_variant, test_metrics

__all__ = [
    "AliNet", "AliNetLayer", "AlignInputs", "Config", "DistantAttention", "GCNAlign", "GCNLayer", "Gate",
    "VARIANTS", "aggregate", "alignment_loss", "attention_scores", "build_model", "check_pairs", "csls",
    "evaluate_alignment", "fit", "gate", "gcn_adjacency", "joint_edges", "joint_triples", "prepare",
    "ranking_metrics", "ranks_of_matches", "relation_loss", "run_variant", "sample_negatives", "test_metrics",
    "two_hop_edges",
]
