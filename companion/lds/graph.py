r"""The edge distribution of LDS: one Bernoulli variable per unordered node pair.

The paper (Franceschi et al., 2019, Sec. 3.1) models the graph as
:math:`A \sim \mathrm{Ber}(\theta)` with :math:`\theta \in \overline{\mathcal H}_N = [0,1]^{N \times N}`,
one independent edge per pair. As in the official code (``hyperparams.py::symm_adj_sample``)
only the strict upper triangle of :math:`\theta` is a parameter; a sample is drawn on the upper
triangle and mirrored, :math:`A = E + E^\top`, so every sampled graph is undirected and has no
self-loops (the GCN adds those).
"""

from __future__ import annotations

import torch


def _check_square(theta: torch.Tensor, name: str = "theta") -> None:
    if not isinstance(theta, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(theta).__name__}")
    if theta.ndim != 2 or theta.shape[0] != theta.shape[1]:
        raise ValueError(f"{name} must be a square (N, N) matrix, got shape {tuple(theta.shape)}")


def upper_triangular_mask(num_nodes: int, device: torch.device | str | None = None) -> torch.Tensor:
    """(N, N) float mask with ones strictly above the diagonal: the free edge parameters."""
    if num_nodes < 1:
        raise ValueError(f"num_nodes must be >= 1, got {num_nodes}")
    return torch.ones(num_nodes, num_nodes, device=device).triu(1)


def project_probabilities(theta: torch.Tensor) -> torch.Tensor:
    r"""Euclidean projection onto the parameter set: clip to :math:`[0, 1]`, keep the strict upper triangle.

    This is the projection :math:`\mathrm{Proj}_{\overline{\mathcal H}_N}` of the outer update
    (paper Eq. (7) and Algorithm 1, line 10). Args: theta (N, N). Returns (N, N), no gradient.
    """
    _check_square(theta)
    with torch.no_grad():
        return theta.detach().clamp(0.0, 1.0).triu(1)


def init_edge_probabilities(
    num_nodes: int, adjacency: torch.Tensor | None = None, p_init: float = 0.0
) -> torch.Tensor:
    r"""Initial :math:`\theta`: the given graph (kNN or the observed, incomplete one) plus ``p_init``.

    Mirrors the official ``constraint(adj_mods + est_p_edge)``: entries are the adjacency
    (0/1) plus a constant, projected to :math:`[0,1]` on the strict upper triangle.

    Args:
        num_nodes: N.
        adjacency: optional (N, N) 0/1 adjacency (symmetric or not: the upper triangle of
            ``max(A, A^T)`` is used).
        p_init: probability added to every pair (``est_p_edge``, 0.0 in the official code).
    Returns:
        (N, N) float tensor :math:`\theta`, zero on and below the diagonal.
    """
    if not 0.0 <= p_init <= 1.0:
        raise ValueError(f"p_init must be a probability in [0, 1], got {p_init}")
    if adjacency is None:
        theta = torch.zeros(num_nodes, num_nodes)
    else:
        _check_square(adjacency, "adjacency")
        if adjacency.shape[0] != num_nodes:
            raise ValueError(f"adjacency must be ({num_nodes}, {num_nodes}), got {tuple(adjacency.shape)}")
        a = adjacency.detach().float()
        theta = torch.maximum(a, a.t())
    return project_probabilities(theta + p_init)


