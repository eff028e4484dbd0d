"""Data splits of the official code: ``data.py::UCI`` and ``divide_mask``."""

from __future__ import annotations

import numpy as np
import torch

# (n_train, n_val, n_es) totals, not per class, from lds.py::main
UCI_SIZES = {"wine": (10, 10, 10), "cancer": (10, 10, 10), "digits": (50, 50, 50)}


def uci_split(y: torch.Tensor | np.ndarray, n_train: int, n_val: int, n_es: int, seed: int) -> dict[str, torch.Tensor]:
    """Three nested stratified ``train_test_split`` calls, exactly as ``UCI.load``.

    (train+val+es) vs test, then (train+val) vs es, then train vs val, each with
    ``random_state=seed`` and ``stratify``. Sizes are totals. Returns index tensors
    ``train``, ``val``, ``es``, ``test`` (test = every remaining point).
    """
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    n = len(y)
    if min(n_train, n_val, n_es) < 1 or n_train + n_val + n_es >= n:
        raise ValueError(f"need n_train, n_val, n_es >= 1 with a sum below N={n}, got {n_train}, {n_val}, {n_es}")
    idx = np.arange(n)
    rest, test, y_rest, _ = train_test_split(idx, y, random_state=seed, train_size=n_train + n_val + n_es,
                                             test_size=n - n_train - n_val - n_es, stratify=y)
    rest, es, y_rest, _ = train_test_split(rest, y_rest, random_state=seed, train_size=n_train + n_val,
                                           test_size=n_es, stratify=y_rest)
    train, val, _, _ = train_test_split(rest, y_rest, random_state=seed, train_size=n_train, test_size=n_val,
                                        stratify=y_rest)
    return {k: torch.as_tensor(np.sort(v), dtype=torch.long) for k, v in
            (("train", train), ("val", val), ("es", es), ("test", test))}


def divide_validation(val_idx: torch.Tensor, seed: int, share: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """Split a validation set into (val, es) at random, as ``divide_mask(0.5)`` (a coin per node)."""
    if not 0.0 < share < 1.0:
        raise ValueError(f"share must be in (0, 1), got {share}")
    rnd = np.random.RandomState(seed)
    coin = rnd.choice([True, False], size=len(val_idx), p=[share, 1.0 - share])
    coin = torch.as_tensor(coin)
    return val_idx[~coin], val_idx[coin]
