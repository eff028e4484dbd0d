
import pytest
import torch

from companion import data
from companion.data.planetoid_local import raw_file_names


def test_sbm_features_plants_homophily_and_split():
    d = data.load("sbm_features", num_nodes=2000, num_val=300, num_test=600, seed=1)
    assert d.x.shape == (2000, 140) and d.y.shape == (2000,)
    src, dst = d.edge_index
    assert (src != dst).all()
    homophily = (d.y[src] == d.y[dst]).float().mean().item()
    assert homophily == pytest.approx(0.8, abs=0.03)
    assert d.edge_index.shape[1] / 2000 == pytest.approx(4.0, abs=0.2)
    assert int(d.train_mask.sum()) == 140 and int(d.val_mask.sum()) == 300 and int(d.test_mask.sum()) == 600
    assert not (d.train_mask & d.val_mask).any() and not (d.val_mask & d.test_mask).any()
    # class-correlated features: a node's own topic words fire more often
    words = 140 // 7
    own = torch.stack([d.x[i, d.y[i] * words:(d.y[i] + 1) * words].mean() for i in range(200)]).mean()
    assert own > 2 * d.x.mean()


def test_sbm_features_is_seeded_and_scales_sparsely():
    a, b = data.load("sbm_features", num_nodes=500, num_val=50, num_test=100, seed=3), \
        data.load("sbm_features", num_nodes=500, num_val=50, num_test=100, seed=3)
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.x, b.x)
    big = data.load("sbm_features", num_nodes=50_000, num_features=16, seed=0)  # no N x N anywhere
    assert big.edge_index.shape[1] > 150_000
    with pytest.raises(ValueError, match="homophily"):
        data.load("sbm_features", homophily=1.5)
    with pytest.raises(ValueError, match="split needs"):
        data.load("sbm_features", num_nodes=100)


def test_planetoid_local_reads_files_in_kipf_format(tmp_path, tiny_planetoid):
    tiny_planetoid(tmp_path / "Cora" / "raw")
    g = data.load("planetoid", dataset="cora", root=tmp_path)
    assert g.num_nodes == 530 and g.x.shape == (530, 5)
    assert int(g.train_mask.sum()) == 4 and int(g.val_mask.sum()) == 500 and int(g.test_mask.sum()) == 10


def test_planetoid_local_missing_files_say_what_to_download(tmp_path):
    (tmp_path / "Cora" / "raw").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="ind.cora.x"):
        data.load("planetoid", root=tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.load("planetoid", root=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="dataset must be"):
        data.load("planetoid", dataset="ogbn", root=tmp_path)
    assert raw_file_names("Cora")[0] == "ind.cora.x"
