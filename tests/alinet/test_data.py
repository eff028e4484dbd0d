import pytest
import torch

from companion import data


def test_kg_pair_views_from_real_umls():
    iso = data.load("kg_pair", base="umls", noise=0.0, seed=0)
    assert iso.num_entities1 == iso.num_entities2 == 135
    assert len(iso.triples1) == len(iso.triples2) == 6529
    assert len(iso.seed_pairs) == 40 and len(iso.test_pairs) == 95  # 30 / 70 split
    assert iso.num_relations2 != iso.num_relations1  # schema heterogeneity even without noise
    # counterparts have the same degree when noise = 0 (isomorphic views)
    deg1 = torch.bincount(iso.triples1[:, [0, 2]].flatten(), minlength=iso.num_entities1)
    deg2 = torch.bincount(iso.triples2[:, [0, 2]].flatten(), minlength=iso.num_entities2)
    assert torch.equal(deg1[iso.test_pairs[:, 0]], deg2[iso.test_pairs[:, 1]])
    noisy = data.load("kg_pair", base="umls", noise=0.5, seed=0)
    assert noisy.num_entities1 > 135 and noisy.num_entities2 > 135  # view-only intermediates
    assert (noisy.test_pairs[:, 0] < noisy.num_entities1).all()


def test_kg_pair_is_seeded_and_validates():
    a, b = data.load("kg_pair", base="kinships", noise=0.3, seed=3), data.load("kg_pair", base="kinships", noise=0.3, seed=3)
    assert torch.equal(a.triples2, b.triples2) and torch.equal(a.seed_pairs, b.seed_pairs)
    with pytest.raises(ValueError, match="noise"):
        data.load("kg_pair", noise=1.5)
    with pytest.raises(ValueError, match="base"):
        data.load("kg_pair", base="wordnet")


def test_synthetic_pair_small():
    p = data.load("kg_pair_synthetic", num_counterparts=500, noise=0.2, seed=1)
    assert len(p.seed_pairs) + len(p.test_pairs) <= 500
    assert abs(len(p.seed_pairs) / (len(p.seed_pairs) + len(p.test_pairs)) - 0.3) < 0.01


def _write_jape(folder):
    folder.mkdir(parents=True)
    (folder / "ent_ids_1").write_text("0\thttp://zh.dbpedia.org/A\n1\thttp://zh.dbpedia.org/B\n2\thttp://zh.dbpedia.org/C\n")
    (folder / "ent_ids_2").write_text("10\thttp://dbpedia.org/A\n11\thttp://dbpedia.org/B\n12\thttp://dbpedia.org/C\n")
    (folder / "triples_1").write_text("0\t100\t1\n1\t101\t2\n")
    (folder / "triples_2").write_text("10\t200\t11\n11\t200\t12\n12\t201\t10\n")
    (folder / "ref_ent_ids").write_text("0\t10\n1\t11\n2\t12\n")


def test_dbp15k_loader_on_tiny_jape_sample(tmp_path):
    _write_jape(tmp_path / "zh_en")
    p = data.load("dbp15k", pair="zh_en", root=tmp_path, seed_ratio=0.34)
    assert (p.num_entities1, p.num_entities2, p.num_relations1, p.num_relations2) == (3, 3, 2, 2)
    assert len(p.seed_pairs) == 1 and len(p.test_pairs) == 2
    all_pairs = torch.cat([p.seed_pairs, p.test_pairs])
    assert sorted(map(tuple, all_pairs.tolist())) == [(0, 0), (1, 1), (2, 2)]
    assert p.triples2.tolist() == [[0, 0, 1], [1, 0, 2], [2, 1, 0]]


def test_dbp15k_openea_layout_and_errors(tmp_path, monkeypatch):
    f = tmp_path / "fr_en"
    f.mkdir()
    (f / "rel_triples_1").write_text("a\tr\tb\nb\tr\tc\n")
    (f / "rel_triples_2").write_text("A\ts\tB\nB\ts\tC\n")
    (f / "ent_links").write_text("a\tA\nb\tB\nc\tC\n")
    p = data.load("dbp15k", pair="fr_en", root=tmp_path)
    assert p.num_entities1 == 3 and len(p.seed_pairs) + len(p.test_pairs) == 3
    with pytest.raises(FileNotFoundError, match="download|Download"):
        data.load("dbp15k", pair="ja_en", root=tmp_path)
    monkeypatch.delenv("COMPANION_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="COMPANION_DATA"):
        data.load("dbp15k")
    with pytest.raises(ValueError, match="pair"):
        data.load("dbp15k", pair="de_en", root=tmp_path)
    (f / "ent_links").write_text("a\tZ\n")
    with pytest.raises(ValueError, match="unknown"):
        data.load("dbp15k", pair="fr_en", root=tmp_path)
