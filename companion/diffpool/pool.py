"""The DiffPool operator: coarsen a dense batch of graphs with a soft cluster assignment."""

from __future__ import annotations

import torch
from torch import Tensor

EPS = 1e-15  # inside the log of the entropy term, as in PyG, so that log(0) stays finite


def _check_dense(x: Tensor, adj: Tensor, s: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
    if not all(isinstance(t, Tensor) for t in (x, adj, s)):
        raise ValueError("x, adj and s must be torch tensors")
    x = x.unsqueeze(0) if x.dim() == 2 else x
    adj = adj.unsqueeze(0) if adj.dim() == 2 else adj
    s = s.unsqueeze(0) if s.dim() == 2 else s
    if x.dim() != 3 or adj.dim() != 3 or s.dim() != 3:
        raise ValueError(
            f"expected x (B, N, F), adj (B, N, N) and s (B, N, C), got {tuple(x.shape)}, "
            f"{tuple(adj.shape)} and {tuple(s.shape)}")
    b, n, _ = x.shape
    if adj.shape != (b, n, n):
        raise ValueError(f"adj must have shape (B, N, N) = {(b, n, n)} to match x, got {tuple(adj.shape)}")
    if s.shape[:2] != (b, n):
        raise ValueError(f"s must have shape (B, N, C) with (B, N) = {(b, n)} to match x, got {tuple(s.shape)}")
    if s.shape[2] < 1:
        raise ValueError("s must assign to at least one cluster (C >= 1), got C = 0")
    if mask is not None and tuple(mask.shape) != (b, n):
        raise ValueError(f"mask must have shape (B, N) = {(b, n)}, got {tuple(mask.shape)}")
    return x, adj, s


def link_prediction_loss(adj: Tensor, s: Tensor, normalize: bool = True) -> Tensor:
    r"""Auxiliary link-prediction loss :math:`\|A - S S^\top\|_F` (paper Sec. 3.3).

    ``adj`` (B, N, N), ``s`` (B, N, C) a soft assignment whose rows sum to 1 (padded rows 0).
    The Frobenius norm is taken over the whole batch; ``normalize`` divides it by ``adj.numel()``
    (PyG's convention).
    """
    loss = torch.linalg.vector_norm(adj - s @ s.transpose(1, 2))
    return loss / adj.numel() if normalize else loss


def entropy_loss(s: Tensor) -> Tensor:
    r"""Auxiliary entropy loss :math:`\frac{1}{BN}\sum_{b,n} H(S_{b,n})` (paper Sec. 3.3).

    ``s`` (B, N, C) a soft assignment. Low entropy means each node is assigned to one cluster.
    Padded rows (all zero) contribute 0 but count in the mean, as in PyG.
    """
    return (-s * torch.log(s + EPS)).sum(dim=-1).mean()


def diff_pool(x: Tensor, adj: Tensor, s: Tensor, mask: Tensor | None = None,
              normalize: bool = True) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    r"""One DiffPool coarsening step (Ying et al. 2018, Eqs. 3 and 4).

    .. math::
        S = \mathrm{softmax}(s),\qquad X' = S^\top Z,\qquad A' = S^\top A S

    Args:
        x: node embeddings ``Z`` (B, N, F) from the embedding GNN (2-D input is one graph).
        adj: adjacency (B, N, N), zero rows and columns for padding nodes.
        s: assignment *logits* (B, N, C) from the pooling GNN; the softmax over the C clusters
            is applied here.
        mask: optional (B, N) bool/0-1 tensor of valid nodes: padding rows of ``x`` and ``S``
            are zeroed, so padding never reaches a cluster.
        normalize: divide the link-prediction loss by ``adj.numel()`` (PyG's default).

    Returns:
        ``(x', adj', link_loss, entropy_loss)`` with ``x'`` (B, C, F) and ``adj'`` (B, C, C); the
        two scalars are :func:`link_prediction_loss` and :func:`entropy_loss`. Numerically the
        same as ``torch_geometric.nn.dense_diff_pool``.
    """
    x, adj, s = _check_dense(x, adj, s, mask)
    s = torch.softmax(s, dim=-1)
    if mask is not None:
        m = mask.reshape(x.shape[0], x.shape[1], 1).to(x.dtype)
        x, s = x * m, s * m
    st = s.transpose(1, 2)
    out = st @ x
    out_adj = st @ adj @ s
    return out, out_adj, link_prediction_loss(adj, s, normalize), entropy_loss(s)
