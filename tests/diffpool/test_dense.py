import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import to_dense_adj, to_dense_batch

from companion import data
from companion.diffpool import to_dense


def test_to_dense_matches_pyg_helpers():
    graphs = data.load("hier_graphs", num_graphs=6, seed=2)
    dense = to_dense(graphs)
    batch = Batch.from_data_list(graphs)
    x, mask = to_dense_batch(batch.x, batch.batch)
    adj = to_dense_adj(batch.edge_index, batch.batch)
    torch.testing.assert_close(dense.x, x)
    torch.testing.assert_close(dense.adj, adj)
    assert torch.equal(dense.mask, mask)
    assert dense.y.tolist() == [int(g.y) for g in graphs]
    torch.testing.assert_close(dense.adj, dense.adj.transpose(1, 2))


def test_to_dense_errors():
    g = Data(x=torch.ones(3, 2), edge_index=torch.tensor([[0, 1], [1, 0]]), y=torch.tensor([0]))
    with pytest.raises(ValueError, match="at least one graph"):
        to_dense([])
    with pytest.raises(ValueError, match="smaller than the largest graph"):
        to_dense([g], max_nodes=2)
    h = Data(x=torch.ones(3, 5), edge_index=g.edge_index, y=torch.tensor([1]))
    with pytest.raises(ValueError, match="same number of node features"):
        to_dense([g, h])


def test_indexing_keeps_fields_aligned():
    dense = to_dense(data.load("hier_graphs", num_graphs=6, seed=2))
    sub = dense[torch.tensor([4, 1])]
    assert len(sub) == 2 and sub.max_nodes == dense.max_nodes
    torch.testing.assert_close(sub.adj[0], dense.adj[4])
    assert sub.y.tolist() == [dense.y[4].item(), dense.y[1].item()]


def test_community_is_padded_and_follows_indexing():
    graphs = data.load("hier_graphs", num_graphs=6, seed=2)
    dense = to_dense(graphs, max_nodes=max(g.num_nodes for g in graphs) + 2)
    for i, g in enumerate(graphs):
        assert dense.community[i, :g.num_nodes].tolist() == g.community.tolist()
        assert (dense.community[i, g.num_nodes:] == -1).all()
    assert torch.equal(dense[torch.tensor([3, 0])].community, dense.community[[3, 0]])
    plain = [Data(x=g.x, edge_index=g.edge_index, y=g.y) for g in graphs]  # no planted communities
    assert to_dense(plain).community is None and to_dense(plain)[:2].community is None
    g = graphs[0]
    bad = Data(x=g.x, edge_index=g.edge_index, y=g.y, community=g.community[:-1])
    with pytest.raises(ValueError, match="community has"):
        to_dense([bad])
