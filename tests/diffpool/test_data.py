import networkx as nx
import numpy as np
import pytest
import torch

from companion import data
from companion.data.hier_graphs import CLASS_NAMES


def community_graph(g):
    c = g.community
    src, dst = g.edge_index
    between = c[src] != c[dst]
    cg = nx.Graph()
    cg.add_nodes_from(range(int(c.max()) + 1))
    cg.add_edges_from(zip(c[src][between].tolist(), c[dst][between].tolist()))
    return cg


def test_hier_graphs_is_seeded_and_balanced():
    a = data.load("hier_graphs", num_graphs=40, seed=3)
    b = data.load("hier_graphs", num_graphs=40, seed=3)
    c = data.load("hier_graphs", num_graphs=40, seed=4)
    assert all(torch.equal(x.edge_index, y.edge_index) and torch.equal(x.x, y.x) for x, y in zip(a, b))
    assert any(not torch.equal(x.edge_index, y.edge_index) for x, y in zip(a, c))
    assert np.bincount([int(g.y) for g in a]).tolist() == [10, 10, 10, 10]


def test_hier_graphs_class_is_the_community_level_shape():
    for g in data.load("hier_graphs", num_graphs=40, seed=0):
        cg = community_graph(g)
        k = cg.number_of_nodes()
        assert 4 <= k <= 6
        assert nx.is_connected(nx.Graph(g.edge_index.t().tolist()))
        name = CLASS_NAMES[int(g.y)]
        degrees = sorted(d for _, d in cg.degree())
        if name == "chain":
            assert nx.is_tree(cg) and degrees == [1, 1] + [2] * (k - 2)
        elif name == "ring":
            assert degrees == [2] * k and nx.is_connected(cg)
        elif name == "star":
            assert degrees == [1] * (k - 1) + [k - 1]
        else:
            assert cg.number_of_edges() == k * (k - 1) // 2


def test_hier_graphs_communities_dense_inside_sparse_between():
    inside, between = [], []
    for g in data.load("hier_graphs", num_graphs=20, seed=0):
        c = g.community
        same = (c[g.edge_index[0]] == c[g.edge_index[1]]).float()
        sizes = torch.bincount(c)
        inside.append(same.sum().item() / 2 / (sizes * (sizes - 1) / 2).sum().item())
        n = g.num_nodes
        between.append((1 - same).sum().item() / 2 / (n * (n - 1) / 2 - (sizes * (sizes - 1) / 2).sum().item()))
    assert np.mean(inside) > 0.6 and np.mean(between) < 0.1


def test_hier_graph_features_carry_no_label_information():
    graphs = data.load("hier_graphs", num_graphs=200, seed=0)
    # the mean feature vector per class is the same up to noise: colours are drawn at random
    means = torch.stack([torch.stack([g.x.mean(0) for g in graphs if int(g.y) == c]).mean(0) for c in range(4)])
    assert (means - means.mean(0)).abs().max() < 0.06


@pytest.mark.parametrize("kw, match", [({"num_graphs": 0}, "num_graphs"), ({"num_classes": 5}, "num_classes"),
                                       ({"communities": (2, 4)}, "communities"), ({"p_in": 1.5}, "p_in"),
                                       ({"num_colors": 3}, "num_colors")])
def test_hier_graphs_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        data.load("hier_graphs", **kw)


def test_tu_local_reads_a_tiny_tu_dataset(tmp_path, tiny_tu):
    tiny_tu(tmp_path / "TINY" / "raw")
    graphs = data.load("tu_local", dataset="TINY", root=tmp_path)
    assert [g.num_nodes for g in graphs] == [3, 2]
    assert [g.edge_index.shape[1] for g in graphs] == [6, 2]
    assert [int(g.y) for g in graphs] == [0, 1]  # PyG shifts labels to start at 0
    torch.testing.assert_close(graphs[0].x, torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))


def test_tu_local_constant_features_when_none(tmp_path, tiny_tu):
    raw = tiny_tu(tmp_path / "TINY" / "raw")
    (raw / "TINY_node_labels.txt").unlink()
    graphs = data.load("tu_local", dataset="TINY", root=tmp_path)
    assert graphs[1].x.shape == (2, 1) and graphs[1].x.sum() == 2


def test_tu_local_missing_files_say_what_to_download(tmp_path, monkeypatch):
    (tmp_path / "ENZYMES" / "raw").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="ENZYMES_A.txt.*chrsmrrs"):
        data.load("tu_local", dataset="ENZYMES", root=tmp_path)
    monkeypatch.delenv("COMPANION_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="COMPANION_DATA"):
        data.load("tu_local", dataset="ENZYMES")
    with pytest.raises(ValueError, match="TU dataset name"):
        data.load("tu_local", dataset="")
