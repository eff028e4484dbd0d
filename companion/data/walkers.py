"""Walkers: video frames of people walking over real backgrounds, some carrying objects.

What is planted, so that a carried-object detector has something to find:

* **Backgrounds** are real pictures that ship with scikit-image: the textures ``brick``,
  ``grass`` and ``gravel`` (tinted, since they are grey) and crops of the photos ``coffee``,
  ``rocket``, ``chelsea``, ``astronaut`` and ``camera``. Each walker gets one background crop,
  resized to the frame.
* **People** are articulated side-view silhouettes: a head, a torso, two arms and two legs
  (upper and lower segments) whose angles follow a gait cycle (legs and arms swing in
  opposition, knees bend in the swing phase). Height varies (``0.5`` to ``0.75`` of the frame
  height), clothing colours are drawn at random (shirt and sleeves, trousers, skin), and each
  person walks left or right across the frame over ``frames_per_walker`` frames.
* **Carried objects** (with probability ``carry_fraction`` per walker) are one of four kinds:
  ``bag`` (hangs on a strap from the front or back hand, the arm swings less), ``suitcase`` (large, pulled
  behind on its wheels; its thin pull handle is drawn but is in neither mask, as an annotator
  would box the case), ``backpack`` (worn behind the torso, partly hidden by it) and
  ``box`` (held in front of the chest with both arms). Sizes vary by a factor ``0.8``-``1.3``.
* **Contrast**: clothing and object colours are redrawn while they are within 50 grey levels
  (max over channels) of the background's mean colour, so a person is not invisible on average,
  though a textured background can still match a limb locally.
* **Nuisances** that make background subtraction imperfect: a soft cast shadow at the feet
  (it darkens the background but is neither person nor object), Gaussian pixel noise and a slow
  global illumination drift (a gain of up to about +-10 % from the reference background).
* **Camera scale** (``camera_scale``, default 1): the same scenes seen by a camera that is
  closer or has a finer sensor: frames of ``round(height * s) x round(width * s)`` pixels in which
  every length (people, objects, paths, shadows) is ``s`` times as many pixels. The scene draws
  are the same as at scale 1; only the pixel noise comes from its own stream at the new size.

Ground truth per frame: the visible person mask, the visible carried-object mask, the boxes of
both (``[x0, y0, x1, y1)`` in pixels, end exclusive) and the object kind. The reference
background (clean, gain 1, no noise) is returned with each frame, as a surveillance system
would keep a background model.

Walkers who carry nothing (``carry_fraction=0``) are what the chapter learns its human-shape
codebook from. How hard: objects are often the same size as an arm or a leg in stride, and the
backpack and box overlap the body, so a shape prior is needed, not just "the blob is wide".
Generation is seeded and fast (about 2 ms a frame at 120x160).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from companion.data._registry import register, require

# OpenCV is optional (the `chapters` extra): imported by the functions that draw, so that
# `import companion.data` and every other loader work without it.
_OPENCV = "opencv-contrib-python-headless"

KINDS = ("bag", "suitcase", "backpack", "box")
# body-shape and clothing distributions: "default" is the one articulated body in tight
# clothes; "shifted" draws, per walker, a heavier build (torso and limbs 1.2-1.6 times
# as wide) and, for half of them, a long coat flaring from the shoulders to the knees
BODIES = ("default", "shifted")
# the accepted range of camera_scale: below 0.5 a walker is a few pixels wide, above 2 a frame
# costs four times the pixels and more
CAMERA_SCALES = (0.5, 2.0)
BACKGROUNDS = ("brick", "grass", "gravel", "coffee", "rocket", "chelsea", "astronaut", "camera")
_TEXTURES = {"brick", "grass", "gravel", "camera"}  # grey pictures, tinted before use


@dataclass
class WalkerFrames:
    """Frames and ground truth of the ``walkers`` generator (N frames of size H x W).

    ``frames`` and ``backgrounds`` are (N, H, W, 3) uint8 RGB; ``person_masks`` and
    ``object_masks`` are (N, H, W) bool; ``person_boxes`` is (N, 4) int and ``object_boxes`` a
    list of N arrays of shape (k, 4) with k = 0 or 1; ``kinds`` holds the object kind or None;
    ``walker`` the walker index of each frame.
    """

    frames: np.ndarray
    backgrounds: np.ndarray
    person_masks: np.ndarray
    object_masks: np.ndarray
    person_boxes: np.ndarray
    object_boxes: list[np.ndarray]
    kinds: list[str | None]
    walker: np.ndarray
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def carrying(self) -> np.ndarray:
        """(N,) bool: whether frame i shows a carried object."""
        return np.array([k is not None for k in self.kinds])


def mask_box(mask: np.ndarray) -> np.ndarray:
    """The box ``[x0, y0, x1, y1)`` (end exclusive) around the True pixels of a 2-D mask."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return np.zeros(4, dtype=int)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=int)


