"""BA-Shapes (Ying et al., 2019): node classification where the label is a node's role in a planted house.

A Barabási–Albert base graph of ``base_nodes`` nodes (``num_edges`` edges per new node) gets
``num_motifs`` five-node *house* motifs, each attached to a random base node by one edge. The
label of a node is its role: 0 = base graph, 1 = middle of a house (the two corners under the
roof), 2 = bottom of a house, 3 = top (the roof, one node per house): PyG's ``HouseMotif`` labels
its nodes 0, 0, 1, 1, 2 and the generator adds 1. Node features are constant (``feat_dim`` ones), so only the structure
around a node can give its class away: an explainer of a house node's prediction should point
at the house. Built by PyG's ``ExplainerDataset(graph_generator=BAGraph(...), motif_generator=
'house')``, seeded by forking torch's and numpy's global random state (the caller's streams
are untouched).
The returned ``Data`` carries the ground-truth ``node_mask`` (motif nodes) and ``edge_mask``
(motif edges) as booleans, and the defaults are the sizes of the GNNExplainer paper (300 base
nodes, 80 houses: 700 nodes).
"""

from __future__ import annotations

import numpy as np
import torch

from companion.data._registry import register


@register("ba_shapes", "generator", "BA-Shapes: BA graph with planted houses, node labels = role in a house; ground-truth masks")
def load_ba_shapes(base_nodes: int = 300, num_edges: int = 5, num_motifs: int = 80, seed: int = 0,
                   feat_dim: int = 10, train_fraction: float = 0.8):
    """One PyG ``Data`` graph with ``x`` (N, feat_dim), ``y`` (N,), ``node_mask``/``edge_mask``
    (bool ground truth) and seeded ``train_mask``/``test_mask`` (``train_fraction`` of the nodes)."""
    if base_nodes < num_edges + 1:
        raise ValueError(f"base_nodes must be > num_edges, got base_nodes={base_nodes}, num_edges={num_edges}")
    if num_edges < 1:
        raise ValueError(f"num_edges must be >= 1, got {num_edges}")
    if num_motifs < 1:
        raise ValueError(f"num_motifs must be >= 1, got {num_motifs}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    from torch_geometric.data import Data
    from torch_geometric.datasets import ExplainerDataset
    from torch_geometric.datasets.graph_generator import BAGraph

    np_state = np.random.get_state()  # PyG's BA generator draws from numpy's global stream too
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            np.random.seed(seed)
            dataset = ExplainerDataset(graph_generator=BAGraph(num_nodes=base_nodes, num_edges=num_edges),
                                       motif_generator="house", num_motifs=num_motifs)
            g = dataset[0]
            n = g.num_nodes
            perm = torch.randperm(n)
    finally:
        np.random.set_state(np_state)
    train_mask = torch.zeros(n, dtype=torch.bool)
    train_mask[perm[: int(train_fraction * n)]] = True
    return Data(x=torch.ones(n, feat_dim), edge_index=g.edge_index, y=g.y,
                node_mask=g.node_mask.bool(), edge_mask=g.edge_mask.bool(),
                train_mask=train_mask, test_mask=~train_mask)
