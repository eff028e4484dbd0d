"""Particle-style candidate sampling around the last box, and batched cropping of candidate regions."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def check_box_in_frame(box, frame_shape: tuple[int, ...]) -> np.ndarray:
    """Validate a first box (x, y, w, h) against a frame of shape (H, W[, C]); returns it as floats."""
    b = np.asarray(box, dtype=np.float64).reshape(-1)
    if b.shape != (4,):
        raise ValueError(f"box must be (x, y, w, h), got {box!r}")
    h, w = frame_shape[:2]
    if b[2] < 4 or b[3] < 4:
        raise ValueError(f"box is too small to track: width and height must be >= 4 px, got {b[2]:.1f} x {b[3]:.1f}")
    if b[0] < 0 or b[1] < 0 or b[0] + b[2] > w or b[1] + b[3] > h:
        raise ValueError(f"box {tuple(np.round(b, 1))} lies (partly) outside the {w} x {h} frame")
    return b


SAMPLERS = ("isotropic", "aspect")
SCALE_STEPS = (-2, -1, 1, 2)  # the scale search: box x exp(k * sigma_scale), same centre


def sample_candidates(box, n: int, rng: np.random.Generator, sigma_xy: float = 0.35,
                      sigma_scale: float = 0.04, frame_shape: tuple[int, ...] | None = None,
                      sampler: str = "isotropic", scale_search: bool = False) -> np.ndarray:
    """``n`` candidate boxes around ``box`` (x, y, w, h): Gaussian centre moves and log-scale changes.

    ``sampler="isotropic"`` (the chapter's first version): centre moves have std
    ``sigma_xy * sqrt(w * h)`` pixels on both axes. ``sampler="aspect"``: per-axis std
    ``sigma_xy * w`` horizontally and ``sigma_xy * h`` vertically (a tall box is searched further up
    and down than sideways). Both draw each candidate's scale from a log-normal with std
    ``sigma_scale`` (aspect ratio kept, as in the affine particle filters of sparse trackers with
    the aspect and skew states fixed). ``scale_search=True`` adds a deterministic scale search:
    candidates 1..4 keep the last centre and scale the box by ``exp(k * sigma_scale)``, k in
    :data:`SCALE_STEPS`. The first candidate is ``box`` itself. Centres are clipped to the frame.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    x, y, w, h = np.asarray(box, dtype=np.float64)
    cx, cy = x + w / 2, y + h / 2
    if sampler == "isotropic":
        step_x = step_y = sigma_xy * np.sqrt(w * h)
    else:
        step_x, step_y = sigma_xy * w, sigma_xy * h
    ncx = cx + rng.normal(0, step_x, n)
    ncy = cy + rng.normal(0, step_y, n)
    s = np.exp(rng.normal(0, sigma_scale, n))
    ncx[0], ncy[0], s[0] = cx, cy, 1.0
    if scale_search:
        k = min(len(SCALE_STEPS), n - 1)
        ncx[1:k + 1], ncy[1:k + 1] = cx, cy
        s[1:k + 1] = np.exp(np.asarray(SCALE_STEPS[:k], dtype=np.float64) * sigma_scale)
    if frame_shape is not None:
        fh, fw = frame_shape[:2]
        ncx = np.clip(ncx, 0, fw - 1)
        ncy = np.clip(ncy, 0, fh - 1)
    nw, nh = w * s, h * s
    return np.stack([ncx - nw / 2, ncy - nh / 2, nw, nh], axis=1)


def frame_tensor(frame: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 frame -> (1, 3, H, W) float tensor in [0, 1]; a clear error for anything else."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        shape = getattr(frame, "shape", None)
        dtype = getattr(frame, "dtype", type(frame).__name__)
        raise ValueError(f"frame must be an (H, W, 3) uint8 array, got shape {shape} and dtype {dtype}")
    return torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255.0


def crop_regions(frame: torch.Tensor, boxes: np.ndarray, size: int) -> torch.Tensor:
    """Bilinear crops of every box, resized to ``size`` x ``size``: (N, 3, size, size).

    One ``grid_sample`` call for all candidates (the frame is broadcast, not copied).
    """
    _, _, fh, fw = frame.shape
    b = torch.as_tensor(boxes, dtype=torch.float32)
    cx = (b[:, 0] + b[:, 2] / 2) / fw * 2 - 1
    cy = (b[:, 1] + b[:, 3] / 2) / fh * 2 - 1
    theta = torch.zeros(len(b), 2, 3)
    theta[:, 0, 0] = b[:, 2] / fw
    theta[:, 1, 1] = b[:, 3] / fh
    theta[:, 0, 2] = cx
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, (len(b), 3, size, size), align_corners=False)
    return F.grid_sample(frame.expand(len(b), -1, -1, -1), grid, mode="bilinear",
                         padding_mode="border", align_corners=False)


def region_cells(regions: torch.Tensor, grid: int) -> torch.Tensor:
    """Split normalised regions (N, 3, S, S) into ``grid`` x ``grid`` local patches: (N, grid*grid, 3*c*c).

    Each region is normalised to zero mean and unit variance first, so that a global change of
    illumination does not change its patches. Patches are ordered row by row.
    """
    n, ch, s, _ = regions.shape
    if s % grid:
        raise ValueError(f"region size {s} is not divisible by the grid {grid}")
    c = s // grid
    r = regions - regions.mean(dim=(1, 2, 3), keepdim=True)
    r = r / (r.std(dim=(1, 2, 3), keepdim=True) + 1e-4)
    cells = r.unfold(2, c, c).unfold(3, c, c)  # (N, 3, grid, grid, c, c)
    return cells.permute(0, 2, 3, 1, 4, 5).reshape(n, grid * grid, ch * c * c)
