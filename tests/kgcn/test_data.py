import numpy as np
import pytest

from companion import data
from companion.data.kg_recsys import RELATIONS


def test_kg_recsys_layout_and_determinism():
    d = data.load("kg_recsys", n_users=40, n_items=60, seed=3)
    assert d.ratings.shape[1] == 3 and d.kg.shape[1] == 3
    assert d.ratings[:, 0].max() < 40 and d.ratings[:, 1].max() < 60
    assert set(np.unique(d.ratings[:, 2])) == {0, 1}
    assert d.ratings[:, 2].mean() == pytest.approx(0.5)  # one negative per positive
    assert d.kg[:, 0].max() < 60 and d.kg[:, 2].min() >= 60  # movie -> attribute triples
    assert d.n_relations == len(RELATIONS) and d.kg[:, 1].max() < d.n_relations
    assert d.extra["user_relation_weights"].shape == (40, len(RELATIONS))
    again = data.load("kg_recsys", n_users=40, n_items=60, seed=3)
    assert np.array_equal(d.ratings, again.ratings) and np.array_equal(d.kg, again.kg)


def test_density_knob_controls_interactions_and_positives_follow_utility():
    sparse = data.load("kg_recsys", n_users=60, n_items=100, density=0.02)
    dense = data.load("kg_recsys", n_users=60, n_items=100, density=0.2)
    assert len(dense.ratings) > 3 * len(sparse.ratings)
    r, util = dense.ratings, dense.extra["utility"]
    pos, neg = r[r[:, 2] == 1], r[r[:, 2] == 0]
    assert util[pos[:, 0], pos[:, 1]].mean() > util[neg[:, 0], neg[:, 1]].mean() + 0.3
    with pytest.raises(ValueError, match="density"):
        data.load("kg_recsys", density=0.0)


def test_kgcn_files_loader_reads_the_official_format(tmp_path):
    (tmp_path / "ratings_final.txt").write_text("0\t0\t1\n0\t2\t0\n1\t1\t1\n1\t0\t0\n")
    (tmp_path / "kg_final.txt").write_text("0\t0\t3\n1\t1\t3\n2\t0\t4\n")
    d = data.load("kgcn_files", root=tmp_path)
    assert (d.n_users, d.n_items, d.n_entities, d.n_relations) == (2, 3, 5, 2)
    assert d.ratings.tolist()[0] == [0, 0, 1] and d.kg.tolist()[2] == [2, 0, 4]


def test_kgcn_files_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="ratings_final.txt is missing.*preprocess.py"):
        data.load("kgcn_files", root=tmp_path)
    (tmp_path / "ratings_final.txt").write_text("0\t0\t3\n")
    (tmp_path / "kg_final.txt").write_text("0\t0\t1\n")
    with pytest.raises(ValueError, match="must be 0 or 1"):
        data.load("kgcn_files", root=tmp_path)
