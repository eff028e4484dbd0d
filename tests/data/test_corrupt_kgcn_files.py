"""Corrupt, truncated or empty KGNN-LS files fail with the file's path and the expected format."""

import pytest

from companion import data

GOOD_RATINGS = "0\t0\t1\n0\t2\t0\n1\t1\t1\n1\t0\t0\n"
GOOD_KG = "0\t0\t3\n1\t1\t3\n2\t0\t4\n"


def _write(folder, ratings=GOOD_RATINGS, kg=GOOD_KG):
    for name, content in (("ratings_final.txt", ratings), ("kg_final.txt", kg)):
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


@pytest.mark.parametrize("name", ["ratings_final.txt", "kg_final.txt"])
@pytest.mark.parametrize("content, why", [
    ("", "empty"),
    ("\n  \n", "no data lines"),
    ("user\titem\tlabel\n0\t0\t1\n", "unreadable"),         # a header line
    ("0\t0\n1\t1\n", "got 2 columns"),
    ("0\t0\t1\n1\t1\n", "unreadable"),                      # truncated last line
    ("0\t0.5\t1\n", "unreadable"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "unreadable"),   # not a text file
    ("0\t-1\t1\n", "negative id"),
])
def test_corrupt_file_names_the_file_and_the_format(tmp_path, name, content, why):
    _write(tmp_path, **{"ratings" if name == "ratings_final.txt" else "kg": content})
    with pytest.raises(ValueError) as info:
        data.load("kgcn_files", root=tmp_path)
    message = str(info.value)
    assert str(tmp_path / name) in message
    assert "3 tab-separated non-negative integers" in message and why in message


def test_bad_label_and_missing_file(tmp_path):
    _write(tmp_path, ratings="0\t0\t1\n0\t1\t3\n")
    with pytest.raises(ValueError, match=r"ratings_final.txt: labels .* 0 or 1; data line 2"):
        data.load("kgcn_files", root=tmp_path)
    (tmp_path / "kg_final.txt").unlink()
    (tmp_path / "ratings_final.txt").write_text(GOOD_RATINGS)
    with pytest.raises(FileNotFoundError, match="kg_final.txt is missing"):
        data.load("kgcn_files", root=tmp_path)


def test_good_files_still_load(tmp_path):
    _write(tmp_path)
    d = data.load("kgcn_files", root=tmp_path)
    assert (d.n_users, d.n_items, d.n_entities, d.n_relations) == (2, 3, 5, 2)
