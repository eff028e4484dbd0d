"""The OTB reader on broken local files: every error names the file and what was expected."""

import re

import numpy as np
import pytest

from companion import data

cv2 = pytest.importorskip("cv2")


def _sequence(root, n=3, gt="1,2,5,6\n2\t3\t5\t6\n3 4 5 6\n", name="Tiny"):
    img = root / name / "img"
    img.mkdir(parents=True)
    for i in range(n):
        cv2.imwrite(str(img / f"{i + 1:04d}.jpg"), np.full((20, 30, 3), 40 * i, np.uint8))
    (root / name / "groundtruth_rect.txt").write_text(gt)
    return root / name


def _load(root, **kw):
    return data.load("otb", sequence="Tiny", root=root, **kw)


def test_a_good_sequence_loads(tmp_path):
    _sequence(tmp_path)
    seq = _load(tmp_path)
    assert seq["frames"].shape == (3, 20, 30, 3) and seq["boxes"].shape == (3, 4)
    assert _load(tmp_path, max_frames=2)["frames"].shape[0] == 2


@pytest.mark.parametrize("text, what", [
    ("", "is empty"),
    ("\n  \n", "is empty"),
    ("1,2,5,6\n1,2,5\n3,4,5,6\n", "line 2"),
    ("1,2,5,6\nx,y,w,h\n3,4,5,6\n", "line 2"),
    ("1,2,5,6\n2,3,5,6\n3,4,nan,6\n", "line 3"),
    ("1,2,-5,6\n", "line 1"),
])
def test_corrupt_groundtruth_names_the_file_and_the_line(tmp_path, text, what):
    folder = _sequence(tmp_path, gt=text)
    with pytest.raises(ValueError, match=re.escape(str(folder / "groundtruth_rect.txt"))) as err:
        _load(tmp_path)
    assert what in str(err.value) and "x,y,w,h" in str(err.value)


def test_binary_groundtruth(tmp_path):
    folder = _sequence(tmp_path)
    (folder / "groundtruth_rect.txt").write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(ValueError, match="groundtruth_rect.txt is not a text file"):
        _load(tmp_path)


def test_missing_files_and_folders(tmp_path):
    folder = _sequence(tmp_path)
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "Other"))):
        data.load("otb", sequence="Other", root=tmp_path)
    (folder / "img" / "0002.jpg").unlink()
    with pytest.raises(FileNotFoundError, match=r"frame 0002\.jpg is missing from .*img"):
        _load(tmp_path)
    for f in (folder / "img").iterdir():
        f.unlink()
    with pytest.raises(FileNotFoundError, match="no frames in .*img"):
        _load(tmp_path)
    (folder / "groundtruth_rect.txt").unlink()
    with pytest.raises(FileNotFoundError, match="groundtruth_rect.txt"):
        _load(tmp_path)
    with pytest.raises(ValueError, match="max_frames"):
        _load(tmp_path, max_frames=0)
    with pytest.raises(ValueError, match="folder name"):
        data.load("otb", sequence="../Tiny", root=tmp_path)


def test_fewer_frames_than_boxes(tmp_path):
    _sequence(tmp_path, n=2)
    with pytest.raises(ValueError, match="3 boxes but .*only 2 frames"):
        _load(tmp_path)


@pytest.mark.parametrize("damage, what", [
    (lambda raw: b"", "is empty"),
    (lambda raw: raw[: len(raw) // 2], "truncated"),
    (lambda raw: b"not a jpeg at all", "cannot decode"),
])
def test_unreadable_frames_are_named(tmp_path, damage, what):
    folder = _sequence(tmp_path)
    frame = folder / "img" / "0002.jpg"
    frame.write_bytes(damage(frame.read_bytes()))
    with pytest.raises(ValueError, match=re.escape(str(frame))) as err:
        _load(tmp_path)
    assert what in str(err.value)


def test_frames_of_different_sizes(tmp_path):
    folder = _sequence(tmp_path)
    cv2.imwrite(str(folder / "img" / "0003.jpg"), np.zeros((10, 30, 3), np.uint8))
    with pytest.raises(ValueError, match=r"0003\.jpg is 30x10 pixels; expected .* 30x20"):
        _load(tmp_path)
