"""AdvGAN's generator G (input -> perturbation) and discriminator D (real vs perturbed image).

Shaped after the widely used PyTorch reimplementation (mathcbc/advGAN_pytorch): an encoder of
strided convolutions with instance norm, residual blocks, a transposed-convolution decoder and a
``tanh``; a small strided-convolution discriminator. Narrower than there (our choice) so that it
trains on a CPU in seconds. The ``tanh`` output is scaled by ``eps``, so every perturbation obeys
:math:`\|G(x)\|_\infty \le \epsilon` by construction (the reimplementation's "clipping trick").
"""

from __future__ import annotations

import torch
from torch import nn

from companion.advgan._checks import check_eps, check_images


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a skip connection: x + F(x); keeps (N, C, H, W)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.InstanceNorm2d(channels, affine=True), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Generator(nn.Module):
    r"""G: x (N, C, H, W) in [0, 1] -> perturbation :math:`\delta = \epsilon \tanh(\cdot)` of the same shape.

    H and W must be divisible by 4 (two stride-2 stages). ``width`` sets the channel count of the
    first stage (then 2x, 4x).
    """

    def __init__(self, channels: int = 1, eps: float = 0.3, width: int = 8, n_residual: int = 2) -> None:
        super().__init__()
        check_eps(eps)
        if width < 1 or n_residual < 0:
            raise ValueError(f"width must be >= 1 and n_residual >= 0, got {width}, {n_residual}")
        self.eps = float(eps)
        w = width

        def down(cin: int, cout: int, stride: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.InstanceNorm2d(cout, affine=True), nn.ReLU()]

        def up(cin: int, cout: int) -> list[nn.Module]:
            return [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.InstanceNorm2d(cout, affine=True), nn.ReLU()]

        self.net = nn.Sequential(
            *down(channels, w, 1), *down(w, 2 * w, 2), *down(2 * w, 4 * w, 2),
            *[ResidualBlock(4 * w) for _ in range(n_residual)],
            *up(4 * w, 2 * w), *up(2 * w, w),
            nn.Conv2d(w, channels, 3, padding=1), nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"Generator needs images (N, C, H, W) with H, W divisible by 4, got {tuple(x.shape)}")
        return self.eps * self.net(x)


class Discriminator(nn.Module):
    """D: image (N, C, H, W) -> one logit per image (N,); high means "looks like a real input"."""

    def __init__(self, channels: int = 1, width: int = 8) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width must be >= 1, got {width}")
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 4 * w, 3, 1, 1), nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def adversarial_example(generator: Generator, x: torch.Tensor) -> torch.Tensor:
    r"""The attack at test time, one forward pass: :math:`x_A = \mathrm{clip}_{[0,1]}(x + G(x))`.

    ``x`` (N, C, H, W) in [0, 1]; returns ``x_A`` of the same shape, with
    :math:`\|x_A - x\|_\infty \le \epsilon` (the generator's bound).
    """
    check_images(x)
    return (x + generator(x)).clamp(0, 1)


def init_weights(module: nn.Module) -> None:
    """DCGAN-style initialisation N(0, 0.02) (norm scales N(1, 0.02)), as in the reimplementation."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, (nn.BatchNorm2d, nn.InstanceNorm2d)) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
