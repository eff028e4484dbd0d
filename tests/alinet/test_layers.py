import pytest
import torch

from companion.alinet import AliNet, DistantAttention, GCNAlign, gate


def test_gate_hand_computed():
    h1 = torch.tensor([[1.0, -1.0]])
    h2 = torch.tensor([[0.5, 2.0]])
    k, b = torch.eye(2), torch.tensor([0.0, -10.0])
    g = torch.relu(torch.tanh(torch.tensor([0.5, -8.0])))  # second gate closed
    want = torch.tanh(g * h2 + (1 - g) * h1)
    assert torch.allclose(gate(h1, h2, k, b), want)
    assert torch.allclose(gate(h1, h2, k, b)[0, 1], torch.tanh(torch.tensor(-1.0)))
    with pytest.raises(ValueError, match="same shape"):
        gate(h1, torch.zeros(2, 2), k, b)


def test_attention_rows_sum_to_one_and_uniform_variant():
    torch.manual_seed(0)
    two_hop = torch.tensor([[0, 0, 0, 1, 1], [1, 2, 3, 2, 3]])
    x = torch.randn(4, 6)
    for use in (True, False):
        layer = DistantAttention(6, 5, use_attention=use)
        alpha = layer.alpha(x, two_hop)
        sums = torch.zeros(4).index_add_(0, two_hop[0], alpha)
        assert torch.allclose(sums[:2], torch.ones(2), atol=1e-6)
        out = layer(x, two_hop)
        assert out.shape == (4, 5) and torch.all(out[2:] == 0)  # no distant neighbours, no message
    assert torch.allclose(DistantAttention(6, 5, use_attention=False).alpha(x, two_hop)[:3], torch.full((3,), 1 / 3))


def test_model_shapes_and_errors():
    adj = torch.eye(6).to_sparse()
    two_hop = torch.tensor([[0, 1], [2, 3]])
    assert AliNet(6, (8, 7, 5))(adj, two_hop).shape == (6, 8 + 7 + 5)
    assert GCNAlign(6, (8, 7, 5))(adj).shape == (6, 5)
    with pytest.raises(ValueError, match="dims"):
        AliNet(6, (8,))
    with pytest.raises(ValueError, match="num_entities"):
        GCNAlign(1, (4, 4))
