"""Target classifiers f: three small MNIST models in the spirit of the paper's models A, B and C.

The paper attacks three MNIST classifiers (its models A, B, C); their exact layers are not in the
sources we could read, so these are our choice, sized to train in seconds on a CPU:

- ``"A"``: a CNN, conv 16 -> pool -> conv 32 -> pool -> FC 128 -> 10;
- ``"B"``: a multilayer perceptron 256 -> 256 -> 10 (a different model family, for transfer);
- ``"C"``: a wider CNN with two convolutions per stage and dropout, after the target model of the
  widely used PyTorch reimplementation (conv 32, 32, pool, 64, 64, pool, FC 200, 200), narrowed.

All take images (N, 1, H, W) with H, W divisible by 4 (28x28 MNIST, 8x8 digits) and return logits
(N, n_classes).
"""

from __future__ import annotations

import torch
from torch import nn

TARGET_NAMES = ("A", "B", "C")


def target_model(name: str = "A", image_shape: tuple[int, int, int] = (1, 28, 28), n_classes: int = 10) -> nn.Module:
    """A fresh (untrained) target classifier ``name`` in ``TARGET_NAMES`` for images of ``image_shape``."""
    if name not in TARGET_NAMES:
        raise ValueError(f"name must be one of {TARGET_NAMES}, got {name!r}")
    if len(image_shape) != 3 or image_shape[1] % 4 or image_shape[2] % 4:
        raise ValueError(f"image_shape must be (C, H, W) with H and W divisible by 4, got {image_shape}")
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    c, h, w = image_shape
    flat = (h // 4) * (w // 4)
    if name == "A":
        return nn.Sequential(
            nn.Conv2d(c, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * flat, 128), nn.ReLU(), nn.Linear(128, n_classes),
        )
    if name == "B":
        return nn.Sequential(
            nn.Flatten(), nn.Linear(c * h * w, 256), nn.ReLU(),
            nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, n_classes),
        )
    return nn.Sequential(
        nn.Conv2d(c, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * flat, 200), nn.ReLU(), nn.Dropout(0.5), nn.Linear(200, n_classes),
    )
