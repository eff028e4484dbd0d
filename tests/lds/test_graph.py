import pytest
import torch

from companion.lds import (drop_edges, expected_adjacency, graph_statistics, init_edge_probabilities,
                           project_probabilities, sample_graph, upper_triangular_mask)


def test_sampling_frequency_matches_probabilities():
    g = torch.Generator().manual_seed(0)
    theta = torch.rand(6, 6, generator=g).triu(1)
    samples = torch.stack([sample_graph(theta, g, straight_through=False) for _ in range(2000)])
    freq = samples.mean(0)
    # 2000 draws: the standard error is at most 0.012, so 0.05 is > 4 sigma
    assert torch.allclose(freq, expected_adjacency(theta), atol=0.05)


def test_sample_is_symmetric_binary_without_self_loops():
    theta = torch.full((10, 10), 0.5)
    a = sample_graph(theta, torch.Generator().manual_seed(1))
    assert torch.equal(a, a.t())
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert a.diagonal().abs().sum() == 0


def test_straight_through_gradient_is_identity_on_upper_triangle():
    theta = torch.full((4, 4), 0.3).triu(1).requires_grad_()
    w = torch.arange(16.0).reshape(4, 4)
    (sample_graph(theta, torch.Generator().manual_seed(2)) * w).sum().backward()
    assert torch.allclose(theta.grad, (w + w.t()).triu(1))


def test_projection_keeps_probabilities_in_unit_interval():
    theta = torch.randn(7, 7) * 3
    p = project_probabilities(theta)
    assert p.min() >= 0 and p.max() <= 1
    assert torch.equal(p, p.triu(1))
    assert torch.equal(project_probabilities(p), p)  # a projection is idempotent


def test_init_from_graph_and_constant():
    a = torch.zeros(3, 3)
    a[2, 0] = 1  # only below the diagonal: must still count as the edge {0, 2}
    theta = init_edge_probabilities(3, a, p_init=0.1)
    assert theta[0, 2] == 1.0 and theta[0, 1] == pytest.approx(0.1) and theta[2, 0] == 0


def test_drop_edges_keeps_the_expected_share():
    n = 200
    a = (torch.rand(n, n, generator=torch.Generator().manual_seed(0)) < 0.2).float().triu(1)
    a = a + a.t()
    kept = drop_edges(a, 0.75, seed=3)
    assert torch.equal(kept, kept.t()) and (kept <= a).all()
    assert kept.sum() / a.sum() == pytest.approx(0.25, abs=0.02)


def test_value_errors_on_bad_shapes():
    with pytest.raises(ValueError, match="square"):
        sample_graph(torch.rand(3, 4))
    with pytest.raises(ValueError, match="square"):
        project_probabilities(torch.rand(5))
    with pytest.raises(ValueError, match="p_init"):
        init_edge_probabilities(3, p_init=1.5)
    with pytest.raises(ValueError, match="adjacency"):
        init_edge_probabilities(3, torch.zeros(4, 4))
    with pytest.raises(ValueError, match="fraction"):
        drop_edges(torch.zeros(3, 3), -0.1)
    with pytest.raises(ValueError, match="num_nodes"):
        upper_triangular_mask(0)


def test_graph_statistics_on_a_known_graph():
    y = torch.tensor([0, 0, 1, 1])
    theta = torch.zeros(4, 4)
    theta[0, 1] = 1.0  # same class
    theta[0, 2] = 0.5  # different classes
    s = graph_statistics(theta, y)
    assert s["nonzero_share"] == pytest.approx(2 / 6) and s["expected_edges"] == pytest.approx(1.5)
    assert s["intra_class_mass"] == pytest.approx(1 / 1.5) and s["chance_intra"] == pytest.approx(2 / 6)
    # a symmetric 0/1 adjacency reads the same as its upper triangle
    assert graph_statistics(expected_adjacency(theta), y) == s
    with pytest.raises(ValueError, match="labels"):
        graph_statistics(theta, torch.zeros(3, dtype=torch.long))
