import pytest
import torch

from companion.diffpool import DenseSAGELayer, GNNBlock, make_model
from companion.utils import torch_threads


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


def identity_layer(aggr: str, normalize: bool = False) -> DenseSAGELayer:
    """A 2 -> 2 layer computing h_i + agg_j h_j exactly (identity weights, no bias)."""
    layer = DenseSAGELayer(2, 2, aggr, normalize)
    with torch.no_grad():
        layer.lin_root.weight.copy_(torch.eye(2))
        layer.lin_root.bias.zero_()
        layer.lin_rel.weight.copy_(torch.eye(2))
    return layer


# a path 0 - 1 - 2 plus an isolated node 3; node 1 has two neighbours
ADJ = torch.tensor([[0., 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]])
X = torch.tensor([[1., 0], [0, 2], [3, 4], [5, 6]])


def test_mean_aggregation_is_the_neighbour_mean_by_hand():
    out = identity_layer("mean")(X[None], ADJ[None])[0]
    expected = torch.tensor([[1. + 0, 0 + 2],              # node 0: its one neighbour, node 1
                             [0 + (1 + 3) / 2, 2 + (0 + 4) / 2],  # node 1: mean of nodes 0 and 2
                             [3 + 0, 4 + 2],              # node 2: node 1
                             [5 + 0, 6 + 0]])             # node 3: no neighbour, nothing added
    torch.testing.assert_close(out, expected)


def test_sum_aggregation_differs_from_mean_where_a_node_has_several_neighbours():
    out_sum = identity_layer("sum")(X[None], ADJ[None])[0]
    out_mean = identity_layer("mean")(X[None], ADJ[None])[0]
    torch.testing.assert_close(out_sum[1], torch.tensor([0 + 1 + 3, 2 + 0 + 4.]))
    torch.testing.assert_close(out_sum[[0, 2, 3]], out_mean[[0, 2, 3]])  # one neighbour or none: the same
    assert not torch.allclose(out_sum[1], out_mean[1])


def test_mean_on_a_weighted_coarse_graph_is_the_weighted_mean():
    # a coarse adjacency with a heavy self-loop: the mean is dominated by the node itself
    adj = torch.tensor([[20., 1], [1, 20]])
    x = torch.tensor([[1., 0], [0, 1]])
    out = identity_layer("mean")(x[None], adj[None])[0]
    torch.testing.assert_close(out[0], x[0] + (20 * x[0] + x[1]) / 21)


def test_l2_normalize_gives_unit_rows():
    out = identity_layer("mean", normalize=True)(X[None], ADJ[None])[0]
    torch.testing.assert_close(out.norm(dim=-1), torch.ones(4))


@pytest.mark.parametrize("kind", ["flat-mean", "diffpool", "diffpool-det"])
def test_every_layer_of_a_model_uses_the_asked_aggregation(kind):
    torch.manual_seed(0)
    model = make_model(kind, 6, 4, 30, hidden=8, aggr="mean", normalize=True)
    layers = [m for m in model.modules() if isinstance(m, DenseSAGELayer)]
    assert layers and all(m.aggr == "mean" and m.normalize for m in layers)
    default = make_model(kind, 6, 4, 30, hidden=8)
    assert all(m.aggr == "sum" and not m.normalize for m in default.modules() if isinstance(m, DenseSAGELayer))


def test_mean_and_sum_models_give_different_outputs():
    x, adj = X[None].repeat(2, 1, 1), ADJ[None].repeat(2, 1, 1)
    out = {}
    for aggr in ("sum", "mean"):
        torch.manual_seed(0)
        out[aggr] = GNNBlock(2, 4, 4, num_layers=2, aggr=aggr).eval()(x, adj)
    assert not torch.allclose(out["sum"], out["mean"])
