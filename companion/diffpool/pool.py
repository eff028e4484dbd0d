"""The DiffPool operator: coarsen a dense batch of graphs with a soft cluster assignment."""

from __future__ import annotations

import torch
from torch import Tensor

EPS = 1e-15  # inside the log of the entropy term, as in PyG, so that log(0) stays finite
COARSE_ADJ = ("raw", "no-diag", "degree-norm")  # what coarse_adjacency does to A' = S^T A S


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


def coarse_adjacency(adj: Tensor, how: str = "raw") -> Tensor:
    r"""The coarsened adjacency handed to the next GNN, from :math:`A' = S^\top A S` (B, C, C).

    * ``"raw"``: :math:`A'` unchanged (the paper's Eq. 4 and the authors' code).
    * ``"no-diag"``: :math:`A'` with its diagonal set to zero. :math:`A'_{cc}` counts the edges
      inside cluster :math:`c` (both directions, about 20 per planted community of
      ``hier_graphs``); :math:`A'_{cd}` the edges between clusters (1 or 2 bridges). With
      sum aggregation the diagonal swamps the bridges, so the coarse graph's shape is hard to see.
    * ``"degree-norm"``: the diagonal removed, then
      :math:`\tilde D^{-1/2} \tilde A \tilde D^{-1/2}` with :math:`\tilde D` the row sums of the
      diagonal-free :math:`\tilde A`, as MinCutPool does (Bianchi, Grattarola and Alippi,
      ICML 2020; PyG's ``dense_mincut_pool``). A degree is clamped at ``EPS`` before the square
      root, so an empty or isolated cluster keeps a zero row (and finite gradients).

    ``adj`` (B, C, C) or (C, C); returns a tensor of the same shape (``adj`` itself for ``"raw"``).
    """
    if how not in COARSE_ADJ:
        raise ValueError(f"coarse_adj must be one of {COARSE_ADJ}, got {how!r}")
    if not isinstance(adj, Tensor) or adj.dim() not in (2, 3) or adj.shape[-1] != adj.shape[-2]:
        raise ValueError(f"adj must be a square (C, C) or (B, C, C) tensor, got "
                         f"{tuple(adj.shape) if isinstance(adj, Tensor) else type(adj).__name__}")
    if how == "raw":
        return adj
    eye = torch.eye(adj.shape[-1], dtype=torch.bool, device=adj.device)
    adj = adj.masked_fill(eye, 0.0)
    if how == "no-diag":
        return adj
    d = adj.sum(dim=-1).clamp(min=EPS).sqrt()
    return adj / d.unsqueeze(-1) / d.unsqueeze(-2)


def hard_assignment(community: Tensor, num_clusters: int) -> Tensor:
    """One-hot assignment S (B, N, C) from cluster indices (B, N); ``-1`` marks a padding node,
    whose row of S is zero. Used for DiffPool with a fixed (oracle) assignment: the planted
    communities of ``hier_graphs``.
    """
    if not isinstance(community, Tensor) or community.dtype not in (torch.int32, torch.int64):
        raise ValueError("community must be an integer tensor of cluster indices (-1 for padding)")
    if num_clusters < 1:
        raise ValueError(f"num_clusters must be >= 1, got {num_clusters}")
    if community.numel() and (community.min() < -1 or community.max() >= num_clusters):
        raise ValueError(f"community indices must be in [-1, {num_clusters - 1}] (num_clusters={num_clusters}), "
                         f"got range [{int(community.min())}, {int(community.max())}]")
    valid = community >= 0
    s = torch.nn.functional.one_hot(community.clamp(min=0).long(), num_clusters).float()
    return s * valid.unsqueeze(-1)


def coarsen(x: Tensor, adj: Tensor, s: Tensor, coarse_adj: str = "raw") -> tuple[Tensor, Tensor]:
    r"""Coarsen with a given assignment (Eqs. 3 and 4): :math:`X' = S^\top Z`,
    :math:`A' = S^\top A S`, then :func:`coarse_adjacency` (``coarse_adj``).

    ``x`` (B, N, F), ``adj`` (B, N, N), ``s`` (B, N, C) with padding rows already zero (no
    softmax here: :func:`diff_pool` applies it to logits; :func:`hard_assignment` is one-hot).
    Returns ``(x' (B, C, F), adj' (B, C, C))``.
    """
    x, adj, s = _check_dense(x, adj, s, None)
    st = s.transpose(1, 2)
    return st @ x, coarse_adjacency(st @ adj @ s, coarse_adj)


def diff_pool(x: Tensor, adj: Tensor, s: Tensor, mask: Tensor | None = None,
              normalize: bool = True, coarse_adj: str = "raw") -> tuple[Tensor, Tensor, Tensor, Tensor]:
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
        coarse_adj: what :func:`coarse_adjacency` does to ``adj'``: ``"raw"`` (the paper's
            Eq. 4, default), ``"no-diag"`` or ``"degree-norm"``.

    Returns:
        ``(x', adj', link_loss, entropy_loss)`` with ``x'`` (B, C, F) and ``adj'`` (B, C, C); the
        two scalars are :func:`link_prediction_loss` and :func:`entropy_loss`. With ``"raw"``,
        numerically the same as ``torch_geometric.nn.dense_diff_pool``.
    """
    x, adj, s = _check_dense(x, adj, s, mask)
    if coarse_adj not in COARSE_ADJ:
        raise ValueError(f"coarse_adj must be one of {COARSE_ADJ}, got {coarse_adj!r}")
    s = torch.softmax(s, dim=-1)
    if mask is not None:
        m = mask.reshape(x.shape[0], x.shape[1], 1).to(x.dtype)
        x, s = x * m, s * m
    out, out_adj = coarsen(x, adj, s, coarse_adj)
    return out, out_adj, link_prediction_loss(adj, s, normalize), entropy_loss(s)
