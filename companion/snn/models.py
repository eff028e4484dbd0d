"""Spiking students (MLP and a small convolutional net, snntorch ``Leaky``) and their conventional twins.

A spiking model takes an encoded input (T, B, ...) and returns logits (B, C). Hidden layers are
LIF layers (``companion.snn.neurons.make_leaky``); a :class:`~companion.snn.monitor.SpikeMonitor`
records their spikes. The readout follows the authors' framework by default
(``readout="mean"``): qualia-plugin-snn's ``SCNN`` ends in a plain ``Linear`` with no neuron
after it, and the SpikingJelly multi-step wrapper averages its output over time
(``model(x).sum(0) / T``), so the logits are real-valued. ``readout="spike"`` (the chapter's
ablation) puts a LIF neuron on the output layer: the logits are then the output spike counts,
integers in [0, T]. A teacher is a conventional network with ReLU units and no time axis
(the paper distils a conventional network into a spiking one).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from companion.snn.neurons import DEFAULT_SLOPE, DEFAULT_THRESHOLD, make_leaky


READOUTS = ("mean", "spike")


def _check_readout(readout: str) -> None:
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")


def _check_common(num_classes: int, hidden: Sequence[int]) -> None:
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    if len(hidden) == 0 or any(h < 1 for h in hidden):
        raise ValueError(f"hidden must be a non-empty list of positive sizes, got {list(hidden)}")


class SpikingMLP(nn.Module):
    """Linear -> LIF hidden layers, then a Linear readout (B, C).

    ``readout="mean"`` (default, the authors' framework): logits = the readout's output averaged
    over the T steps, :math:`z = \frac1T\sum_t W h_t + b`. ``readout="spike"``: a LIF neuron on
    the readout, logits = output spike counts in [0, T].
    Input (T, B, in_features) or (T, B, *image) (flattened per step).
    """

    def __init__(self, in_features: int, num_classes: int = 10, hidden: Sequence[int] = (256, 128),
                 beta: float = 0.5, threshold: float = DEFAULT_THRESHOLD, slope: float = DEFAULT_SLOPE,
                 readout: str = "mean"):
        super().__init__()
        _check_common(num_classes, hidden)
        _check_readout(readout)
        self.readout = readout
        if in_features < 1:
            raise ValueError(f"in_features must be >= 1, got {in_features}")
        sizes = [in_features, *hidden, num_classes]
        self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        n_lif = len(sizes) - 1 if readout == "spike" else len(sizes) - 2
        self.lifs = nn.ModuleList(make_leaky(beta, threshold, slope) for _ in range(n_lif))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim < 3:
            raise ValueError(f"expected an encoded input (T, B, ...), got shape {tuple(x.shape)}")
        x = x.flatten(2)
        mems = [None] * len(self.lifs)
        total = 0.0
        for t in range(x.shape[0]):
            h = x[t]
            for i, fc in enumerate(self.fcs):
                h = fc(h)
                if i < len(self.lifs):
                    h, mems[i] = self.lifs[i](h, torch.zeros_like(h) if mems[i] is None else mems[i])
            total = total + h
        return total if self.readout == "spike" else total / x.shape[0]


class SpikingConvNet(nn.Module):
    """Two conv (3x3) -> LIF -> max-pool(2) blocks, a LIF hidden layer and a Linear readout.

    Input (T, B, C_in, H, W) with H and W divisible by 4; logits (B, C) as in :class:`SpikingMLP`
    (time-averaged readout by default, output spike counts with ``readout="spike"``).
    """

    def __init__(self, in_channels: int = 1, image_size: int = 28, num_classes: int = 10,
                 channels: Sequence[int] = (8, 16), hidden: int = 128,
                 beta: float = 0.5, threshold: float = DEFAULT_THRESHOLD, slope: float = DEFAULT_SLOPE,
                 readout: str = "mean"):
        super().__init__()
        _check_common(num_classes, [*channels, hidden])
        _check_readout(readout)
        self.readout = readout
        if image_size % 4:
            raise ValueError(f"image_size must be divisible by 4 (two 2x2 poolings), got {image_size}")
        c1, c2 = channels
        self.conv1 = nn.Conv2d(in_channels, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc1 = nn.Linear(c2 * (image_size // 4) ** 2, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)
        self.lifs = nn.ModuleList(make_leaky(beta, threshold, slope)
                                  for _ in range(4 if readout == "spike" else 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 5:
            raise ValueError(f"expected an encoded image batch (T, B, C, H, W), got shape {tuple(x.shape)}")
        mems = [None] * len(self.lifs)
        count = 0.0

        def lif(i, cur):
            spk, mems[i] = self.lifs[i](cur, torch.zeros_like(cur) if mems[i] is None else mems[i])
            return spk

        for t in range(x.shape[0]):
            h = nn.functional.max_pool2d(lif(0, self.conv1(x[t])), 2)
            h = nn.functional.max_pool2d(lif(1, self.conv2(h)), 2)
            h = lif(2, self.fc1(h.flatten(1)))
            out = self.fc2(h)
            count = count + (lif(3, out) if self.readout == "spike" else out)
        return count if self.readout == "spike" else count / x.shape[0]


class MLP(nn.Module):
    """The conventional teacher of :class:`SpikingMLP`: same layer sizes, ReLU, logits (B, C)."""

    def __init__(self, in_features: int, num_classes: int = 10, hidden: Sequence[int] = (256, 128)):
        super().__init__()
        _check_common(num_classes, hidden)
        sizes = [in_features, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(nn.Flatten(), *layers, nn.Linear(sizes[-1], num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvNet(nn.Module):
    """The conventional teacher of :class:`SpikingConvNet` (same shapes, ReLU)."""

    def __init__(self, in_channels: int = 1, image_size: int = 28, num_classes: int = 10,
                 channels: Sequence[int] = (8, 16), hidden: int = 128):
        super().__init__()
        _check_common(num_classes, [*channels, hidden])
        c1, c2 = channels
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(c2 * (image_size // 4) ** 2, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


ARCHITECTURES = ("mlp", "conv")


def build_model(arch: str, input_shape: Sequence[int], num_classes: int, spiking: bool = True,
                **kwargs) -> nn.Module:
    """A spiking student (``spiking=True``) or its conventional teacher for inputs of ``input_shape``.

    ``input_shape`` is one sample's shape without batch: (F,) or (C, H, W).
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")
    if not spiking and "readout" in kwargs:
        raise ValueError("readout is a spiking student's option; a conventional teacher has plain logits")
    shape = tuple(int(s) for s in input_shape)
    if arch == "mlp":
        feats = int(torch.tensor(shape).prod())
        return (SpikingMLP if spiking else MLP)(feats, num_classes, **kwargs)
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"arch 'conv' needs square images (C, H, H), got input_shape {shape}")
    return (SpikingConvNet if spiking else ConvNet)(shape[0], shape[1], num_classes, **kwargs)