_PICTURES: dict[str, np.ndarray] = {}


def _picture(name: str) -> np.ndarray:
    if name not in _PICTURES:
        skdata = require("skimage.data", "scikit-image")
        _PICTURES[name] = np.asarray(getattr(skdata, name)())
    return _PICTURES[name]


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    cv2 = require("cv2", _OPENCV)
    name = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    img = _picture(name)
    # a random crop of at least half the picture, resized to the frame: real texture at a real scale
    ih, iw = img.shape[:2]
    ch = int(rng.integers(ih // 2, ih + 1))
    cw = min(iw, int(ch * width / height))
    y0, x0 = int(rng.integers(0, ih - ch + 1)), int(rng.integers(0, iw - cw + 1))
    crop = cv2.resize(img[y0:y0 + ch, x0:x0 + cw], (width, height), interpolation=cv2.INTER_AREA)
    if crop.ndim == 2:
        tint = rng.uniform(0.6, 1.0, size=3)
        crop = np.clip(crop[..., None].astype(np.float32) * tint, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(crop[..., :3])


def _colour(rng: np.random.Generator, lo: int = 20, hi: int = 235, away_from: np.ndarray | None = None,
            min_dist: float = 50.0) -> tuple[int, int, int]:
    """A random RGB colour, redrawn (up to 20 times) while it is within ``min_dist`` (max over
    channels) of the background's mean colour: clothes can still match the texture locally."""
    for _ in range(20):
        c = rng.integers(lo, hi, size=3)
        if away_from is None or np.abs(c - away_from).max() >= min_dist:
            break
    return tuple(int(v) for v in c)


def _limb(canvas: np.ndarray, p: np.ndarray, q: np.ndarray, thick: float, colour) -> None:
    cv2 = require("cv2", _OPENCV)
    cv2.line(canvas, tuple(int(round(v)) for v in p), tuple(int(round(v)) for v in q), colour,
             max(1, int(round(thick))), lineType=cv2.LINE_8)


def _rect(canvas: np.ndarray, x0: float, y0: float, x1: float, y1: float, colour) -> None:
    cv2 = require("cv2", _OPENCV)
    cv2.rectangle(canvas, (int(round(x0)), int(round(y0))), (int(round(x1)), int(round(y1))), colour, -1)


def _draw_walker(size: tuple[int, int], foot_x: float, foot_y: float, h: float, direction: int,
                 phase: float, style: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render one walker: (RGB layer, person mask, object mask) on an empty canvas."""
    cv2 = require("cv2", _OPENCV)
    H, W = size
    img = np.zeros((H, W, 3), np.uint8)
    pid = np.zeros((H, W), np.uint8)  # 0 empty, 1 person, 2 object: later paint hides earlier
    d = float(direction)
    top = foot_y - h
    hip = np.array([foot_x, top + 0.53 * h])
    shoulder = np.array([foot_x, top + 0.18 * h])
    head_c = np.array([foot_x + 0.01 * h * d, top + 0.065 * h])
    kind = style["kind"]
    scale = style["obj_scale"]

    def paint(draw, colour, label):
        draw(img, colour)
        draw(pid, label)

    def unit(angle):  # angle from straight down, positive = forward
        return np.array([np.sin(angle) * d, np.cos(angle)])

    # legs: thigh swings +-A, the knee bends in the swing phase
    leg_a = 0.42
    legs = []
    for sgn in (1.0, -1.0):
        th = sgn * leg_a * np.sin(phase)
        knee_bend = 0.55 * max(0.0, np.sin(phase * sgn + np.pi / 2)) * (sgn * np.cos(phase) > 0)
        knee = hip + 0.26 * h * unit(th)
        ankle = knee + 0.24 * h * unit(th - knee_bend)
        toe = ankle + 0.06 * h * unit(np.pi / 2)
        legs.append((knee, ankle, toe))
    # arms: swing opposite to the legs; carrying in that hand damps the swing
    arm_a = 0.45
    arms = []
    for i, sgn in enumerate((-1.0, 1.0)):
        swing = sgn * arm_a * np.sin(phase)
        bend = 0.35
        if kind == "bag" and i == style["hand"]:
            swing, bend = swing * 0.6, 0.05
        if kind == "suitcase" and i == 1:  # the far hand pulls a rolling suitcase behind
            swing, bend = -0.75, 0.0
        if kind == "box":
            swing, bend = 0.55, 1.1
        elbow = shoulder + 0.16 * h * unit(swing)
        hand = elbow + 0.15 * h * unit(swing + bend)
        arms.append((elbow, hand))

    build, coat = style.get("build", 1.0), style.get("coat", 0.0)
    limb_t, arm_t = 0.075 * h * build, 0.05 * h * build
    shirt, trousers, skin, obj = style["shirt"], style["trousers"], style["skin"], style["obj"]
    if kind == "suitcase":  # standing on its wheels behind the walker, handle up to the far hand
        hand = arms[1][1]
        sw, sh = 0.2 * h * scale, 0.3 * h * scale
        x_near = hand[0] - d * 0.12 * h
        x_far = x_near - d * sw
        handle_top = np.array([x_near, foot_y - sh])
        paint(lambda c, v: _rect(c, min(x_near, x_far), foot_y - sh, max(x_near, x_far), foot_y - 0.02 * h, v), obj, 2)
        # the thin pull handle is drawn but belongs to neither mask: an annotator boxes the case
        _limb(img, handle_top, hand, max(1.0, 0.02 * h), obj)
        _limb(pid, handle_top, hand, max(1.0, 0.02 * h), 3)
    # far-side limbs first (they are hidden by the torso)
    elbow, hand = arms[1]
    paint(lambda c, v: (_limb(c, shoulder, elbow, arm_t, v), _limb(c, elbow, hand, arm_t * 0.9, v)), shirt, 1)
    if kind == "backpack":
        bw, bh = 0.13 * h * scale, 0.27 * h * scale
        xb = foot_x - d * (0.05 * h + bw / 2)
        paint(lambda c, v: _rect(c, xb - bw / 2, shoulder[1] + 0.01 * h, xb + bw / 2, shoulder[1] + 0.01 * h + bh, v), obj, 2)
    for knee, ankle, toe in legs[::-1]:
        paint(lambda c, v: (_limb(c, hip, knee, limb_t, v), _limb(c, knee, ankle, limb_t * 0.85, v),
                            _limb(c, ankle, toe, limb_t * 0.6, v)), trousers, 1)
    if coat:  # a long coat over the upper legs, flaring from the shoulders to its hem
        wt, wh, hem = 0.085 * h * build, 0.16 * h * build, top + coat * h
        poly = np.array([[foot_x - wt, shoulder[1]], [foot_x + wt, shoulder[1]],
                         [foot_x + wh, hem], [foot_x - wh, hem]])
        pts = [np.round(poly).astype(np.int32)]
        paint(lambda c, v: cv2.fillPoly(c, pts, v), shirt, 1)
    # torso and head
    mid = (shoulder + hip) / 2 + np.array([0.0, -0.02 * h])
    paint(lambda c, v: cv2.ellipse(c, (int(mid[0]), int(mid[1])),
                                   (max(1, int(0.085 * h * build)),
                                    max(1, int(0.21 * h))),
                                   0, 0, 360, v, -1), shirt, 1)
    paint(lambda c, v: cv2.circle(c, (int(head_c[0]), int(head_c[1])), max(1, int(0.07 * h)), v, -1), skin, 1)
    if kind == "box":
        s = 0.24 * h * scale
        x_front = foot_x + d * 0.08 * h
        xa, xb2 = (x_front, x_front + s) if d > 0 else (x_front - s, x_front)
        paint(lambda c, v: _rect(c, xa, shoulder[1] + 0.08 * h, xb2, shoulder[1] + 0.08 * h + s * 0.85, v), obj, 2)
    elbow, hand = arms[0]
    paint(lambda c, v: (_limb(c, shoulder, elbow, arm_t, v), _limb(c, elbow, hand, arm_t * 0.9, v)), shirt, 1)
    paint(lambda c, v: cv2.circle(c, (int(hand[0]), int(hand[1])), max(1, int(0.03 * h)), v, -1), skin, 1)
    if kind == "bag":
        hand = arms[style["hand"]][1]
        bw, bh = 0.16 * h * scale, 0.13 * h * scale
        y0 = hand[1] + 0.07 * h
        paint(lambda c, v: (_limb(c, hand, hand + np.array([0, 0.08 * h]), max(1.0, 0.015 * h), v),
                            _rect(c, hand[0] - bw / 2, y0, hand[0] + bw / 2, y0 + bh, v)), obj, 2)
    return img, pid == 1, pid == 2


@register("walkers", "generator",
          "people walking over real scikit-image backgrounds, some carrying bags/suitcases/backpacks/boxes; "
          "ground-truth masks and boxes")
def load_walkers(n_frames: int = 120, carry_fraction: float = 0.75, frames_per_walker: int = 4,
                 height: int = 120, width: int = 160, noise: float = 3.0, shadow: bool = True,
                 kinds: tuple[str, ...] = KINDS, seed: int = 0,
                 body: str = "default", camera_scale: float = 1.0) -> WalkerFrames:
    """Generate ``n_frames`` frames, ``frames_per_walker`` consecutive frames per walker.

    A share ``carry_fraction`` of the walkers carries one object whose kind is drawn from
    ``kinds`` in turn (so every kind appears); the others carry nothing. Deterministic for ``seed``.
    ``body`` (one of ``BODIES``) is the body-shape and clothing distribution; "shifted"
    draws its builds and coats from a separate stream, so a seed's scenes (backgrounds,
    paths, colours, objects) are the same under both, only the people's shapes change.
    ``camera_scale`` (in ``CAMERA_SCALES``) renders the same scenes on a ``camera_scale`` times
    finer pixel grid: frames of ``round(height * camera_scale) x round(width * camera_scale)``
    pixels, every length that many times as many pixels (1: the unchanged generator).
    """
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    if not 0.0 <= carry_fraction <= 1.0:
        raise ValueError(f"carry_fraction must be in [0, 1], got {carry_fraction}")
    if frames_per_walker < 1:
        raise ValueError(f"frames_per_walker must be >= 1, got {frames_per_walker}")
    if height < 48 or width < 48:
        raise ValueError(f"frames must be at least 48x48 pixels, got {height}x{width}")
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise ValueError(f"kinds must be a non-empty subset of {KINDS}, got {kinds}")
    if body not in BODIES:
        raise ValueError(f"body must be one of {BODIES}, got {body!r}")
    if isinstance(camera_scale, bool) or not (isinstance(camera_scale, (int, float)) and CAMERA_SCALES[0] <= camera_scale <= CAMERA_SCALES[1]):
        raise ValueError(f"camera_scale must be a number in [{CAMERA_SCALES[0]}, {CAMERA_SCALES[1]}], "
                         f"got {camera_scale!r}")
    body_rng = np.random.default_rng([seed, 1]) if body == "shifted" else None
    # the rendered size; every draw below is a fraction of it, so a scene is the same at any scale
    size_h, size_w = int(round(height * camera_scale)), int(round(width * camera_scale))
    scaled = (size_h, size_w) != (height, width)
    noise_rng = np.random.default_rng([seed, 2]) if scaled else None
    cv2 = require("cv2", _OPENCV)
    rng = np.random.default_rng(seed)
    n_walkers = -(-n_frames // frames_per_walker)
    carries = rng.random(n_walkers) < carry_fraction
    out: dict[str, list] = {k: [] for k in ("frames", "backgrounds", "person", "object", "pbox", "obox", "kind", "walker")}
    kind_i = int(rng.integers(len(kinds)))
    for w in range(n_walkers):
        bg = _background(rng, size_h, size_w)
        h = rng.uniform(0.5, 0.75) * size_h
        direction = 1 if rng.random() < 0.5 else -1
        kind = None
        if carries[w]:
            kind = kinds[kind_i % len(kinds)]
            kind_i += 1
        mean = bg.reshape(-1, 3).mean(0)
        style = {"kind": kind, "hand": int(rng.integers(2)), "obj_scale": rng.uniform(0.8, 1.3),
                 "shirt": _colour(rng, away_from=mean), "trousers": _colour(rng, 10, 200, away_from=mean),
                 "skin": _colour(rng, 90, 240, away_from=mean), "obj": _colour(rng, away_from=mean)}
        if body_rng is not None:
            style["build"] = float(body_rng.uniform(1.2, 1.6))
            coat = body_rng.random() < 0.5
            style["coat"] = float(body_rng.uniform(0.7, 0.8)) if coat else 0.0
        foot_y = rng.uniform(0.9, 0.98) * size_h
        margin = 0.35 * h
        x_start = rng.uniform(margin, size_w - margin)
        stride = rng.uniform(0.12, 0.2) * h * direction  # pixels a frame
        phase0 = rng.uniform(0, 2 * np.pi)
        gain_phase, gain_amp = rng.uniform(0, 2 * np.pi), rng.uniform(0.0, 0.1)
        shadow_dx = rng.uniform(-0.3, 0.3) * h
        for t in range(frames_per_walker):
            if len(out["frames"]) == n_frames:
                break
            fx = x_start + stride * t
            if fx < margin or fx > size_w - margin:  # bounce back in: keep the walker inside the frame
                stride = -stride
                fx = x_start + stride * t
                fx = float(np.clip(fx, margin, size_w - margin))
            phase = phase0 + 1.3 * t
            layer, pmask, omask = _draw_walker((size_h, size_w), fx, foot_y, h, direction, phase, style)
            frame = bg.astype(np.float32)
            if shadow:
                sh = np.zeros((size_h, size_w), np.float32)
                cv2.ellipse(sh, (int(fx + shadow_dx), int(foot_y)), (max(2, int(0.22 * h)), max(1, int(0.04 * h))),
                            0, 0, 360, 1.0, -1)
                sh = cv2.GaussianBlur(sh, (0, 0), 1.5 * camera_scale)  # a soft edge as wide in the scene
                frame *= (1.0 - 0.45 * sh)[..., None]
            fg = pmask | omask
            frame[fg] = layer[fg]
            gain = 1.0 + gain_amp * np.sin(gain_phase + 0.5 * t)
            pixel_noise = rng.normal(0.0, noise, (height, width, 3))
            if scaled:  # the draw above keeps the scene stream as at scale 1; the noise is per pixel
                pixel_noise = noise_rng.normal(0.0, noise, frame.shape)
            frame = frame * gain + pixel_noise
            out["frames"].append(np.clip(frame, 0, 255).astype(np.uint8))
            out["backgrounds"].append(bg)
            out["person"].append(pmask)
            out["object"].append(omask)
            out["pbox"].append(mask_box(pmask))
            out["obox"].append(mask_box(omask)[None] if omask.any() else np.zeros((0, 4), int))
            out["kind"].append(kind if omask.any() else None)
            out["walker"].append(w)
    return WalkerFrames(
        frames=np.stack(out["frames"]), backgrounds=np.stack(out["backgrounds"]),
        person_masks=np.stack(out["person"]), object_masks=np.stack(out["object"]),
        person_boxes=np.stack(out["pbox"]), object_boxes=out["obox"], kinds=out["kind"],
        walker=np.array(out["walker"]),
        meta={"seed": seed, "carry_fraction": carry_fraction, "height": height,
              "width": width, "noise": noise, "body": body, "camera_scale": camera_scale},
    )
