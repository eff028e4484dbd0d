"""Checked exercises of chapter 1 (``exercises.check("ch01.<key>", fn)``)."""

from __future__ import annotations

import torch

from companion.exercises import exercise
from companion.snn.losses import logits_regularization as _logits_reg
from companion.snn.monitor import spiking_activity


def _logits_cases():
    g = torch.Generator().manual_seed(1)
    for shape, p in (((4, 10), 2), ((7, 3), 1), ((1, 5), 2)):
        yield (torch.randint(0, 5, shape, generator=g).float() - 1.0,), {"p": p}


@exercise("ch01.logits_reg", _logits_cases)
def logits_regularization(logits: torch.Tensor, p: int = 2) -> torch.Tensor:
    """Reference: mean over batch and classes of |z|^p."""
    return _logits_reg(logits, p)


def _spike_cases():
    g = torch.Generator().manual_seed(2)
    for t, b in ((4, 3), (2, 5)):
        spikes = {"lifs.0": (torch.rand(t, b, 6, generator=g) < 0.3).float(),
                  "lifs.1": (torch.rand(t, b, 4, generator=g) < 0.5).float()}
        yield (spikes,), {}


@exercise("ch01.layer_rates", _spike_cases)
def layer_rates(spikes: dict[str, torch.Tensor]) -> dict[str, float]:
    """Reference: spikes per neuron per time step of each layer, from (T, B, N) records."""
    act = spiking_activity(spikes)
    return {name: act[f"rate/{name}"] for name in spikes}


def _temperature_cases():
    rows = [{"temperature": 1.0, "accuracy": 0.915, "rate": 0.33},
            {"temperature": 2.0, "accuracy": 0.910, "rate": 0.30},
            {"temperature": 4.0, "accuracy": 0.890, "rate": 0.25},
            {"temperature": 8.0, "accuracy": 0.905, "rate": 0.31}]
    yield (rows, 0.912), {}
    yield (rows, 0.912), {"tolerance": 0.03}
    yield (rows[:1], 0.90), {}
    # a row exactly at plain_accuracy - tolerance counts as within it (accuracies of 64 validation
    # examples, exact in binary): it is the sparsest such row, so > instead of >=, or a relative
    # tolerance, picks another temperature
    on_the_line = [{"temperature": 1.0, "accuracy": 58 / 64, "rate": 0.40},
                   {"temperature": 2.0, "accuracy": 56 / 64, "rate": 0.20},
                   {"temperature": 4.0, "accuracy": 54 / 64, "rate": 0.10},
                   {"temperature": 8.0, "accuracy": 57 / 64, "rate": 0.30}]
    yield (on_the_line, 58 / 64), {"tolerance": 2 / 64}


@exercise("ch01.choose_temperature", _temperature_cases)
def choose_temperature(rows: list[dict], plain_accuracy: float, tolerance: float = 0.01) -> float:
    """Reference: the temperature with the lowest ``rate`` among rows whose accuracy is at least
    ``plain_accuracy - tolerance`` (accuracy within ``tolerance`` of the plain student)."""
    ok = [r for r in rows if r["accuracy"] >= plain_accuracy - tolerance - 1e-12]
    if not ok:
        raise ValueError("no temperature keeps the accuracy within the tolerance")
    return float(min(ok, key=lambda r: r["rate"])["temperature"])
