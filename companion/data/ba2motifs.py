"""BA-2Motifs (Luo et al., 2020): graph classification where the label is the planted motif.

Each graph is a Barabási–Albert base graph of ``base_nodes`` nodes (attachment ``m=1``) with one
motif attached by a single edge to a random base node: a *house* (5 nodes, label 0) or a
*five-cycle* (5 nodes, label 1). Both motifs have 5 nodes and the base graphs come from the same
distribution, so only the motif's shape separates the classes: an explainer that finds the class
evidence must find the motif. Node features are constant (``0.1``, 10 dims, as in the PyG
``BA2MotifDataset``), so structure is the only signal. Each graph carries the ground-truth
``node_mask`` (motif nodes) and ``edge_mask`` (motif edges).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import torch

from companion.data._registry import register

HOUSE = [(0, 1), (1, 2), (2, 3), (3, 0), (0, 4), (1, 4)]  # square 0-1-2-3 with roof node 4
CYCLE5 = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)]


def _one_graph(label: int, base_nodes: int, rng: np.random.Generator, feat_dim: int):
    from torch_geometric.data import Data

    base = nx.barabasi_albert_graph(base_nodes, 1, seed=int(rng.integers(2**31)))
    motif = HOUSE if label == 0 else CYCLE5
    edges = list(base.edges())
    edges += [(base_nodes + u, base_nodes + v) for u, v in motif]
    anchor = int(rng.integers(base_nodes))
    edges.append((anchor, base_nodes + int(rng.integers(5))))
    e = torch.tensor(edges, dtype=torch.long).t()
    edge_index = torch.cat([e, e.flip(0)], dim=1)
    n = base_nodes + 5
    node_mask = torch.zeros(n, dtype=torch.bool)
    node_mask[base_nodes:] = True
    edge_mask = node_mask[edge_index[0]] & node_mask[edge_index[1]]
    return Data(x=torch.full((n, feat_dim), 0.1), edge_index=edge_index, y=torch.tensor([label]),
                node_mask=node_mask, edge_mask=edge_mask)


@register("ba2motifs", "generator", "BA-2Motifs: BA graphs with a house (0) or five-cycle (1) motif; ground-truth masks")
def load_ba2motifs(num_graphs: int = 1000, base_nodes: int = 20, seed: int = 0, feat_dim: int = 10) -> list:
    """A list of ``num_graphs`` PyG ``Data`` graphs, half of each class, in seeded random order."""
    if num_graphs < 2:
        raise ValueError(f"num_graphs must be >= 2, got {num_graphs}")
    if base_nodes < 2:
        raise ValueError(f"base_nodes must be >= 2, got {base_nodes}")
    rng = np.random.default_rng(seed)
    labels = np.arange(num_graphs) % 2
    rng.shuffle(labels)
    return [_one_graph(int(lab), base_nodes, rng, feat_dim) for lab in labels]
