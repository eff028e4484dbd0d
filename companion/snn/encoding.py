"""Input encoders: turn a static input into T time steps for a spiking network."""

from __future__ import annotations

import torch

ENCODINGS = ("direct", "rate")


def encode(x: torch.Tensor, num_steps: int, method: str = "direct",
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Repeat ``x`` (B, ...) over ``num_steps`` time steps: returns (T, B, ...).

    ``direct``: the analog input is presented at every step (the first layer acts as the encoder;
    what the paper's lab uses for CIFAR-10). ``rate``: each value in [0, 1] is the probability of
    a Bernoulli spike at each step (Poisson-like rate coding).
    """
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if method not in ENCODINGS:
        raise ValueError(f"method must be one of {ENCODINGS}, got {method!r}")
    if method == "direct":
        return x.unsqueeze(0).expand(num_steps, *x.shape)
    if x.min() < 0 or x.max() > 1:
        raise ValueError("rate coding needs inputs in [0, 1] (spike probabilities)")
    probs = x.unsqueeze(0).expand(num_steps, *x.shape)
    if generator is not None and generator.device != probs.device:
        # a CPU generator cannot drive a GPU draw: draw on the CPU (the CPU run's bits) and move
        return torch.bernoulli(probs.cpu(), generator=generator).to(probs.device)
    return torch.bernoulli(probs, generator=generator)
