"""Tracking sequences with ground truth: a target cut from a real photo moving over a real background.

Each named sequence has one OTB-style attribute (Wu, Lim & Yang, CVPR 2013), planted on purpose:

========================  ==================================================================
``illumination``          the whole scene's brightness and colour drift (gain 0.45 .. 1.5)
``scale``                 the target grows and shrinks (0.63x .. 1.6x of its first size)
``occlusion``             a textured occluder crosses the target, hiding up to ~70% of it
``fast_motion``           the target jumps 12..20 px a frame along a curve
``motion_blur``           the target moves fast and is blurred along its motion
``clutter``               four look-alike distractors (the target's photo, recoloured) sit in the scene
``rotation``              the target rotates in plane, up to +-70 degrees
========================  ==================================================================

Targets come from scikit-image's bundled photos (the astronaut's face, the coffee cup, the cat's
face, the rocket); backgrounds from its textures (brick, grass, gravel) and the camera photo. The
ground-truth box (x, y, w, h, in pixels, top-left origin as in OTB) is the target's unrotated
extent at its current scale, centred on its current position. Everything is seeded.
"""

from __future__ import annotations

import numpy as np

from companion.data._registry import register, require

_OPENCV = "opencv-contrib-python-headless"  # optional (the `chapters` extra): imported where used

FRAME_HW = (180, 240)
# (photo, rows, cols) of each target crop in scikit-image's photos
TARGETS = {
    "face": ("astronaut", (25, 195), (165, 295)),
    "cup": ("coffee", (10, 230), (140, 440)),
    "cat": ("chelsea", (10, 270), (140, 420)),
    "rocket": ("rocket", (110, 420), (290, 350)),
}
BACKGROUNDS = ("brick", "grass", "gravel", "camera")
ATTRIBUTES = ("illumination", "scale", "occlusion", "fast_motion", "motion_blur", "clutter", "rotation")
# the named sequences: attribute -> (target, background)
SEQUENCES = {
    "face_illumination": ("face", "brick", "illumination"),
    "cup_scale": ("cup", "gravel", "scale"),
    "cat_occlusion": ("cat", "grass", "occlusion"),
    "rocket_fast_motion": ("rocket", "camera", "fast_motion"),
    "face_motion_blur": ("face", "gravel", "motion_blur"),
    "cup_clutter": ("cup", "brick", "clutter"),
    "cat_rotation": ("cat", "camera", "rotation"),
}


def _photo(name: str) -> np.ndarray:
    skdata = require("skimage.data", "scikit-image")
    img = getattr(skdata, name)()
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return img[..., :3].astype(np.float32)


def _target_patch(name: str, longest: int) -> np.ndarray:
    cv2 = require("cv2", _OPENCV)

    photo, (r0, r1), (c0, c1) = TARGETS[name]
    crop = _photo(photo)[r0:r1, c0:c1]
    h, w = crop.shape[:2]
    s = longest / max(h, w)
    return cv2.resize(crop, (max(4, round(w * s)), max(4, round(h * s))), interpolation=cv2.INTER_AREA)


def _background(name: str, rng: np.random.Generator) -> np.ndarray:
    cv2 = require("cv2", _OPENCV)

    img = _photo(name)
    h, w = FRAME_HW
    bg = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    if name != "camera":  # tint the grey textures so colour carries some information
        bg = bg * rng.uniform(0.7, 1.1, size=3)[None, None, :]
    return bg


def _trajectory(n: int, rng: np.random.Generator, speed: float, margin: float) -> np.ndarray:
    """Smooth closed-ish path of centres (n, 2) as (x, y), staying ``margin`` px inside the frame."""
    h, w = FRAME_HW
    t = np.arange(n)
    path = np.zeros((n, 2))
    for dim, size in enumerate((w, h)):
        amp = (size / 2 - margin)
        f1, f2 = rng.uniform(0.5, 1.5, 2) * speed / max(amp, 1.0)
        p1, p2 = rng.uniform(0, 2 * np.pi, 2)
        path[:, dim] = size / 2 + amp * (0.65 * np.sin(f1 * t + p1) + 0.35 * np.sin(f2 * t + p2))
    return path


