import pytest
import torch

from companion.lds import gcn_forward, init_gcn_weights, normalize_adjacency, propagate


def test_normalize_adjacency_by_hand():
    a = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    # nodes 0, 1 have degree 2 with the self-loop, node 2 degree 1
    want = torch.tensor([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    assert torch.allclose(normalize_adjacency(a), want)


def test_propagate_equals_dense_normalised_product():
    g = torch.Generator().manual_seed(0)
    a = (torch.rand(9, 9, generator=g) < 0.3).float().triu(1)
    a = a + a.t()
    h = torch.randn(9, 4, generator=g)
    assert torch.allclose(propagate(a, h), normalize_adjacency(a) @ h, atol=1e-6)


def test_gcn_forward_shapes_and_no_graph_is_mlp():
    g = torch.Generator().manual_seed(0)
    w = init_gcn_weights(5, 3, 16, g)
    x = torch.randn(12, 5, generator=g)
    out = gcn_forward(w, x, torch.zeros(12, 12))
    assert out.shape == (12, 3)
    assert torch.allclose(out, torch.relu(x @ w[0]) @ w[1], atol=1e-6)


def test_gcn_value_errors():
    w = init_gcn_weights(5, 3)
    with pytest.raises(ValueError, match="adjacency"):
        gcn_forward(w, torch.zeros(4, 5), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="weights"):
        gcn_forward(w, torch.zeros(4, 6), torch.zeros(4, 4))
    with pytest.raises(ValueError, match="square"):
        normalize_adjacency(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=">= 1"):
        init_gcn_weights(0, 3)
