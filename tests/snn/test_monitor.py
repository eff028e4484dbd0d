import pytest
import torch
from torch import nn

from companion.snn import SpikeMonitor, SpikingMLP, encode, make_leaky, spiking_activity


class OneLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.lif = make_leaky(beta=0.5, threshold=1.0)

    def forward(self, x):  # x: (T, B, N) currents fed straight into the neurons
        mem = torch.zeros_like(x[0])
        for t in range(x.shape[0]):
            _, mem = self.lif(x[t], mem)
        return mem


def test_monitor_counts_exactly_on_hand_built_input():
    # one neuron, constant current 1.5, beta 0.5, threshold 1, reset by subtraction (delayed):
    # U: 1.5 (spike), 0.5*1.5+1.5-1 = 1.25 (spike), 0.625+1.5-1 = 1.125 (spike), 0.5625+0.5 = 1.0625 (spike)
    # a current 0.4: U = 0.4, 0.6, 0.7, 0.75: never crosses 1
    x = torch.tensor([1.5, 0.4, 1.0]).repeat(4, 1, 1)  # (T=4, B=1, N=3)
    model = OneLayer()
    with SpikeMonitor(model) as mon:
        model(x)
        counts = mon.counts()["lif"]
        act = spiking_activity(mon.spikes)
    # current 1.0: U = 1.0 (not > 1), 1.5 (spike), 0.75+1-1 = 0.75, 1.375 (spike) -> 2
    assert counts.tolist() == [[4.0, 0.0, 2.0]]
    assert act["rate"] == pytest.approx(6 / 12)
    assert act["spikes_per_sample"] == pytest.approx(6.0)


def test_monitor_shapes_and_reset():
    torch.manual_seed(0)
    model = SpikingMLP(12, 3, hidden=(8, 5), readout="spike")  # the ablation: a LIF output layer
    mon = SpikeMonitor(model)
    logits = model(encode(torch.rand(6, 12), 4))
    assert logits.shape == (6, 3) and logits.min() >= 0 and logits.max() <= 4
    assert {k: tuple(v.shape) for k, v in mon.spikes.items()} == {"lifs.0": (4, 6, 8), "lifs.1": (4, 6, 5), "lifs.2": (4, 6, 3)}
    # the logits are the output layer's spike counts
    assert torch.equal(mon.counts()["lifs.2"], logits)
    mon.reset()
    assert mon.spikes == {}
    mon.remove()
    model(encode(torch.rand(2, 12), 4))
    assert mon.spikes == {}
    # the default (authors') readout has no LIF output layer: only the hidden layers are monitored
    with SpikeMonitor(SpikingMLP(12, 3, hidden=(8, 5))) as mon2:
        assert list(mon2._steps) == ["lifs.0", "lifs.1"]


def test_monitor_needs_spiking_layers():
    with pytest.raises(ValueError, match="no snntorch Leaky"):
        SpikeMonitor(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="no spikes"):
        spiking_activity({})