def _paste(frame: np.ndarray, patch: np.ndarray, cx: float, cy: float, angle: float = 0.0) -> None:
    """Alpha-paste ``patch`` centred at (cx, cy), rotated by ``angle`` degrees, with feathered edges."""
    cv2 = require("cv2", _OPENCV)

    ph, pw = patch.shape[:2]
    h, w = frame.shape[:2]
    alpha = np.ones((ph, pw), np.float32)
    edge = max(1, min(ph, pw) // 12)
    alpha[:edge] *= np.linspace(0.3, 1, edge)[:, None]
    alpha[-edge:] *= np.linspace(1, 0.3, edge)[:, None]
    alpha[:, :edge] *= np.linspace(0.3, 1, edge)[None, :]
    alpha[:, -edge:] *= np.linspace(1, 0.3, edge)[None, :]
    m = cv2.getRotationMatrix2D((pw / 2, ph / 2), angle, 1.0)
    m[:, 2] += (cx - pw / 2, cy - ph / 2)
    warped = cv2.warpAffine(patch, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    a = cv2.warpAffine(alpha, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)[..., None]
    frame *= 1 - a
    frame += a * warped


def make_sequence(name: str, n_frames: int = 120, seed: int = 0) -> dict:
    """Render the named sequence (see :data:`SEQUENCES`).

    Returns ``{"frames": (T, H, W, 3) uint8, "boxes": (T, 4) float32 xywh, "name", "attribute"}``.
    """
    cv2 = require("cv2", _OPENCV)

    if name not in SEQUENCES:
        raise ValueError(f"unknown sequence {name!r}; available: {', '.join(SEQUENCES)}")
    if n_frames < 2:
        raise ValueError(f"n_frames must be >= 2, got {n_frames}")
    target, bg_name, attribute = SEQUENCES[name]
    rng = np.random.default_rng(seed + 1000 * list(SEQUENCES).index(name))
    base = _target_patch(target, 52 if target == "rocket" else 40)
    bg = _background(bg_name, rng)
    h, w = FRAME_HW
    speed = {"fast_motion": 16.0, "motion_blur": 9.0}.get(attribute, 2.5)
    path = _trajectory(n_frames, rng, speed, margin=40)
    t = np.linspace(0, 1, n_frames)
    scale = np.exp(0.47 * np.sin(2 * np.pi * t)) if attribute == "scale" else 1 + 0 * t
    angle = 70 * np.sin(2 * np.pi * 1.5 * t) if attribute == "rotation" else 0 * t
    gain = 0.975 + 0.525 * np.sin(2 * np.pi * 1.2 * t) if attribute == "illumination" else 1 + 0 * t
    tint = rng.uniform(0.8, 1.2, 3) if attribute == "illumination" else np.ones(3)
    if attribute == "clutter":
        distractors = []
        for k in range(4):
            shade = rng.uniform(0.75, 1.25, 3)
            distractors.append((base[:, ::-1] * shade if k % 2 else base * shade,
                                rng.uniform(30, w - 30), rng.uniform(30, h - 30)))
    occluder = _target_patch("cup" if target != "cup" else "cat", 44) * 0.6 + 40 if attribute == "occlusion" else None
    frames = np.empty((n_frames, h, w, 3), np.uint8)
    boxes = np.empty((n_frames, 4), np.float32)
    for i in range(n_frames):
        frame = bg.copy()
        if attribute == "clutter":
            for patch, dx, dy in distractors:
                _paste(frame, np.clip(patch, 0, 255), dx, dy)
        s = float(scale[i])
        patch = cv2.resize(base, (max(4, round(base.shape[1] * s)), max(4, round(base.shape[0] * s))))
        cx, cy = path[i]
        if attribute == "motion_blur":
            v = path[min(i + 1, n_frames - 1)] - path[max(i - 1, 0)]
            length = int(np.clip(np.linalg.norm(v) * 0.8, 3, 21))
            kernel = np.zeros((length, length), np.float32)
            kernel[length // 2, :] = 1.0 / length
            rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), -np.degrees(np.arctan2(v[1], v[0])), 1)
            kernel = cv2.warpAffine(kernel, rot, (length, length))
            kernel /= max(kernel.sum(), 1e-6)
            patch = cv2.filter2D(np.pad(patch, ((length, length), (length, length), (0, 0)), mode="edge"), -1, kernel)
            patch = patch[length:-length, length:-length]
        _paste(frame, patch, cx, cy, float(angle[i]))
        if occluder is not None:
            # the occluder sweeps across the target's position in the middle third of the sequence
            u = (i - n_frames / 3) / (n_frames / 3)
            if 0 <= u <= 1:
                _paste(frame, occluder, cx + (u - 0.5) * 80, cy - 4)
        frame = frame * gain[i] * tint[None, None, :]
        frame += rng.normal(0, 3.0, frame.shape)
        frames[i] = np.clip(frame, 0, 255).astype(np.uint8)
        bw, bh = base.shape[1] * s, base.shape[0] * s
        boxes[i] = (cx - bw / 2, cy - bh / 2, bw, bh)
    return {"frames": frames, "boxes": boxes, "name": name, "attribute": attribute}


@register("tracking_sequences", "generator",
          "named tracking sequences: a real-photo target on a real background, one OTB attribute each")
def load_tracking_sequences(names: list[str] | None = None, n_frames: int = 120, seed: int = 0) -> dict[str, dict]:
    """``{name: sequence}`` for ``names`` (default: all seven, see :data:`SEQUENCES`)."""
    names = list(SEQUENCES) if names is None else list(names)
    return {n: make_sequence(n, n_frames=n_frames, seed=seed) for n in names}
