"""Input checks shared by the public functions of :mod:`companion.advgan` (scikit-learn style)."""

from __future__ import annotations

import torch


def check_images(x: torch.Tensor, name: str = "x") -> None:
    """Images must be a float tensor (N, C, H, W) with every pixel in [0, 1]."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of images (N, C, H, W), got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got dtype {x.dtype}")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"{name} must hold pixels in [0, 1], got values in [{x.min().item():.3g}, {x.max().item():.3g}]"
        )


def check_labels(x: torch.Tensor, y: torch.Tensor, name: str = "y") -> None:
    """Labels must be an integer vector (N,) matching the batch of ``x``."""
    if not isinstance(y, torch.Tensor) or y.ndim != 1 or y.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"{name} must be an integer tensor of shape (N,), got {getattr(y, 'shape', y)!r}")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"{name} has {y.shape[0]} labels but x has {x.shape[0]} images: shapes must match")


def check_eps(eps: float, name: str = "eps") -> None:
    if not (0 < float(eps) <= 1):
        raise ValueError(f"{name} must be in (0, 1] (an l_inf budget on pixels in [0, 1]), got {eps}")


def check_same_shape(a: torch.Tensor, b: torch.Tensor, names: str = "x, x_adv") -> None:
    if a.shape != b.shape:
        raise ValueError(f"{names} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def check_kappa(kappa: float, name: str = "kappa") -> None:
    """The C&W confidence margin must be a finite number >= 0."""
    if isinstance(kappa, bool) or not isinstance(kappa, (int, float)) or not 0 <= kappa < float("inf"):
        raise ValueError(f"{name} (the C&W confidence margin on logits) must be a finite number >= 0, got {kappa!r}")
