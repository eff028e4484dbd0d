import pytest
import torch

from companion.snn import beta_from_tau, encode, lif_step, make_leaky, spike_fn, SpikingConvNet


def test_scratch_lif_matches_snntorch_leaky():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 5, generator=g) + 0.8
    lif = make_leaky(0.5, 1.0)
    mem_a = mem_b = torch.zeros(3, 5)
    for t in range(6):
        spk_a, mem_a = lif_step(x[t], mem_a, 0.5, 1.0)
        spk_b, mem_b = lif(x[t], mem_b)
        assert torch.equal(spk_a, spk_b) and torch.allclose(mem_a, mem_b)


def test_gradient_flows_through_surrogate():
    u = torch.tensor([0.9, 1.0, 1.5, -3.0], requires_grad=True)
    s = spike_fn(u - 1.0, slope=5.0)
    assert s.tolist() == [0.0, 0.0, 1.0, 0.0]
    s.sum().backward()
    want = 1.0 / (5.0 * (u.detach() - 1.0).abs() + 1.0) ** 2
    assert torch.allclose(u.grad, want) and (u.grad > 0).all()
    # and through a whole spiking conv net down to its first layer
    torch.manual_seed(0)
    net = SpikingConvNet(1, 8, 3, channels=(2, 4), hidden=6)
    net(encode(torch.rand(2, 1, 8, 8) * 3, 3)).sum().backward()
    assert net.conv1.weight.grad is not None and net.conv1.weight.grad.abs().sum() > 0


def test_encoders():
    x = torch.tensor([[0.0, 1.0, 0.5]])
    d = encode(x, 3)
    assert d.shape == (3, 1, 3) and torch.equal(d[2], x)
    r = encode(x.repeat(2000, 1), 4, "rate", torch.Generator().manual_seed(0))
    assert set(r.unique().tolist()) <= {0.0, 1.0}
    assert r[..., 0].sum() == 0 and r[..., 1].mean() == 1 and abs(r[..., 2].mean().item() - 0.5) < 0.02


def test_neuron_errors():
    with pytest.raises(ValueError, match="tau must be > 1"):
        beta_from_tau(1.0)
    assert beta_from_tau(2.0) == 0.5
    with pytest.raises(ValueError, match="same shape"):
        lif_step(torch.zeros(2), torch.zeros(3))
    with pytest.raises(ValueError, match="num_steps"):
        encode(torch.zeros(2), 0)
    with pytest.raises(ValueError, match="rate coding"):
        encode(torch.full((2,), 2.0), 2, "rate")
