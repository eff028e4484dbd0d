import pytest
import torch

from companion.alinet import AliNet, DistantAttention, GCNAlign, GCNLayer, Gate, batch_standardize, gate


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


def test_batch_standardize_modes():
    g = torch.Generator().manual_seed(0)
    x = 3.0 + 2.0 * torch.randn(50, 4, generator=g)
    z = batch_standardize(x, "train", training=True)
    assert torch.allclose(z.mean(0), torch.zeros(4), atol=1e-5)
    assert torch.allclose(z.var(0, unbiased=False), torch.ones(4), atol=1e-2)
    assert torch.equal(batch_standardize(x, "train", training=False), x)  # the official eval-time identity
    assert torch.allclose(batch_standardize(x, "always", training=False), z)
    assert torch.equal(batch_standardize(x, "off", training=True), x)
    with pytest.raises(ValueError, match="batch_norm"):
        GCNLayer(4, 3, batch_norm="sometimes")


def test_gcn_layer_batch_norm_removes_shift_in_training_only():
    torch.manual_seed(0)
    layer = GCNLayer(5, 3)
    adj = torch.eye(6).to_sparse()
    x = torch.randn(6, 5)
    layer.train()
    assert torch.allclose(layer(x, adj), layer(x + 7.0, adj), atol=1e-4)
    layer.eval()
    assert not torch.allclose(layer(x, adj), layer(x + 7.0, adj), atol=1e-2)
    assert torch.allclose(layer(x, adj), x @ layer.weight + layer.bias, atol=1e-6)


def test_gate_module_equals_function_in_eval_and_uses_dropout_in_training():
    torch.manual_seed(0)
    h1, h2 = torch.randn(30, 8), torch.randn(30, 8)
    mod = Gate(8, dropout=0.5).eval()
    assert torch.allclose(mod(h1, h2), gate(h1, h2, mod.kernel, mod.bias), atol=1e-6)
    mod.train()
    a, b = mod(h1, h2), mod(h1, h2)
    assert not torch.allclose(a, b)  # a fresh dropout mask per call
    still = Gate(8, dropout=0.0).train()
    assert torch.allclose(still(h1, h2), still(h1, h2))
    # training: both inputs are standardised first, so shifting them changes nothing
    assert torch.allclose(still(h1, h2), still(h1 + 3.0, h2 - 2.0), atol=1e-4)


def test_attention_rows_sum_to_one_and_uniform_variant():
    torch.manual_seed(0)
    two_hop = torch.tensor([[0, 0, 0, 1, 1], [1, 2, 3, 2, 3]])
    x = torch.randn(4, 6)
    for use in (True, False):
        layer = DistantAttention(6, 5, use_attention=use).eval()
        alpha = layer.alpha(x, two_hop)
        sums = torch.zeros(4).index_add_(0, two_hop[0], alpha)
        assert torch.allclose(sums[:2], torch.ones(2), atol=1e-6)
        out = layer(x, two_hop)
        assert out.shape == (4, 5) and torch.all(out[2:] == 0)  # no distant neighbours, no message
    assert torch.allclose(DistantAttention(6, 5, use_attention=False).alpha(x, two_hop)[:3], torch.full((3,), 1 / 3))


def test_attention_dropout_changes_weights_only_in_training():
    torch.manual_seed(1)
    two_hop = torch.tensor([[0, 0, 0, 1, 1], [1, 2, 3, 2, 3]])
    x = torch.randn(4, 6)
    layer = DistantAttention(6, 5, dropout=0.5)
    layer.train()
    draws = [layer.alpha(x, two_hop) for _ in range(8)]
    assert any(not torch.allclose(draws[0], d) for d in draws[1:])
    for d in draws:  # still a softmax per row
        assert torch.allclose(torch.zeros(4).index_add_(0, two_hop[0], d)[:2], torch.ones(2), atol=1e-6)
    layer.eval()
    assert torch.allclose(layer.alpha(x, two_hop), layer.alpha(x, two_hop))
    with pytest.raises(ValueError, match="dropout"):
        DistantAttention(6, 5, dropout=1.0)


def test_gcn_align_diagonal_layers_by_hand():
    torch.manual_seed(0)
    m = GCNAlign(5, dim=3, num_layers=2)
    assert all(torch.equal(w, torch.ones(3)) for w in m.weights)
    a = torch.rand(5, 5)
    x = torch.nn.functional.normalize(m.embedding, dim=1)
    want = a @ torch.relu(a @ x)
    assert torch.allclose(m(a.to_sparse()), want, atol=1e-6)
    assert m.embedding.abs().max() <= 2.0 / 5 ** 0.5 + 1e-6  # truncated normal, std 1/sqrt(N)


def test_model_shapes_and_errors():
    adj = torch.eye(6).to_sparse()
    two_hop = torch.tensor([[0, 1], [2, 3]])
    assert AliNet(6, (8, 7, 5))(adj, two_hop).shape == (6, 8 + 7 + 5)
    assert [h.shape[1] for h in AliNet(6, (8, 7, 5)).layer_outputs(adj, two_hop)] == [8, 7, 5]
    assert GCNAlign(6, 8, 2)(adj).shape == (6, 8)
    with pytest.raises(ValueError, match="dims"):
        AliNet(6, (8,))
    with pytest.raises(ValueError, match="num_entities"):
        GCNAlign(1, 4)
    with pytest.raises(ValueError, match="num_layers"):
        GCNAlign(6, 4, 0)
