"""Distributed GNN training on ``torch.distributed`` (chapter 2).

Partitioners and their quality (:mod:`.partition`), a communication meter (:mod:`.comm`), the
halo exchange of full-graph training (:mod:`.halo`), a fan-out neighbour sampler
(:mod:`.sampler`), a partitioned feature store with a cache of hot remote nodes (:mod:`.cache`),
partition folders that each worker loads alone (:mod:`.local`), the two workflows (:mod:`.train`)
and launchers (:mod:`.launch`; CLI: ``python -m companion.distgnn``).
"""

from companion.distgnn.cache import CACHE_POLICIES, FeatureCache, FeatureStore, degree_policy, halo_degree_policy, random_policy
from companion.distgnn.comm import CommMeter, tensor_bytes
from companion.distgnn.halo import HaloPlan, build_halo_plan, gcn_edge_weight, halo_exchange
from companion.distgnn.launch import (check_backend, check_training_nodes, free_port, init_process_group, run_function,
                                      run_partitioned, run_workers)
from companion.distgnn.local import LocalPartition, load_partition, make_partition, write_partitions
from companion.distgnn.models import GCN, SAGE
from companion.distgnn.partition import (PARTITIONERS, edge_cut, empty_parts, halo_nodes, metis_partition, partition,
                                         partition_quality, random_partition)
from companion.distgnn.sampler import NeighborSampler, SampledSubgraph
from companion.distgnn.train import (DistConfig, stale_grad_halo, summarise, train_full_graph, train_full_graph_local,
                                     train_minibatch, train_minibatch_local)

__all__ = [
    "CACHE_POLICIES", "FeatureCache", "FeatureStore", "degree_policy", "halo_degree_policy", "random_policy",
    "CommMeter", "tensor_bytes", "HaloPlan", "build_halo_plan", "gcn_edge_weight", "halo_exchange",
    "check_training_nodes", "free_port", "init_process_group", "run_function", "run_workers", "GCN", "SAGE",
    "PARTITIONERS", "edge_cut", "empty_parts", "halo_nodes",
    "metis_partition", "partition", "partition_quality", "random_partition", "NeighborSampler",
    "SampledSubgraph", "DistConfig", "summarise", "train_full_graph", "train_minibatch",
    "check_backend", "run_partitioned", "LocalPartition", "load_partition", "make_partition", "write_partitions",
    "stale_grad_halo", "train_full_graph_local", "train_minibatch_local",
]
