import pytest
import torch

from companion import data


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="unknown dataset 'nope'.*digits"):
        data.load("nope")


def test_every_source_kind_is_valid():
    for info in data.available().values():
        assert info.source in ("package", "generator", "local")
        assert info.description


# small keyword settings so the whole registry loads fast; datasets not named load with defaults
SMALL = {
    "ba2motifs": {"num_graphs": 4},
    "ba_shapes": {"base_nodes": 30, "num_motifs": 4},
    "hier_graphs": {"num_graphs": 8},
    "kg_pair_synthetic": {"num_counterparts": 300},
    "kg_recsys": {"n_users": 20, "n_items": 30},
    "powerlaw_graph": {"num_nodes": 200, "num_val": 20, "num_test": 20},
    "tracking_sequences": {"names": ["cup_scale"], "n_frames": 3},
    "walkers": {"n_frames": 4},
}
# loaders that read a reader's local folder are tested in their chapter's tests
LOCAL = {name for name, info in data.available().items() if info.source == "local"}


@pytest.mark.parametrize("name", sorted(set(data.available()) - LOCAL))
def test_every_offline_loader_runs_without_network(name, no_network):
    out = data.load(name, **SMALL.get(name, {}))
    assert out is not None


def test_digits_shapes_and_range():
    d = data.load("digits", images=True)
    assert d["x"].shape == (1797, 1, 8, 8)
    assert 0.0 <= d["x"].min() and d["x"].max() <= 1.0
    assert set(d["y"].tolist()) == set(range(10))


def test_mnist5k_split_is_fixed_and_disjoint():
    a = data.load("mnist5k", seed=0)
    b = data.load("mnist5k", seed=0)
    assert a["x_train"].shape == (4000, 1, 28, 28) and a["x_test"].shape == (1000, 1, 28, 28)
    assert torch.equal(a["y_test"], b["y_test"])
    # no test image is also a training image
    tr = {hash(x.numpy().tobytes()) for x in a["x_train"]}
    assert sum(hash(x.numpy().tobytes()) in tr for x in a["x_test"]) <= 5  # MNIST has a few exact duplicates
    with pytest.raises(ValueError, match="n_train"):
        data.load("mnist5k", n_train=0)


def test_karate_is_the_real_graph():
    g = data.load("karate")
    assert g.num_nodes == 34 and g.edge_index.shape[1] == 2 * 78
    assert int(g.y.sum()) == 17  # 17 members left with the officer


def test_ba2motifs_masks_mark_the_motif():
    graphs = data.load("ba2motifs", num_graphs=10, seed=3)
    assert sorted(int(g.y) for g in graphs) == [0] * 5 + [1] * 5
    for g in graphs:
        assert int(g.node_mask.sum()) == 5
        # house has 6 undirected edges, the five-cycle 5; both stored in both directions
        assert int(g.edge_mask.sum()) == (12 if int(g.y) == 0 else 10)
    with pytest.raises(ValueError, match="num_graphs"):
        data.load("ba2motifs", num_graphs=1)


def test_missing_optional_package_names_it():
    with pytest.raises(ImportError, match="pip install not-a-real-package"):
        data.require("not_a_real_package", "not-a-real-package")


def test_local_root_explains_what_to_download(tmp_path, monkeypatch):
    monkeypatch.delenv("COMPANION_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="download X"):
        data.local_root(None, "otb", "download X")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.local_root(tmp_path / "missing", "otb", "download X")
    assert data.local_root(tmp_path, "otb", "") == tmp_path
