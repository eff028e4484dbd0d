import pytest
import torch

from companion import data
from companion.data.powerlaw import edge_homophily

SMALL = dict(num_nodes=200, num_val=20, num_test=20)


def test_shapes_seed_and_split():
    a, b = data.load("powerlaw_graph", **SMALL), data.load("powerlaw_graph", **SMALL)
    assert a.x.shape == (200, 100) and a.y.shape == (200,)
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.x, b.x)
    assert not torch.equal(a.edge_index, data.load("powerlaw_graph", seed=1, **SMALL).edge_index)
    m = a.train_mask.int() + a.val_mask.int() + a.test_mask.int()
    assert int(m.max()) == 1 and int(a.val_mask.sum()) == 20 and int(a.test_mask.sum()) == 20
    ei = a.edge_index  # undirected, no self-loops, no duplicates
    assert bool((ei[0] != ei[1]).all())
    assert (ei[0] * 200 + ei[1]).unique().numel() == ei.shape[1]
    assert set((ei[0] * 200 + ei[1]).tolist()) == set((ei[1] * 200 + ei[0]).tolist())


def test_degrees_are_skewed_and_labels_homophilous():
    g = data.load("powerlaw_graph", num_nodes=4000)
    deg = torch.bincount(g.edge_index[1], minlength=4000).float()
    assert deg.mean() == pytest.approx(8.0, rel=0.01)
    assert deg.max() > 20 * deg.mean()  # hubs
    top = deg.sort(descending=True).values
    assert top[:40].sum() > 0.1 * deg.sum()  # 1% of the nodes hold > 10% of the edge ends
    assert edge_homophily(g.edge_index, g.y) > 0.6
    sbm = data.load("sbm_features", num_nodes=4000)
    assert torch.bincount(sbm.edge_index[1]).max() < deg.max() / 5


def test_powerlaw_errors():
    with pytest.raises(ValueError, match="homophily"):
        data.load("powerlaw_graph", homophily=1.5, **SMALL)
    with pytest.raises(ValueError, match="a, b, c"):
        data.load("powerlaw_graph", a=0.9, b=0.2, **SMALL)
    with pytest.raises(ValueError, match="split"):
        data.load("powerlaw_graph", num_nodes=200)
