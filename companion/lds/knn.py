"""The kNN graph used by kNN-GCN and to initialise kNN-LDS (paper Sec. 5.1)."""

from __future__ import annotations

import torch


def knn_graph(x: torch.Tensor, k: int, metric: str = "cosine", symmetric: bool = True) -> torch.Tensor:
    """Dense 0/1 kNN adjacency (N, N) from features (N, F), with ``sklearn.neighbors.kneighbors_graph``.

    ``symmetric`` takes :math:`\\max(A, A^\\top)` (an undirected graph; the official code keeps the
    directed graph and reads its upper triangle). No self-loops.
    """
    from sklearn.neighbors import kneighbors_graph

    if x.ndim != 2:
        raise ValueError(f"x must be (N, F), got shape {tuple(x.shape)}")
    if not 1 <= k < x.shape[0]:
        raise ValueError(f"k must be in 1..N-1 = 1..{x.shape[0] - 1}, got {k}")
    if metric not in ("cosine", "minkowski", "euclidean"):
        raise ValueError(f"metric must be 'cosine', 'minkowski' or 'euclidean', got {metric!r}")
    g = kneighbors_graph(x.detach().cpu().numpy(), k, metric=metric, include_self=False)
    a = torch.as_tensor(g.toarray(), dtype=torch.float32)
    return torch.maximum(a, a.t()) if symmetric else a
