"""Corrupt, truncated and empty Planetoid / TU files: a ValueError naming the file and its format."""

import pickle
import re

import numpy as np
import pytest
import scipy.sparse as sp

from companion import data


def write_planetoid(raw, n_train=4, n_all=520, n_test=10, f=5):
    """Kipf's eight files for a tiny 'cora' (the format PyG's Planetoid reads)."""
    rng = np.random.default_rng(0)
    raw.mkdir(parents=True)
    onehot = lambda k: np.eye(2)[rng.integers(0, 2, k)]  # noqa: E731
    items = {"x": sp.csr_matrix(rng.random((n_train, f))), "y": onehot(n_train),
             "allx": sp.csr_matrix(rng.random((n_all, f))), "ally": onehot(n_all),
             "tx": sp.csr_matrix(rng.random((n_test, f))), "ty": onehot(n_test),
             "graph": {i: [(i + 1) % (n_all + n_test)] for i in range(n_all + n_test)}}
    for key, value in items.items():
        (raw / f"ind.cora.{key}").write_bytes(pickle.dumps(value))
    (raw / "ind.cora.test.index").write_text("\n".join(str(n_all + i) for i in range(n_test)) + "\n")
    return raw


def write_tu(raw, name="TINY"):
    """Two graphs in the TU text format: a triangle (label 1) and a 2-node path (label 2)."""
    raw.mkdir(parents=True)
    edges = [(1, 2), (2, 1), (2, 3), (3, 2), (1, 3), (3, 1), (4, 5), (5, 4)]
    (raw / f"{name}_A.txt").write_text("".join(f"{a}, {b}\n" for a, b in edges))
    (raw / f"{name}_graph_indicator.txt").write_text("1\n1\n1\n2\n2\n")
    (raw / f"{name}_graph_labels.txt").write_text("1\n2\n")
    (raw / f"{name}_node_labels.txt").write_text("0\n1\n0\n1\n1\n")
    return raw


def truncate(path, keep=0.5):
    b = path.read_bytes()
    path.write_bytes(b[: int(len(b) * keep)])


PLANETOID_CASES = {
    "empty x": ("ind.cora.x", lambda p: p.write_bytes(b""), "empty file"),
    "truncated allx": ("ind.cora.allx", truncate, "not a readable pickle"),
    "text instead of pickle": ("ind.cora.ty", lambda p: p.write_text("hello\n"), "not a readable pickle"),
    "wrong object": ("ind.cora.y", lambda p: p.write_bytes(pickle.dumps("labels")), "holds a str"),
    "rows disagree": ("ind.cora.ally", lambda p: p.write_bytes(pickle.dumps(np.eye(2)[[0] * 7])), "label rows"),
    "graph not a dict": ("ind.cora.graph", lambda p: p.write_bytes(pickle.dumps([1, 2])), "holds list"),
    "empty test.index": ("ind.cora.test.index", lambda p: p.write_text(""), "empty file"),
    "truncated test.index": ("ind.cora.test.index", lambda p: p.write_text("520\n521\n52"), "truncated"),
    "garbage test.index": ("ind.cora.test.index", lambda p: p.write_text("520\nabc\n"), "line 2"),
}


@pytest.mark.parametrize("case", sorted(PLANETOID_CASES))
def test_planetoid_bad_file_is_named_with_its_format(tmp_path, case):
    file, damage, what = PLANETOID_CASES[case]
    raw = write_planetoid(tmp_path / "Cora" / "raw")
    damage(raw / file)
    with pytest.raises(ValueError) as e:
        data.load("planetoid", dataset="Cora", root=tmp_path)
    msg = str(e.value)
    assert str(raw / file) in msg and what in msg and "expected" in msg and "Planetoid format" in msg


def test_planetoid_good_files_still_load(tmp_path):
    write_planetoid(tmp_path / "Cora" / "raw")
    g = data.load("planetoid", dataset="Cora", root=tmp_path)
    assert g.num_nodes == 530 and int(g.test_mask.sum()) == 10


TU_CASES = {
    "empty A": ("A", lambda p: p.write_text(""), "empty file"),
    "truncated A": ("A", lambda p: p.write_text("1, 2\n2, 1\n2, "), "no newline"),
    "ragged A": ("A", lambda p: p.write_text("1, 2\n2\n2, 3, 1\n"), "line 2"),
    "words in A": ("A", lambda p: p.write_text("1, 2\nfoo, bar\n"), "line 2"),
    "A beyond the nodes": ("A", lambda p: p.write_text("1, 2\n2, 9\n"), "node id 9"),
    "edge across graphs": ("A", lambda p: p.write_text("1, 4\n4, 1\n"), "joins two graphs"),
    "empty indicator": ("graph_indicator", lambda p: p.write_text(""), "empty file"),
    "unsorted indicator": ("graph_indicator", lambda p: p.write_text("2\n2\n2\n1\n1\n"), "sorted"),
    "binary indicator": ("graph_indicator", lambda p: p.write_bytes(b"\xff\xfe\x00\x01"), "not a text file"),
    "truncated labels": ("graph_labels", lambda p: p.write_text("1\n"), "for 2 graphs"),
    "float labels": ("graph_labels", lambda p: p.write_text("1\n2.5\n"), "line 2"),
    "short node labels": ("node_labels", lambda p: p.write_text("0\n1\n"), "2 lines for 5 nodes"),
    "bad node attributes": ("node_attributes", lambda p: p.write_text("0.1\nx\n0\n0\n0\n"), "line 2"),
}


@pytest.mark.parametrize("case", sorted(TU_CASES))
def test_tu_bad_file_is_named_with_its_format(tmp_path, case):
    part, damage, what = TU_CASES[case]
    raw = write_tu(tmp_path / "TINY" / "raw")
    damage(raw / f"TINY_{part}.txt")
    with pytest.raises(ValueError) as e:
        data.load("tu_local", dataset="TINY", root=tmp_path)
    msg = str(e.value)
    assert str(raw / f"TINY_{part}.txt") in msg and re.search(re.escape(what), msg)
    assert "expected" in msg and "TU text format" in msg


def test_tu_good_files_still_load_with_windows_line_ends(tmp_path):
    raw = write_tu(tmp_path / "TINY" / "raw")
    for p in raw.iterdir():
        p.write_text(p.read_text().replace("\n", "\r\n"))
    graphs = data.load("tu_local", dataset="TINY", root=tmp_path)
    assert [g.num_nodes for g in graphs] == [3, 2] and [int(g.y) for g in graphs] == [0, 1]
