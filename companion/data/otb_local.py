"""OTB sequences (Wu, Lim & Yang) from a local folder: ``<root>/<Sequence>/img/%04d.jpg`` and
``<root>/<Sequence>/groundtruth_rect.txt`` (one ``x,y,w,h`` line per frame; commas, tabs or spaces).

Every problem with the reader's files is an error that names the file and what was expected: a
missing folder or file (``FileNotFoundError``), an empty or malformed ground-truth file, a gap in
the frame numbers, an image OpenCV cannot decode, or frames of different sizes (``ValueError``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from companion.data._registry import local_root, register, require

HINT = ("Download the OTB-2013/OTB-100 sequences you want and put each in <root>/<Name>/ with its img/ "
        "folder and groundtruth_rect.txt, then pass root=<root> or set COMPANION_DATA (root = $COMPANION_DATA/otb).")
GT_FORMAT = "one 'x,y,w,h' line per frame (4 finite numbers, w and h >= 0; commas, tabs or spaces)"
_FRAME_NAME = re.compile(r"^(\d+)\.jpg$", re.IGNORECASE)


def read_groundtruth(path: Path) -> np.ndarray:
    """The (T, 4) float32 boxes of an OTB ``groundtruth_rect.txt``; a bad line is named by number."""
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ValueError(f"otb: {path} is not a text file; expected {GT_FORMAT}") from None
    boxes = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.replace(",", " ").replace("\t", " ").split()
        try:
            values = [float(v) for v in fields]
        except ValueError:
            values = []
        if len(values) != 4 or not all(np.isfinite(values)) or values[2] < 0 or values[3] < 0:
            raise ValueError(f"otb: {path} line {number} is {line.strip()[:60]!r}; expected {GT_FORMAT}")
        boxes.append(values)
    if not boxes:
        raise ValueError(f"otb: {path} is empty; expected {GT_FORMAT}")
    return np.asarray(boxes, dtype=np.float32)


def frame_files(img_dir: Path) -> list[Path]:
    """The numbered ``.jpg`` frames of ``img_dir`` in order; a gap in the numbering is an error."""
    if not img_dir.is_dir():
        raise FileNotFoundError(f"otb: no folder {img_dir} (expected the frames as img/0001.jpg, ...). {HINT}")
    numbered = sorted((int(m.group(1)), p) for p in img_dir.iterdir() if (m := _FRAME_NAME.match(p.name)))
    if not numbered:
        raise FileNotFoundError(f"otb: no frames in {img_dir} (expected numbered .jpg files: 0001.jpg, ...). {HINT}")
    first = numbered[0][0]
    for k, (number, path) in enumerate(numbered):
        if number != first + k:
            width = len(path.stem)
            raise FileNotFoundError(f"otb: frame {first + k:0{width}d}.jpg is missing from {img_dir} "
                                    f"(expected consecutive frames {numbered[0][1].name} .. {numbered[-1][1].name})")
    return [p for _, p in numbered]


def _read_jpeg(cv2, path: Path) -> np.ndarray:
    """A frame as BGR uint8; an empty, truncated or undecodable file is a ``ValueError`` naming it."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ValueError(f"otb: cannot read {path} ({e.strerror or e}); expected a JPEG frame") from None
    if not raw:
        raise ValueError(f"otb: {path} is empty; expected a JPEG frame")
    # OpenCV decodes a cut-off JPEG with only a warning on stderr: the end-of-image marker tells
    if raw[:2] == b"\xff\xd8" and b"\xff\xd9" not in raw[-64:]:
        raise ValueError(f"otb: {path} is truncated (no JPEG end-of-image marker); expected a complete JPEG frame")
    bgr = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None or bgr.ndim != 3 or bgr.size == 0:
        raise ValueError(f"otb: cannot decode {path}; expected a JPEG frame ({len(raw)} bytes starting {raw[:4]!r})")
    return bgr


@register("otb", "local", "OTB tracking sequences from a local folder (img/%04d.jpg, groundtruth_rect.txt)")
def load_otb(sequence: str, root: str | Path | None = None, max_frames: int | None = None) -> dict:
    """One OTB sequence as ``{"frames": (T, H, W, 3) uint8 RGB, "boxes": (T, 4) float32, "name"}``.

    ``T`` is the number of ground-truth lines (capped at ``max_frames``); the folder must hold at
    least that many frames (extra frames after the last annotated one are ignored).
    """
    cv2 = require("cv2", "opencv-contrib-python-headless")

    if not isinstance(sequence, str) or not sequence or Path(sequence).name != sequence:
        raise ValueError(f"otb: sequence must be a folder name such as 'Basketball', got {sequence!r}")
    if max_frames is not None and (not isinstance(max_frames, (int, np.integer)) or max_frames < 1):
        raise ValueError(f"otb: max_frames must be an int >= 1 or None, got {max_frames!r}")
    folder = local_root(root, "otb", HINT) / sequence
    gt_file = folder / "groundtruth_rect.txt"
    if not folder.is_dir():
        raise FileNotFoundError(f"otb: no sequence folder {folder} (expected {gt_file} and {folder / 'img'}/). {HINT}")
    if not gt_file.is_file():
        raise FileNotFoundError(f"otb: no {gt_file}. {HINT}")
    boxes = read_groundtruth(gt_file)
    images = frame_files(folder / "img")
    n = len(boxes) if max_frames is None else min(len(boxes), int(max_frames))
    if len(images) < n:
        raise ValueError(f"otb: {gt_file} has {len(boxes)} boxes but {folder / 'img'} holds only "
                         f"{len(images)} frames; expected one frame per box")
    frames = []
    for path in images[:n]:
        bgr = _read_jpeg(cv2, path)
        if frames and bgr.shape != frames[0].shape:
            raise ValueError(f"otb: {path} is {bgr.shape[1]}x{bgr.shape[0]} pixels; expected every frame of "
                             f"{sequence} to be {frames[0].shape[1]}x{frames[0].shape[0]} like {images[0].name}")
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return {"frames": np.stack(frames), "boxes": boxes[:n], "name": sequence}
