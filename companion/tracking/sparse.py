"""Sparse coding of features over a dictionary: batched (F)ISTA in torch, and scikit-learn's Lasso / OMP.

All solve, for each row x of X, :math:`\\min_a \\tfrac12\\|x - D a\\|_2^2 + \\lambda\\|a\\|_1`
(OMP instead keeps at most ``k`` non-zeros). D holds one atom per column: (d, K).
"""

from __future__ import annotations

import numpy as np
import torch


def _check(x: torch.Tensor, d: torch.Tensor) -> None:
    if x.ndim < 2 or d.ndim < 2 or x.shape[-1] != d.shape[-2] or x.shape[:-2] != d.shape[:-2]:
        raise ValueError(f"expected X (..., N, d) and D (..., d, K) with matching d and batch shape, "
                         f"got {tuple(x.shape)} and {tuple(d.shape)}")


def ista(x: torch.Tensor, d: torch.Tensor, lam: float = 0.01, iters: int = 100,
         nonneg: bool = True) -> torch.Tensor:
    """Batched FISTA (Beck & Teboulle, 2009) for all rows of ``x`` at once: codes (N, K).

    Leading batch dimensions code each batch over its own dictionary: X (B, N, d), D (B, d, K)
    gives (B, N, K) (the tracker codes every patch position over that position's atoms).
    ``nonneg=True`` keeps codes non-negative, as trackers that code candidates with target
    templates do (a candidate is a positive mix of templates).
    """
    _check(x, d)
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    dt = d.transpose(-1, -2)
    gram = dt @ d
    # 1 / Lipschitz constant of the gradient; the Frobenius norm bounds the spectral one and is cheap
    step = 1.0 / (torch.linalg.matrix_norm(gram, ord="fro")[..., None, None] + 1e-12)
    dx = x @ d
    a = torch.zeros(*x.shape[:-1], d.shape[-1], dtype=x.dtype)
    z, t = a, 1.0
    for _ in range(iters):
        g = z - step * (z @ gram - dx)
        a_next = torch.sign(g) * torch.clamp(g.abs() - step * lam, min=0)
        if nonneg:
            a_next = a_next.clamp(min=0)
        t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2
        z = a_next + ((t - 1) / t_next) * (a_next - a)
        a, t = a_next, t_next
    return a


def lasso_sklearn(x: np.ndarray, d: np.ndarray, lam: float = 0.01, nonneg: bool = True) -> np.ndarray:
    """The same problem with scikit-learn's coordinate-descent Lasso, one row at a time: (N, K).

    scikit-learn scales the squared error by 1/(2 n_samples), where the samples are the d feature
    dimensions here, so its ``alpha`` is ``lam / d``.
    """
    from sklearn.linear_model import Lasso

    x, d = np.asarray(x, np.float64), np.asarray(d, np.float64)
    if x.ndim != 2 or d.ndim != 2 or x.shape[1] != d.shape[0]:
        raise ValueError(f"expected X (N, d) and D (d, K) with matching d, got {x.shape} and {d.shape}")
    model = Lasso(alpha=lam / d.shape[0], fit_intercept=False, positive=nonneg, max_iter=20000, tol=1e-7)
    return np.stack([model.fit(d, row).coef_.copy() for row in x])


def omp_sklearn(x: np.ndarray, d: np.ndarray, k: int = 5) -> np.ndarray:
    """Orthogonal matching pursuit with at most ``k`` atoms per row (scikit-learn): (N, K)."""
    from sklearn.linear_model import orthogonal_mp

    if k < 1 or k > np.shape(d)[1]:
        raise ValueError(f"k must be in 1..{np.shape(d)[1]}, got {k}")
    return np.asarray(orthogonal_mp(np.asarray(d, np.float64), np.asarray(x, np.float64).T, n_nonzero_coefs=k)).T.reshape(len(x), -1)


def omp_step(x: np.ndarray, d: np.ndarray, support: list[int]) -> tuple[list[int], np.ndarray, np.ndarray]:
    """One OMP iteration for one signal x (d,): add the atom most correlated with the residual,
    then refit the coefficients on the support by least squares.

    Returns the new support, its coefficients and the new residual.
    """
    x, d = np.asarray(x, np.float64), np.asarray(d, np.float64)
    if support:
        coef = np.linalg.lstsq(d[:, support], x, rcond=None)[0]
        residual = x - d[:, support] @ coef
    else:
        residual = x
    corr = np.abs(d.T @ residual)
    corr[support] = -np.inf
    support = [*support, int(np.argmax(corr))]
    coef = np.linalg.lstsq(d[:, support], x, rcond=None)[0]
    return support, coef, x - d[:, support] @ coef


def reconstruction_error(x: torch.Tensor, d: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """Squared reconstruction error of every row: (..., N)."""
    return ((x - codes @ d.transpose(-1, -2)) ** 2).sum(dim=-1)