def uniform_like(theta: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniform noise of ``theta``'s shape and dtype, drawn where ``generator`` lives (the CPU for
    the package's generators: the same numbers whatever ``--device``) and put beside ``theta``."""
    where = generator.device if generator is not None else theta.device
    return torch.rand(theta.shape, generator=generator, device=where, dtype=theta.dtype).to(theta.device)


def sample_graph(
    theta: torch.Tensor,
    generator: torch.Generator | None = None,
    straight_through: bool = True,
) -> torch.Tensor:
    r"""Sample a symmetric 0/1 adjacency :math:`A = E + E^\top`, :math:`E_{ij} \sim \mathrm{Ber}(\theta_{ij})`.

    With ``straight_through`` the sample carries the straight-through gradient of the paper
    (Sec. 3.2, the estimator of Eq. (9)): the forward value is the hard 0/1 sample, the backward
    pass treats :math:`\partial E / \partial \theta` as the identity, so
    :math:`\partial L/\partial\theta_{ij} = \partial L/\partial A_{ij} + \partial L/\partial A_{ji}`.
    The official code does the same by adding the gradient w.r.t. the sample to that w.r.t. the
    probabilities (``StcReverseHG._create_hypergradient``).

    Args:
        theta: (N, N) edge probabilities; only the strict upper triangle is read.
        generator: optional ``torch.Generator`` for the uniform noise.
        straight_through: attach the straight-through gradient (needs ``theta.requires_grad``
            to matter).
    Returns:
        (N, N) symmetric tensor with entries in {0, 1} and a zero diagonal.
    """
    _check_square(theta)
    u = uniform_like(theta, generator)
    if straight_through and theta.requires_grad:
        return _SymmetricStraightThrough.apply(theta, u)
    return _mirror((u < theta.detach()).to(theta.dtype).triu_(1))


class _SymmetricStraightThrough(torch.autograd.Function):
    r"""Forward: the mirrored hard sample; backward: :math:`(G + G^\top)` on the strict upper triangle.

    The same values and gradient as ``e = hard + (upper - upper.detach()); e + e.t()``, in one
    node instead of five: at 2,708 nodes every (N, N) temporary costs milliseconds, and a
    hypergradient draws ``tau + 1`` samples.
    """

    @staticmethod
    def forward(ctx, theta: torch.Tensor, u: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return _mirror((u < theta).to(theta.dtype).triu_(1))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        return _mirror(grad).triu_(1), None


def _mirror(m: torch.Tensor) -> torch.Tensor:
    # m + m.t() reads m with a stride of N: at N = 2,708 that is ~45 ms; a contiguous copy of the
    # transpose first is ~26 ms (measured on the book's 2-core machine).
    return m + m.t().contiguous()


def expected_adjacency(theta: torch.Tensor) -> torch.Tensor:
    r"""The mean graph :math:`\mathbb E[A] = \theta_{\triangle} + \theta_{\triangle}^\top` (N, N)."""
    _check_square(theta)
    upper = theta.detach().triu(1)
    return upper + upper.t()


def graph_statistics(theta: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    r"""How dense and how class-aligned an edge distribution (or a 0/1 graph) is.

    Reads the pairs :math:`i<j` of :math:`\max(\theta, \theta^\top)`, so the upper-triangular
    :math:`\theta` of LDS and a symmetric 0/1 adjacency are treated alike.

    Returns:
        ``nonzero_share``: share of the :math:`N(N-1)/2` pairs with a non-zero probability;
        ``expected_edges``: :math:`\sum_{i<j}\theta_{ij}`, the mean edge count of a sample;
        ``intra_class_mass``: the share of that mass on pairs with equal labels;
        ``chance_intra``: the share of pairs with equal labels, what a class-blind graph scores.
    """
    _check_square(theta)
    if y.ndim != 1 or y.shape[0] != theta.shape[0]:
        raise ValueError(f"y must be ({theta.shape[0]},) labels, got shape {tuple(y.shape)}")
    t = torch.maximum(theta.detach(), theta.detach().t()).triu(1)
    n = theta.shape[0]
    pairs = max(1, n * (n - 1) // 2)
    same = (y[:, None] == y[None, :]).triu(1)
    mass = float(t.sum())
    return {"nonzero_share": float((t > 0).sum()) / pairs, "expected_edges": mass,
            "intra_class_mass": float(t[same].sum()) / mass if mass > 0 else 0.0,
            "chance_intra": float(same.sum()) / pairs}


def drop_edges(adjacency: torch.Tensor, fraction: float, seed: int = 0) -> torch.Tensor:
    """Delete each undirected edge independently with probability ``fraction`` (the incomplete-graph setup).

    As ``graph_delete_connections`` in the official code: a keep/drop coin per upper-triangular
    pair, mirrored. Args: adjacency (N, N) symmetric 0/1; fraction in [0, 1]. Returns (N, N).
    """
    _check_square(adjacency, "adjacency")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    g = torch.Generator().manual_seed(int(seed))
    keep = (torch.rand(adjacency.shape, generator=g) >= fraction).float().triu(1)
    keep = keep + keep.t()
    return adjacency.float() * keep.to(adjacency.device)
