import math

import pytest
import torch
from torch_geometric.nn import dense_diff_pool

from companion.diffpool import (COARSE_ADJ, coarse_adjacency, coarsen, diff_pool, entropy_loss, hard_assignment,
                                link_prediction_loss)


def random_batch(b=3, n=7, f=4, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, n, f, generator=g)
    adj = (torch.rand(b, n, n, generator=g) < 0.4).float()
    adj = torch.triu(adj, 1)
    adj = adj + adj.transpose(1, 2)
    s = torch.randn(b, n, c, generator=g)
    mask = torch.ones(b, n, dtype=torch.bool)
    mask[0, n - 2:] = False
    if b > 2:
        mask[2, n // 2:] = False
    adj = adj * mask[:, :, None] * mask[:, None, :]
    return x, adj, s, mask


@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("normalize", [False, True])
def test_diff_pool_equals_pyg(use_mask, normalize):
    for seed in range(3):
        x, adj, s, mask = random_batch(seed=seed)
        m = mask if use_mask else None
        ours = diff_pool(x, adj, s, m, normalize=normalize)
        ref = dense_diff_pool(x, adj, s, m, normalize=normalize)
        for a, b in zip(ours, ref):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_shapes_and_unbatched_input():
    x, adj, s, _ = random_batch(b=2, n=6, f=5, c=4)
    out, out_adj, link, ent = diff_pool(x, adj, s)
    assert out.shape == (2, 4, 5) and out_adj.shape == (2, 4, 4)
    assert link.dim() == 0 and ent.dim() == 0
    out1, adj1, _, _ = diff_pool(x[0], adj[0], s[0])
    torch.testing.assert_close(out1[0], out[0])
    torch.testing.assert_close(adj1[0], out_adj[0])


def test_hand_computed_two_node_case():
    # two nodes, hard assignment: node 0 -> cluster 0, node 1 -> cluster 1 (large logits)
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    adj = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    s = torch.tensor([[50.0, 0.0], [0.0, 50.0]])
    out, out_adj, link, ent = diff_pool(x, adj, s, normalize=False)
    torch.testing.assert_close(out[0], x)  # S = I: clusters are the nodes
    torch.testing.assert_close(out_adj[0], adj)
    # ||A - S S^T||_F = ||[[-1, 1], [1, -1]]||_F = 2
    torch.testing.assert_close(link, torch.tensor(2.0))
    assert ent.item() < 1e-6
    # uniform assignment to 2 clusters: each row has entropy log 2
    _, _, _, ent_uniform = diff_pool(x, adj, torch.zeros(2, 2))
    torch.testing.assert_close(ent_uniform, torch.log(torch.tensor(2.0)))


def test_coarse_graph_preserves_total_feature_and_edge_mass():
    # rows of S sum to 1, so sum over clusters of X' equals sum over nodes of Z, and likewise for A
    x, adj, s, mask = random_batch(seed=4)
    out, out_adj, _, _ = diff_pool(x, adj, s, mask)
    torch.testing.assert_close(out.sum(1), (x * mask[..., None]).sum(1), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out_adj.sum((1, 2)), adj.sum((1, 2)), rtol=1e-5, atol=1e-5)


def test_mask_ignores_padding_nodes():
    x, adj, s, _ = random_batch(b=1, n=5, seed=2)
    pad = 4
    xp = torch.cat([x, 100 * torch.randn(1, pad, x.shape[2])], dim=1)
    adjp = torch.zeros(1, 5 + pad, 5 + pad)
    adjp[:, :5, :5] = adj
    sp = torch.cat([s, 100 * torch.randn(1, pad, s.shape[2])], dim=1)
    mask = torch.zeros(1, 5 + pad, dtype=torch.bool)
    mask[:, :5] = True
    out, out_adj, link, ent = diff_pool(x, adj, s, normalize=False)
    outp, out_adjp, linkp, entp = diff_pool(xp, adjp, sp, mask, normalize=False)
    torch.testing.assert_close(outp, out)
    torch.testing.assert_close(out_adjp, out_adj)
    torch.testing.assert_close(linkp, link)
    # the entropy is a mean over all N rows (PyG's convention): the sum over rows is unchanged
    torch.testing.assert_close(entp * (5 + pad), ent * 5)


def test_separate_losses_match_diff_pool():
    x, adj, s, _ = random_batch(seed=5)
    soft = torch.softmax(s, -1)
    _, _, link, ent = diff_pool(x, adj, s)
    torch.testing.assert_close(link_prediction_loss(adj, soft), link)
    torch.testing.assert_close(entropy_loss(soft), ent)


@pytest.mark.parametrize(
    "shapes, match",
    [
        (((2, 5, 3), (2, 4, 4), (2, 5, 2)), "adj must have shape"),
        (((2, 5, 3), (2, 5, 5), (2, 4, 2)), "s must have shape"),
        (((2, 5, 3), (2, 5, 5), (2, 5, 0)), "at least one cluster"),
        (((2, 5, 3, 1), (2, 5, 5), (2, 5, 2)), "expected x"),
    ],
)
def test_mismatched_shapes_raise(shapes, match):
    x, adj, s = (torch.zeros(*sh) for sh in shapes)
    with pytest.raises(ValueError, match=match):
        diff_pool(x, adj, s)


def test_bad_mask_shape_raises():
    x, adj, s, _ = random_batch()
    with pytest.raises(ValueError, match="mask must have shape"):
        diff_pool(x, adj, s, torch.ones(3, 6, dtype=torch.bool))


def two_triangles():
    """Two triangles {0, 1, 2} and {3, 4, 5} joined by the one bridge 2-3, one planted community each."""
    adj = torch.zeros(6, 6)
    for u, v in ((0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5), (2, 3)):
        adj[u, v] = adj[v, u] = 1.0
    return adj, torch.tensor([0, 0, 0, 1, 1, 1])


def test_coarse_adjacency_on_two_triangles_by_hand():
    # S^T A S: 6 on each diagonal entry (3 edges, both directions), 1 for the bridge
    adj, community = two_triangles()
    s = hard_assignment(community.unsqueeze(0), 2)
    x, raw = coarsen(torch.eye(6).unsqueeze(0), adj.unsqueeze(0), s)
    torch.testing.assert_close(raw[0], torch.tensor([[6.0, 1.0], [1.0, 6.0]]))
    torch.testing.assert_close(x[0], s[0].T)  # X' = S^T I: which nodes each cluster holds
    _, no_diag = coarsen(torch.eye(6).unsqueeze(0), adj.unsqueeze(0), s, "no-diag")
    torch.testing.assert_close(no_diag[0], torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
    _, norm = coarsen(torch.eye(6).unsqueeze(0), adj.unsqueeze(0), s, "degree-norm")
    torch.testing.assert_close(norm[0], torch.tensor([[0.0, 1.0], [1.0, 0.0]]))  # degrees 1 and 1


def test_coarse_adjacency_no_diag_and_degree_norm_by_hand():
    a = torch.tensor([[4.0, 2.0, 0.0, 0.0],
                      [2.0, 6.0, 1.0, 0.0],
                      [0.0, 1.0, 5.0, 0.0],
                      [0.0, 0.0, 0.0, 3.0]])  # cluster 3: only inner edges (isolated once the diagonal goes)
    assert coarse_adjacency(a, "raw") is a
    no_diag = coarse_adjacency(a, "no-diag")
    torch.testing.assert_close(no_diag, a - torch.diag(torch.diagonal(a)))
    assert torch.diagonal(no_diag).abs().max() == 0 and torch.diagonal(a).min() > 0  # input untouched
    # degrees without the diagonal: 2, 3, 1, 0 -> entry (i, j) / sqrt(d_i d_j), the empty row stays 0
    expected = torch.tensor([[0.0, 2 / math.sqrt(6), 0.0, 0.0],
                             [2 / math.sqrt(6), 0.0, 1 / math.sqrt(3), 0.0],
                             [0.0, 1 / math.sqrt(3), 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0]])
    norm = coarse_adjacency(a.unsqueeze(0), "degree-norm")
    torch.testing.assert_close(norm[0], expected)
    torch.testing.assert_close(norm, norm.transpose(1, 2))


def test_degree_norm_matches_pyg_mincut_and_keeps_finite_gradients():
    from torch_geometric.nn import dense_mincut_pool

    x, adj, s, mask = random_batch(seed=6)
    out, out_adj = coarsen(x * mask[..., None], adj, torch.softmax(s, -1) * mask[..., None], "degree-norm")
    ref_out, ref_adj, _, _ = dense_mincut_pool(x, adj, s, mask)
    torch.testing.assert_close(out, ref_out, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out_adj, ref_adj, rtol=1e-5, atol=1e-6)
    a = torch.tensor([[[2.0, 0.0], [0.0, 3.0]]], requires_grad=True)  # both clusters isolated
    coarse_adjacency(a, "degree-norm").sum().backward()
    assert torch.isfinite(a.grad).all()


@pytest.mark.parametrize("how", COARSE_ADJ)
def test_diff_pool_coarse_adj_option(how):
    x, adj, s, mask = random_batch(seed=7)
    raw = diff_pool(x, adj, s, mask)
    ref = dense_diff_pool(x, adj, s, mask)
    torch.testing.assert_close(raw[1], ref[1], rtol=1e-5, atol=1e-6)  # default: PyG's (the paper's) A'
    out = diff_pool(x, adj, s, mask, coarse_adj=how)
    torch.testing.assert_close(out[1], coarse_adjacency(raw[1], how))
    for a, b in zip((out[0], *out[2:]), (raw[0], *raw[2:])):  # X' and the losses do not depend on it
        torch.testing.assert_close(a, b)
    if how != "raw":
        assert torch.diagonal(out[1], dim1=1, dim2=2).abs().max() == 0


def test_hard_assignment_is_the_one_hot_of_the_communities():
    community = torch.tensor([[0, 2, 2, 1, -1], [1, 1, 0, -1, -1]])
    s = hard_assignment(community, 3)
    assert s.shape == (2, 5, 3)
    assert s[0, :4].argmax(-1).tolist() == [0, 2, 2, 1] and s[1, :3].argmax(-1).tolist() == [1, 1, 0]
    torch.testing.assert_close(s.sum(-1), (community >= 0).float())  # one-hot rows, padding rows zero


@pytest.mark.parametrize("call, match", [
    (lambda: coarse_adjacency(torch.zeros(2, 3, 3), "sym"), "coarse_adj must be one of"),
    (lambda: coarse_adjacency(torch.zeros(2, 3, 4), "no-diag"), "square"),
    (lambda: diff_pool(*random_batch()[:3], coarse_adj="none"), "coarse_adj must be one of"),
    (lambda: hard_assignment(torch.tensor([[0, 3]]), 3), "community indices must be in"),
    (lambda: hard_assignment(torch.tensor([[0, -2]]), 3), "community indices must be in"),
    (lambda: hard_assignment(torch.tensor([[0.0, 1.0]]), 3), "integer tensor"),
    (lambda: hard_assignment(torch.tensor([[0, 1]]), 0), "num_clusters must be >= 1"),
])
def test_coarsening_helpers_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
