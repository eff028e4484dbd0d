"""The GNNs to explain: graph-convolution stacks for graph classification (BA-2Motifs) and node
classification (BA-Shapes).

The paper's code explains a GCN with three graph-convolution layers; for BA-2Motifs its
``scripts.sh`` uses 20-20-20 hidden units and a mean readout. :class:`GNNGraphClassifier` builds
that shape with PyG's ``GraphConv`` by default (``conv="gcn"`` gives the paper's ``GCNConv``). Both models are plain PyG ``MessagePassing`` stacks, so PyG's
explainers (GNNExplainer, PGExplainer) can put edge masks on them.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
import torch.nn.functional as F

from companion.utils import accuracy, train


def _conv_class(conv: str):
    from torch_geometric.nn import GCNConv, GraphConv

    if conv not in ("gcn", "graphconv"):
        raise ValueError(f"conv must be 'gcn' or 'graphconv', got {conv!r}")
    return GCNConv if conv == "gcn" else GraphConv


class GNNGraphClassifier(nn.Module):
    """Graph-convolution layers, ReLU, mean (or max) readout, linear head: ``(x (N,F), edge_index (2,E), batch (N,)) -> (B, C)``."""

    def __init__(self, in_dim: int, num_classes: int, hidden: Sequence[int] = (20, 20, 20), readout: str = "mean", conv: str = "graphconv"):
        super().__init__()
        if in_dim < 1 or num_classes < 2:
            raise ValueError(f"in_dim must be >= 1 and num_classes >= 2, got {in_dim} and {num_classes}")
        if readout not in ("mean", "max"):
            raise ValueError(f"readout must be 'mean' or 'max', got {readout!r}")
        dims = [in_dim, *hidden]
        layer = _conv_class(conv)
        self.convs = nn.ModuleList(layer(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.head = nn.Linear(dims[-1], num_classes)
        self.readout = readout

    def embed(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = F.relu(conv(x, edge_index))
        return x

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor | None = None) -> torch.Tensor:
        from torch_geometric.nn import global_max_pool, global_mean_pool

        h = self.embed(x, edge_index)
        if batch is None:
            batch = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        pool = global_mean_pool if self.readout == "mean" else global_max_pool
        return self.head(pool(h, batch))


class GNNNodeClassifier(nn.Module):
    """Graph-convolution layers with ReLU and a linear head per node: ``(x (N,F), edge_index (2,E)) -> (N, C)``."""

    def __init__(self, in_dim: int, num_classes: int, hidden: Sequence[int] = (20, 20, 20), conv: str = "graphconv"):
        super().__init__()
        if in_dim < 1 or num_classes < 2:
            raise ValueError(f"in_dim must be >= 1 and num_classes >= 2, got {in_dim} and {num_classes}")
        dims = [in_dim, *hidden]
        layer = _conv_class(conv)
        self.convs = nn.ModuleList(layer(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.head = nn.Linear(sum(hidden), num_classes)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        # jumping-knowledge concat of every layer, as GNNExplainer's BA-Shapes model does, so that
        # 1-, 2- and 3-hop structure all reach the head
        hs = []
        for conv in self.convs:
            x = F.relu(conv(x, edge_index))
            hs.append(x)
        return self.head(torch.cat(hs, dim=-1))


def train_graph_classifier(model: GNNGraphClassifier, graphs: list, epochs: int = 80, lr: float = 0.01,
                           batch_size: int = 32, seed: int = 0, desc: str = "GNN") -> dict[str, float]:
    """Train on ``graphs`` (a list of PyG ``Data`` with ``y``) with Adam and cross-entropy.

    Returns ``{"train_acc": ...}`` measured after training; the history is on ``model.history``.
    """
    from torch_geometric.loader import DataLoader

    if len(graphs) < 2:
        raise ValueError(f"need at least 2 training graphs, got {len(graphs)}")
    gen = torch.Generator().manual_seed(seed)
    loader = DataLoader(graphs, batch_size=batch_size, shuffle=True, generator=gen)
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step(m, b):
        return F.cross_entropy(m(b.x, b.edge_index, b.batch), b.y)

    model.history = train(model, step, loader, opt, epochs=epochs, desc=desc)
    return {"train_acc": graph_accuracy(model, graphs)}


@torch.no_grad()
def graph_accuracy(model: nn.Module, graphs: list) -> float:
    """Share of ``graphs`` whose predicted class equals ``y``."""
    from torch_geometric.loader import DataLoader

    model.eval()
    b = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    return accuracy(model(b.x, b.edge_index, b.batch), b.y)


def train_node_classifier(model: GNNNodeClassifier, data, epochs: int = 300, lr: float = 0.01,
                          desc: str = "GNN") -> dict[str, float]:
    """Full-batch training on ``data.train_mask``; returns train and test accuracy."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=5e-4)

    def step(m, _):
        return F.cross_entropy(m(data.x, data.edge_index)[data.train_mask], data.y[data.train_mask])

    model.history = train(model, step, [None], opt, epochs=epochs, desc=desc)
    with torch.no_grad():
        logits = model(data.x, data.edge_index)
    return {"train_acc": accuracy(logits[data.train_mask], data.y[data.train_mask]),
            "test_acc": accuracy(logits[data.test_mask], data.y[data.test_mask])}
