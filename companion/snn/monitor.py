"""The spike-count monitor and the activity metric.

Spiking activity, the paper's cost proxy, is measured here two ways: the *firing rate*
(spikes per neuron per time step, in [0, 1]) and the *spikes per sample* (all spikes an input
causes in all LIF layers over the T steps). Energy on neuromorphic hardware grows with the
second (every spike triggers synaptic operations downstream).
"""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn


class SpikeMonitor:
    """Records the spikes of every snntorch ``Leaky`` layer of ``model`` through forward hooks.

    After a forward pass over T steps, ``monitor.spikes[name]`` is a (T, B, *shape) tensor (it keeps
    its graph, so an activity regularizer can back-propagate through it). ``reset()`` clears the
    record; use as a context manager to remove the hooks at the end.
    """

    def __init__(self, model: nn.Module):
        import snntorch as snn

        self._steps: dict[str, list[torch.Tensor]] = {}
        self._hooks = []
        for name, module in model.named_modules():
            if isinstance(module, snn.Leaky):
                self._steps[name] = []
                self._hooks.append(module.register_forward_hook(self._hook(name)))
        if not self._hooks:
            raise ValueError("the model has no snntorch Leaky layer to monitor")

    def _hook(self, name: str):
        def record(_module, _inputs, output):
            spk = output[0] if isinstance(output, tuple) else output
            self._steps[name].append(spk)
        return record

    def reset(self) -> None:
        for steps in self._steps.values():
            steps.clear()

    @property
    def spikes(self) -> dict[str, torch.Tensor]:
        """Layer name -> (T, B, *shape) spikes of the last forward pass(es) since ``reset``."""
        return {name: torch.stack(steps) for name, steps in self._steps.items() if steps}

    def counts(self) -> dict[str, torch.Tensor]:
        """Layer name -> (B, N) spike count of each neuron over the time steps."""
        return spike_counts(self.spikes)

    def remove(self) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []

    def __enter__(self) -> "SpikeMonitor":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def spike_counts(spikes: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per layer, sum (T, B, *shape) spikes over time: (B, N) counts per neuron (N = prod(shape))."""
    out = {}
    for name, s in spikes.items():
        if s.ndim < 3:
            raise ValueError(f"layer {name!r}: spikes must be (T, B, ...), got shape {tuple(s.shape)}")
        out[name] = s.sum(0).flatten(1)
    return out


@torch.no_grad()
def spiking_activity(spikes: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """Activity of a batch from (T, B, *shape) spike records.

    Returns ``rate`` (spikes per neuron per time step over all layers), ``spikes_per_sample``
    (all spikes of one input, mean over the batch) and ``rate/<layer>`` for each layer.
    """
    if not spikes:
        raise ValueError("no spikes recorded: run a forward pass with the monitor attached")
    total, slots, out = 0.0, 0, {}
    batch = None
    for name, s in spikes.items():
        if s.ndim < 3:
            raise ValueError(f"layer {name!r}: spikes must be (T, B, ...), got shape {tuple(s.shape)}")
        batch = s.shape[1]
        n = float(s.sum())
        out[f"rate/{name}"] = n / s.numel()
        total += n
        slots += s.numel()
    out["rate"] = total / slots
    out["spikes_per_sample"] = total / batch
    return out
