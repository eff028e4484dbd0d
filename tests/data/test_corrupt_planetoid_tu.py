"""Corrupt, truncated and empty Planetoid / TU files: a ValueError naming the file and its format."""

import pickle
import re

import numpy as np
import pytest

from companion import data


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
def test_planetoid_bad_file_is_named_with_its_format(tmp_path, case, tiny_planetoid):
    file, damage, what = PLANETOID_CASES[case]
    raw = tiny_planetoid(tmp_path / "Cora" / "raw")
    damage(raw / file)
    with pytest.raises(ValueError) as e:
        data.load("planetoid", dataset="Cora", root=tmp_path)
    msg = str(e.value)
    assert str(raw / file) in msg and what in msg and "expected" in msg and "Planetoid format" in msg


def test_planetoid_good_files_still_load(tmp_path, tiny_planetoid):
    tiny_planetoid(tmp_path / "Cora" / "raw")
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
def test_tu_bad_file_is_named_with_its_format(tmp_path, case, tiny_tu):
    part, damage, what = TU_CASES[case]
    raw = tiny_tu(tmp_path / "TINY" / "raw")
    damage(raw / f"TINY_{part}.txt")
    with pytest.raises(ValueError) as e:
        data.load("tu_local", dataset="TINY", root=tmp_path)
    msg = str(e.value)
    assert str(raw / f"TINY_{part}.txt") in msg and re.search(re.escape(what), msg)
    assert "expected" in msg and "TU text format" in msg


def test_tu_good_files_still_load_with_windows_line_ends(tmp_path, tiny_tu):
    raw = tiny_tu(tmp_path / "TINY" / "raw")
    for p in raw.iterdir():
        p.write_text(p.read_text().replace("\n", "\r\n"))
    graphs = data.load("tu_local", dataset="TINY", root=tmp_path)
    assert [g.num_nodes for g in graphs] == [3, 2] and [int(g.y) for g in graphs] == [0, 1]
