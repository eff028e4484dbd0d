r"""A two-layer GCN written as a function of its weights, so that inner optimisation steps can be unrolled.

As in the official ``models.py::dense_gcn_2l_tensor``: dense adjacency, renormalised
:math:`\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}`, 16 hidden units, ReLU, dropout after the
hidden layer, Glorot-uniform weights and no biases:

.. math:: f_w(X, A) = \hat A\,\mathrm{ReLU}(\hat A X W_1)\,W_2 \qquad \text{(paper Eq. (1), logits)}

The weights are a plain list ``[W1, W2]`` rather than an ``nn.Module`` because the bilevel
trainer differentiates through Adam updates of them (``create_graph=True``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def init_gcn_weights(
    in_dim: int, num_classes: int, hidden: int = 16, generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> list[torch.Tensor]:
    """Glorot-uniform ``[W1 (in_dim, hidden), W2 (hidden, num_classes)]``, with ``requires_grad``,
    on ``device`` (drawn from ``generator`` on the CPU, then moved)."""
    if min(in_dim, num_classes, hidden) < 1:
        raise ValueError(f"in_dim, num_classes and hidden must be >= 1, got {in_dim}, {num_classes}, {hidden}")
    weights = []
    for fan_in, fan_out in ((in_dim, hidden), (hidden, num_classes)):
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        w = (torch.rand(fan_in, fan_out, generator=generator) * 2 - 1) * bound
        weights.append(w.to(device).requires_grad_())
    return weights


def normalize_adjacency(adjacency: torch.Tensor) -> torch.Tensor:
    r"""Dense :math:`\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}` with :math:`\tilde D = \mathrm{diag}((A+I)\mathbf 1)`.

    Args: adjacency (N, N), non-negative, without self-loops. Returns (N, N).
    """
    if adjacency.ndim != 2 or adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError(f"adjacency must be a square (N, N) matrix, got shape {tuple(adjacency.shape)}")
    a = adjacency + torch.eye(adjacency.shape[0], dtype=adjacency.dtype, device=adjacency.device)
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


def degree_rsqrt(adjacency: torch.Tensor) -> torch.Tensor:
    r""":math:`\mathrm{diag}(\tilde D)^{-1/2}` (N,) of :math:`A + I`, for a dense or a sparse ``adjacency``."""
    if adjacency.is_sparse or adjacency.layout == torch.sparse_csr:
        deg = torch.sparse.sum(adjacency.to_sparse_coo(), 1).to_dense()
    else:
        deg = adjacency.sum(1)
    return (deg + 1.0).rsqrt()


def propagate(adjacency: torch.Tensor, h: torch.Tensor, d: torch.Tensor | None = None) -> torch.Tensor:
    r""":math:`\hat A H` without building :math:`\hat A`: :math:`D^{-1/2}(A (D^{-1/2} H) + D^{-1/2} H)`.

    Saves one (N, N) matrix per call, which matters when τ inner steps are kept for the
    hypergradient. ``d`` is :math:`\mathrm{diag}(\tilde D)^{-1/2}` (N,) if already computed.
    ``adjacency`` may be a sparse tensor (a fixed graph): the same maths in O(edges), summed in
    another order, so the last bits differ from the dense product.
    """
    if d is None:
        d = degree_rsqrt(adjacency)
    dh = d[:, None] * h
    return d[:, None] * (adjacency @ dh + dh)


def gcn_forward(
    weights: list[torch.Tensor],
    x: torch.Tensor,
    adjacency: torch.Tensor,
    dropout: float = 0.0,
    training: bool = False,
) -> torch.Tensor:
    r"""Logits :math:`\hat A\,\mathrm{ReLU}(\hat A X W_1)\,W_2` (paper Eq. (1)).

    Args:
        weights: ``[W1 (F, H), W2 (H, C)]``.
        x: (N, F) node features.
        adjacency: (N, N) graph without self-loops (a 0/1 sample, or probabilities), dense or
            sparse (see :func:`propagate`).
        dropout: drop probability on the hidden layer (``1 - keep_prob``), used when ``training``.
    Returns:
        (N, C) logits.
    """
    if x.ndim != 2 or adjacency.shape != (x.shape[0], x.shape[0]):
        raise ValueError(
            f"expected x (N, F) and adjacency (N, N), got {tuple(x.shape)} and {tuple(adjacency.shape)}"
        )
    if len(weights) != 2 or weights[0].shape[0] != x.shape[1]:
        raise ValueError(f"weights must be [W1 ({x.shape[1]}, H), W2 (H, C)], got {[tuple(w.shape) for w in weights]}")
    d = degree_rsqrt(adjacency)
    h = torch.relu(propagate(adjacency, x @ weights[0], d))
    h = F.dropout(h, dropout, training)
    return propagate(adjacency, h @ weights[1], d)


def gcn_training_loss(
    weights: list[torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    adjacency: torch.Tensor,
    train_idx: torch.Tensor,
    l2_reg: float = 5e-4,
    dropout: float = 0.5,
) -> torch.Tensor:
    r"""Inner objective :math:`L(w, A)`: masked cross-entropy + ``l2_reg`` :math:`\cdot \tfrac12\|W_1\|^2`.

    As in the official code (and Kipf & Welling), only the first layer is regularised
    (``l2_reg * tf.nn.l2_loss(ws[0])``).
    """
    logits = gcn_forward(weights, x, adjacency, dropout=dropout, training=dropout > 0)
    return F.cross_entropy(logits[train_idx], y[train_idx]) + l2_reg * 0.5 * weights[0].pow(2).sum()
