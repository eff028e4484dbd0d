"""Step 3b: a codebook of human-like superpixels (k-means) and the matching probability."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Codebook:
    """k-means codewords of standardised superpixel features of people who carry nothing.

    ``words`` (n_words, F) are in standardised units (``(f - mean) / std``); ``sigma`` sets how
    fast the matching probability falls with the distance to the nearest codeword.
    """

    words: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    sigma: float

    def distances(self, features: np.ndarray) -> np.ndarray:
        """(K,) Euclidean distance of each (standardised) feature row to its nearest codeword."""
        z = (np.asarray(features, float) - self.mean) / self.std
        d2 = ((z[:, None, :] - self.words[None, :, :]) ** 2).sum(-1)
        return np.sqrt(d2.min(axis=1))


def learn_codebook(features: np.ndarray, n_words: int = 48, match_quantile: float = 0.99,
                   seed: int = 0) -> Codebook:
    """k-means codebook of (N, F) superpixel features from non-carrying people.

    ``sigma`` is chosen so that a superpixel at the ``match_quantile`` of the training
    superpixels' nearest-codeword distances ``d_q`` gets matching probability 0.5:
    ``sigma = d_q / sqrt(2 ln 2)`` (our choice; the paper's matching rule is not known here).
    """
    from sklearn.cluster import KMeans

    features = np.asarray(features, float)
    if features.ndim != 2 or len(features) == 0:
        raise ValueError(f"features must be a non-empty (N, F) array, got shape {features.shape}")
    if not 1 <= n_words <= len(features):
        raise ValueError(f"n_words must be in [1, N={len(features)}], got {n_words}")
    if not 0.0 < match_quantile < 1.0:
        raise ValueError(f"match_quantile must be in (0, 1), got {match_quantile}")
    mean = features.mean(0)
    std = features.std(0) + 1e-6
    z = (features - mean) / std
    km = KMeans(n_clusters=n_words, n_init=3, random_state=seed).fit(z)
    book = Codebook(km.cluster_centers_, mean, std, 1.0)
    d_q = float(np.quantile(book.distances(features), match_quantile))
    book.sigma = max(d_q, 1e-6) / np.sqrt(2.0 * np.log(2.0))
    return book


def human_likeness(features: np.ndarray, codebook: Codebook) -> np.ndarray:
    """Matching probability of each superpixel to the codebook, (K,) in (0, 1]:
    ``P_h = exp(-d^2 / (2 sigma^2))`` with ``d`` the distance to the nearest codeword."""
    features = np.asarray(features, float)
    if features.ndim != 2 or features.shape[1] != codebook.words.shape[1]:
        raise ValueError(f"features must have shape (K, {codebook.words.shape[1]}), got {features.shape}")
    if len(features) == 0:
        return np.zeros(0)
    d = codebook.distances(features)
    return np.exp(-(d**2) / (2.0 * codebook.sigma**2))
