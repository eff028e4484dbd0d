"""Plotting helpers shared by the chapters (matplotlib only)."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_history(history: Mapping[str, Sequence[float]], keys: Sequence[str] | None = None, ax=None, title: str = ""):
    """Line plot of per-epoch values (a ``History.values`` dict), one line per key."""
    ax = ax or plt.subplots(figsize=(5, 3))[1]
    for key in keys or list(history):
        ax.plot(np.arange(1, len(history[key]) + 1), history[key], label=key)
    ax.set_xlabel("epoch")
    ax.legend()
    ax.set_title(title)
    return ax


def bar_with_errors(labels: Sequence[str], means: Sequence[float], stds: Sequence[float] | None = None,
                    ax=None, ylabel: str = "", title: str = ""):
    """Bar chart of means with optional std error bars (for seed-averaged tables)."""
    ax = ax or plt.subplots(figsize=(6, 3))[1]
    x = np.arange(len(labels))
    ax.bar(x, means, yerr=stds, capsize=4, color="tab:blue", alpha=0.8)
    ax.set_xticks(x, labels, rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def image_grid(images: Sequence[np.ndarray], titles: Sequence[str] | None = None, ncols: int = 6,
               cmap: str | None = "gray", size: float = 1.8):
    """Show a list of images (H, W) or (H, W, 3) in a grid; returns the figure."""
    n = len(images)
    if n == 0:
        raise ValueError("image_grid needs at least one image")
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, min(ncols, n), figsize=(size * min(ncols, n), size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap if np.ndim(images[i]) == 2 else None)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    return fig
