"""DBP15K from local files: empty or malformed files raise errors that name the file and the format."""

import re

import pytest

from companion import data

JAPE = {
    "ent_ids_1": "0\thttp://zh.dbpedia.org/A\n1\thttp://zh.dbpedia.org/B\n2\thttp://zh.dbpedia.org/C\n",
    "ent_ids_2": "10\thttp://dbpedia.org/A\n11\thttp://dbpedia.org/B\n12\thttp://dbpedia.org/C\n",
    "triples_1": "0\t100\t1\n1\t101\t2\n",
    "triples_2": "10\t200\t11\n11\t200\t12\n",
    "ref_ent_ids": "0\t10\n1\t11\n2\t12\n",
}
OPENEA = {"rel_triples_1": "a\tr\tb\nb\tr\tc\n", "rel_triples_2": "A\ts\tB\nB\ts\tC\n", "ent_links": "a\tA\nb\tB\n"}


def write(root, files, **changes):
    folder = root / "zh_en"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**files, **changes}.items():
        if text is not None:
            (folder / name).write_text(text)
    return folder


def load(root):
    return data.load("dbp15k", pair="zh_en", root=root)


def test_well_formed_files_load(tmp_path):
    p = load(write(tmp_path / "jape", JAPE).parent)
    assert (p.num_entities1, p.num_entities2, len(p.seed_pairs) + len(p.test_pairs)) == (3, 3, 3)
    p = load(write(tmp_path / "openea", OPENEA).parent)
    assert (p.num_entities1, p.num_entities2, len(p.seed_pairs) + len(p.test_pairs)) == (3, 3, 2)


@pytest.mark.parametrize("name", sorted(JAPE))
def test_empty_jape_file_is_an_error_naming_it(tmp_path, name):
    folder = write(tmp_path, JAPE, **{name: "\n  \n"})
    with pytest.raises(ValueError, match=re.escape(f"{folder / name}: the file is empty; expected")):
        load(tmp_path)


@pytest.mark.parametrize("name", sorted(OPENEA))
def test_empty_openea_file_is_an_error_naming_it(tmp_path, name):
    folder = write(tmp_path, OPENEA, **{name: ""})
    with pytest.raises(ValueError, match=re.escape(f"{folder / name}: the file is empty; expected")):
        load(tmp_path)


@pytest.mark.parametrize("files, name, text, message", [
    (JAPE, "ent_ids_1", "0\thttp://a\n1\n", r":2: expected one 'id<TAB>uri' line per entity.*got 1 tab-separated"),
    (JAPE, "triples_2", "10\t200\t11\t12\n", r":1: expected 'head<TAB>relation<TAB>tail' lines of integer ids.*got 4"),
    (JAPE, "ref_ent_ids", "0 10\n", r":1: expected 'id1<TAB>id2' lines.*got 1 tab-separated"),
    (OPENEA, "ent_links", "a\tA\tx\n", r":1: expected 'uri1<TAB>uri2' lines.*got 3"),
    (OPENEA, "rel_triples_1", "a\tr\n", r":1: expected 'head<TAB>relation<TAB>tail' lines of URIs.*got 2"),
])
def test_wrong_column_count(tmp_path, files, name, text, message):
    folder = write(tmp_path, files, **{name: text})
    with pytest.raises(ValueError, match=re.escape(str(folder / name)) + message):
        load(tmp_path)


@pytest.mark.parametrize("name, text, field", [
    ("ent_ids_2", "10\thttp://a\nx11\thttp://b\n", "field 1 is 'x11'"),
    ("triples_1", "0\tborn_in\t1\n", "field 2 is 'born_in'"),
    ("ref_ent_ids", "0\t10\n1\t-11\n", "field 2 is '-11'"),
    ("sup_ent_ids", "0\t1.5\n", "field 2 is '1.5'"),
])
def test_non_integer_ids(tmp_path, name, text, field):
    folder = write(tmp_path, JAPE, **{name: text})
    with pytest.raises(ValueError, match=re.escape(str(folder / name)) + r":\d+: expected .*integer.*"
                       + re.escape(field) + ", not an integer id"):
        load(tmp_path)


@pytest.mark.parametrize("name, text, entity, kg", [
    ("ref_ent_ids", "0\t10\n7\t11\n", "7", "ent_ids_1"),
    ("ref_ent_ids", "0\t10\n1\t2\n", "2", "ent_ids_2"),  # a KG1 id on the KG2 side
    ("sup_ent_ids", "0\t99\n", "99", "ent_ids_2"),
    ("triples_1", "0\t100\t5\n", "5", "ent_ids_1"),
])
def test_ids_missing_from_the_entity_files(tmp_path, name, text, entity, kg):
    folder = write(tmp_path, JAPE, **{name: text})
    with pytest.raises(ValueError, match=re.escape(f"{folder / name}:") + r"\d+: entity "
                       + re.escape(repr(entity)) + " is unknown to " + re.escape(f"{kg} ({folder / kg})")):
        load(tmp_path)


def test_openea_link_to_an_entity_in_no_triple(tmp_path):
    folder = write(tmp_path, OPENEA, ent_links="a\tA\nc\tZ\n")
    with pytest.raises(ValueError, match=re.escape(f"{folder / 'ent_links'}:2: entity 'Z' is unknown to KG 2")):
        load(tmp_path)


def test_duplicate_id_and_bad_encoding_and_missing_file(tmp_path):
    folder = write(tmp_path, JAPE, ent_ids_1="0\thttp://a\n1\thttp://b\n0\thttp://c\n")
    with pytest.raises(ValueError, match=re.escape(f"{folder / 'ent_ids_1'}:3: id 0 is listed twice")):
        load(tmp_path)
    (folder / "ent_ids_1").write_bytes(b"0\thttp://\xff\n")
    with pytest.raises(ValueError, match=re.escape(f"{folder / 'ent_ids_1'}: not UTF-8 text")):
        load(tmp_path)
    (folder / "ent_ids_1").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(f"{folder / 'ent_ids_1'} is missing; expected")):
        load(tmp_path)
