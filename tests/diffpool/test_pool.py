import pytest
import torch
from torch_geometric.nn import dense_diff_pool

from companion.diffpool import diff_pool, entropy_loss, link_prediction_loss


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
