"""OTB sequences (Wu, Lim & Yang) from a local folder: ``<root>/<Sequence>/img/%04d.jpg`` and
``<root>/<Sequence>/groundtruth_rect.txt`` (one ``x,y,w,h`` line per frame; commas, tabs or spaces)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from companion.data._registry import local_root, register

HINT = ("Download the OTB-2013/OTB-100 sequences you want and put each in <root>/<Name>/ with its img/ "
        "folder and groundtruth_rect.txt, then pass root=<root> or set COMPANION_DATA (root = $COMPANION_DATA/otb).")


@register("otb", "local", "OTB tracking sequences from a local folder (img/%04d.jpg, groundtruth_rect.txt)")
def load_otb(sequence: str, root: str | Path | None = None, max_frames: int | None = None) -> dict:
    """One OTB sequence as ``{"frames": (T, H, W, 3) uint8 RGB, "boxes": (T, 4) float32, "name"}``."""
    import cv2

    folder = local_root(root, "otb", HINT) / sequence
    gt_file = folder / "groundtruth_rect.txt"
    if not gt_file.is_file():
        raise FileNotFoundError(f"otb: no {gt_file}. {HINT}")
    rows = [line.replace(",", " ").replace("\t", " ").split() for line in gt_file.read_text().splitlines() if line.strip()]
    boxes = np.array(rows, dtype=np.float32)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"otb: {gt_file} must have 4 numbers (x, y, w, h) per line")
    images = sorted((folder / "img").glob("*.jpg"))
    if not images:
        raise FileNotFoundError(f"otb: no images in {folder / 'img'}. {HINT}")
    n = min(len(images), len(boxes), max_frames or len(images))
    frames = np.stack([cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in images[:n]])
    return {"frames": frames, "boxes": boxes[:n], "name": sequence}
