"""AliNet (Sun et al., AAAI 2020): entity alignment with gated multi-hop neighbourhood aggregation."""

from companion.alinet.baselines import degree_features, degree_matching
from companion.alinet.graph import (check_pairs, distant_neighbours, gcn_adjacency, gcn_align_adjacency, joint_edges, joint_triples,
                                    two_hop_edges)
from companion.alinet.layers import (AliNetLayer, DistantAttention, Gate, GCNLayer, aggregate, attention_scores,
                                     batch_standardize, gate)
from companion.alinet.losses import (alignment_loss, gcn_align_loss, relation_loss, sample_negatives,
                                     sample_uniform_corruptions)
from companion.alinet.metrics import csls, evaluate_alignment, ranking_metrics, ranks_of_matches
from companion.alinet.model import AliNet, GCNAlign
from companion.alinet.training import (VARIANTS, AlignInputs, Config, augment_links, build_model, fit, prepare,
                                       run_variant, split_seed_pairs, test_metrics)

__all__ = [
    "AliNet", "AliNetLayer", "AlignInputs", "Config", "DistantAttention", "GCNAlign", "GCNLayer", "Gate",
    "VARIANTS", "aggregate", "alignment_loss", "attention_scores", "augment_links", "batch_standardize",
    "build_model", "check_pairs", "csls", "degree_features", "degree_matching", "distant_neighbours", "evaluate_alignment", "fit", "gate", "gcn_adjacency",
    "gcn_align_adjacency", "gcn_align_loss", "joint_edges", "joint_triples", "prepare", "ranking_metrics",
    "ranks_of_matches", "relation_loss", "run_variant", "sample_negatives", "sample_uniform_corruptions",
    "split_seed_pairs", "test_metrics", "two_hop_edges",
]
