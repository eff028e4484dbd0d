"""The tracker: first-frame learning of the recursive network, two dictionaries, sparse-coding
scores of candidates, and the online dictionary update.

Our choices where the paper's text (see the chapter) gives no value: a 32 x 32 region split into
4 x 4 local patches, d = 24, 4 random trees, lambda = 0.01, 300 candidates, an update every 5
frames that keeps the first frame's atoms and replaces the others first-in first-out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from companion.tracking.candidates import (SAMPLERS, check_box_in_frame, crop_regions, frame_tensor,
                                           region_cells, sample_candidates)
from companion.tracking.metrics import frame_rates, iou
from companion.tracking.rnn import RecursiveNet, Tree, first_frame_loss, grid_adjacency, greedy_tree
from companion.tracking.sparse import ista, reconstruction_error

FEATURES = ("rnn", "pixels")


@dataclass
class TrackerConfig:
    features: str = "rnn"  # "rnn": recursive-network features; "pixels": raw normalised pixels
    online_update: bool = True
    region: int = 32
    grid: int = 4
    hidden: int = 24
    n_trees: int = 4
    tree_noise: float = 1.0
    n_candidates: int = 300
    # the candidate sampler: the validation grid (generator seeds 100-102, see the chapter's
    # results/validation_grid.json) kept the first version, isotropic 0.3 / 0.03, for these features
    sampler: str = "isotropic"
    sigma_xy: float = 0.3
    sigma_scale: float = 0.03
    scale_search: bool = False
    n_pos: int = 40
    n_neg: int = 60
    n_patch_atoms: int = 10
    train_steps: int = 60
    lr: float = 0.02
    lam: float = 0.01
    ista_iters: int = 50
    leaf_weight: float = 1.0
    update_every: int = 5
    max_atoms: int = 60
    top_k: int = 5
    seed: int = 0

    def __post_init__(self):
        if self.features not in FEATURES:
            raise ValueError(f"features must be one of {FEATURES}, got {self.features!r}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {self.sampler!r}")
        if self.region % self.grid:
            raise ValueError(f"region ({self.region}) must be divisible by grid ({self.grid})")
        for name in ("n_trees", "n_candidates", "n_pos", "n_neg", "update_every", "top_k"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


def _unit(x: torch.Tensor) -> torch.Tensor:
    return F.normalize(x, dim=-1)


@dataclass
class Dictionaries:
    """Target-region dictionaries (one per tree, from root features), background dictionaries
    (one per tree, from negatives) and the local-patch dictionary (from leaf features)."""

    target: list[torch.Tensor]  # per tree: (d, K_t)
    background: list[torch.Tensor]  # per tree: (d, K_b)
    patches: torch.Tensor  # per patch position: (L, d_leaf, K_p)
    n_fixed: int  # first-frame target atoms never replaced
    n_fixed_patches: int
    cursor: int = 0


class TreeRNNTracker:
    """Track one target given its first box: ``init(frame, box)``, then ``update(frame) -> box``."""

    def __init__(self, config: TrackerConfig | None = None):
        self.cfg = config or TrackerConfig()
        self.rng = np.random.default_rng(self.cfg.seed)
        self.trees: list[Tree] = []
        self.net: RecursiveNet | None = None
        self.frame_index = 0
        self.history: dict[str, list[float]] = {"loss": []}

    # ---- features -------------------------------------------------------------------------
    def _cells(self, frame: torch.Tensor, boxes: np.ndarray) -> torch.Tensor:
        return region_cells(crop_regions(frame, boxes, self.cfg.region), self.cfg.grid)

    @torch.no_grad()
    def features(self, frame: torch.Tensor, boxes: np.ndarray) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Root features per tree [(N, d)] and leaf features (N, L, d_leaf), all unit-normalised."""
        cells = self._cells(frame, boxes)
        if self.cfg.features == "pixels":
            # raw-pixel ablation: the whole region as the "root", the raw patches as leaves
            return [_unit(cells.reshape(len(cells), -1))], _unit(cells)
        leaves = self.net.encode_leaves(cells)
        roots = [_unit(self.net.encode(leaves, t)[:, -1]) for t in self.trees]
        return roots, _unit(leaves)

    # ---- first frame ----------------------------------------------------------------------
    def _samples(self, box: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
        c = self.cfg
        pos = sample_candidates(box, 8 * c.n_pos, self.rng, sigma_xy=0.04, sigma_scale=0.02, frame_shape=shape)
        pos = pos[iou(pos, np.repeat(box[None], len(pos), 0)) > 0.8][: c.n_pos]
        neg = sample_candidates(box, 8 * c.n_neg, self.rng, sigma_xy=0.9, sigma_scale=0.05, frame_shape=shape)
        neg = neg[iou(neg, np.repeat(box[None], len(neg), 0)) < 0.3][: c.n_neg]
        return pos, neg

    def init(self, frame: np.ndarray, box) -> None:
        """Learn the recursive network on the first frame and build the dictionaries."""
        c = self.cfg
        box = check_box_in_frame(box, frame.shape)
        ft = frame_tensor(frame)
        torch.manual_seed(c.seed)
        pos, neg = self._samples(box, frame.shape)
        if c.features == "rnn":
            cells = self._cells(ft, np.concatenate([pos, neg]))
            labels = torch.cat([torch.ones(len(pos)), torch.zeros(len(neg))])
            self.net = RecursiveNet(cells.shape[-1], c.hidden)
            adj = grid_adjacency(c.grid)
            opt = torch.optim.Adam(self.net.parameters(), lr=c.lr)
            exemplar = self._cells(ft, box[None])
            # two rounds: trees from the current network, then training on those trees
            for rnd in range(2):
                leaves = self.net.encode_leaves(exemplar)[0].detach()
                self.trees = [greedy_tree(self.net, leaves, adj, noise=c.tree_noise, rng=self.rng)
                              for _ in range(c.n_trees)]
                for _ in range(c.train_steps // 2):
                    loss = first_frame_loss(self.net, cells, labels, self.trees)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    self.history["loss"].append(float(loss.detach()))
            self.net.eval()
        roots_p, leaves_p = self.features(ft, pos)
        roots_n, _ = self.features(ft, neg)
        self.dicts = Dictionaries(
            target=[r.T.clone() for r in roots_p],
            background=[r.T.clone() for r in roots_n],
            patches=leaves_p.permute(1, 2, 0)[..., : c.n_patch_atoms].clone(),
            n_fixed=len(pos), n_fixed_patches=min(len(pos), c.n_patch_atoms),
        )
        self.box = box
        self.frame_index = 0

    # ---- scoring --------------------------------------------------------------------------
    @torch.no_grad()
    def score(self, roots: list[torch.Tensor], leaves: torch.Tensor) -> torch.Tensor:
        """Log-likelihood of each candidate being the target (higher is better): (N,).

        Root term: per tree, code the root over [target | background] atoms and compare the
        reconstruction errors from the target part and the background part; leaf term: the mean
        reconstruction error of the candidate's local patches over the patch dictionary.
        """
        c, d = self.cfg, self.dicts
        root_term = torch.zeros(roots[0].shape[0])
        for r, dt, db in zip(roots, d.target, d.background):
            full = torch.cat([dt, db], dim=1)
            codes = ista(r, full, c.lam, c.ista_iters)
            err_t = reconstruction_error(r, dt, codes[:, : dt.shape[1]])
            err_b = reconstruction_error(r, db, codes[:, dt.shape[1]:])
            root_term += (err_b - err_t) / len(roots)
        by_position = leaves.transpose(0, 1)  # (L, N, d_leaf): each position over its own atoms
        codes = ista(by_position, d.patches, c.lam, c.ista_iters)
        leaf_err = reconstruction_error(by_position, d.patches, codes)  # (L, N)
        return root_term - c.leaf_weight * leaf_err.mean(dim=0)

    def update(self, frame: np.ndarray) -> np.ndarray:
        """Track into the next frame: returns the new box (x, y, w, h)."""
        if not hasattr(self, "dicts"):
            raise ValueError("call init(frame, box) before update(frame)")
        c = self.cfg
        ft = frame_tensor(frame)
        cands = sample_candidates(self.box, c.n_candidates, self.rng, c.sigma_xy, c.sigma_scale, frame.shape,
                                  sampler=c.sampler, scale_search=c.scale_search)
        roots, leaves = self.features(ft, cands)
        s = self.score(roots, leaves)
        top = torch.topk(s, min(c.top_k, len(s))).indices.numpy()
        w = np.exp((s[top] - s[top].max()).numpy())
        self.box = (cands[top] * w[:, None]).sum(0) / w.sum()
        self.frame_index += 1
        if c.online_update and self.frame_index % c.update_every == 0:
            self._online_update(ft, frame.shape)
        return self.box.copy()

    @torch.no_grad()
    def _online_update(self, ft: torch.Tensor, shape) -> None:
        """Add the tracked result to the target and patch dictionaries (first-frame atoms stay),
        and resample the background dictionary from the current frame."""
        c, d = self.cfg, self.dicts
        roots, leaves = self.features(ft, self.box[None])
        _, neg = self._samples(self.box, shape)
        roots_n, _ = self.features(ft, neg)
        for k, r in enumerate(roots):
            if d.target[k].shape[1] < c.max_atoms:
                d.target[k] = torch.cat([d.target[k], r.T], dim=1)
            else:
                slot = d.n_fixed + d.cursor % (c.max_atoms - d.n_fixed)
                d.target[k][:, slot] = r[0]
            d.background[k] = roots_n[k].T.clone()
        d.cursor += 1
        d.patches = torch.cat([d.patches, leaves[0][:, :, None]], dim=2)
        limit = d.n_fixed_patches + c.n_patch_atoms
        if d.patches.shape[2] > limit:  # drop the oldest non-fixed patch atoms
            d.patches = torch.cat([d.patches[..., : d.n_fixed_patches], d.patches[..., -(limit - d.n_fixed_patches):]], dim=2)


def run_tracker(frames: np.ndarray, first_box, config: TrackerConfig | None = None,
                progress_desc: str | None = None) -> dict:
    """Run :class:`TreeRNNTracker` over a sequence; returns boxes (T, 4), frames per wall-clock
    second (``fps``) and frames per CPU second of this process (``cpu_fps``, ``time.process_time``:
    on a shared machine it does not count the time other processes hold the cores). The first
    frame's learning is counted in both, as OTB does."""
    from companion.utils import Timer, progress

    if np.ndim(frames) != 4:
        raise ValueError(f"frames must be (T, H, W, 3), got shape {np.shape(frames)}")
    tracker = TreeRNNTracker(config)
    with Timer() as t:
        tracker.init(frames[0], first_box)
        boxes = [np.asarray(first_box, dtype=np.float64)]
        for frame in progress(frames[1:], desc=progress_desc or "tracking", disable=progress_desc is None or None):
            boxes.append(tracker.update(frame))
    return {"boxes": np.stack(boxes), **frame_rates(len(frames), t), "tracker": tracker}
