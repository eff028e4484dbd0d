r"""Shared projections between the teacher's and the student's spaces, and their losses.

Two trainable matrices are shared by all layers: :math:`U_h \in \mathbb R^{d_t\times d_s}` for
the hidden size and :math:`U_f \in \mathbb R^{f_t\times f_s}` for the feed-forward size. A
tensor of the student is mapped *up* to the teacher's shape by multiplying each of its axes by
the projection of that axis (:math:`W_s \mapsto U_h W_s U_h^\top` for a hidden-to-hidden
matrix), and a teacher tensor is mapped *down* by the transposes
(:math:`W_t \mapsto U_h^\top W_t U_h`). The loss is the mean squared difference in the
teacher's space (up) or in the student's (down), summed over the matrices and biases of the
aligned layers, as the paper does for "each trainable variable" of a layer.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

# the linear maps of one BERT layer and the kind of each axis of their (out, in) weights
LAYER_LINEARS: dict[str, tuple[str, str]] = {
    "attention.self.query": ("hidden", "hidden"),
    "attention.self.key": ("hidden", "hidden"),
    "attention.self.value": ("hidden", "hidden"),
    "attention.output.dense": ("hidden", "hidden"),
    "intermediate.dense": ("intermediate", "hidden"),
    "output.dense": ("hidden", "intermediate"),
}


def _map_axes(x: torch.Tensor, projections: Sequence[torch.Tensor | None], down: bool) -> torch.Tensor:
    """Multiply axis ``i`` of ``x`` by ``projections[i]`` (``(t_i, s_i)``): by ``u`` from the
    student's size ``s_i`` up to ``t_i``, or by ``u.T`` from ``t_i`` down to ``s_i``."""
    if len(projections) != x.ndim:
        raise ValueError(f"need one projection (or None) per axis: {x.ndim} axes, got {len(projections)}")
    for axis, u in enumerate(projections):
        if u is not None:
            if u.shape[0 if down else 1] != x.shape[axis]:
                raise ValueError(f"axis {axis} has size {x.shape[axis]} but its projection is {tuple(u.shape)}")
            x = torch.movedim(torch.movedim(x, axis, -1) @ (u if down else u.t()), -1, axis)
    return x


def project_up(x: torch.Tensor, projections: Sequence[torch.Tensor | None]) -> torch.Tensor:
    """Map a student tensor to the teacher's shape: axis ``i`` (size ``s_i``) is multiplied by
    ``projections[i]`` of shape ``(t_i, s_i)``; ``None`` leaves an axis alone."""
    return _map_axes(x, projections, down=False)


def project_down(x: torch.Tensor, projections: Sequence[torch.Tensor | None]) -> torch.Tensor:
    """Map a teacher tensor to the student's shape with the transposed projections."""
    return _map_axes(x, projections, down=True)


def projection_loss(student: torch.Tensor, teacher: torch.Tensor, projections: Sequence[torch.Tensor | None],
                    direction: str = "up") -> torch.Tensor:
    r"""Mean squared alignment error: ``up`` :math:`\|P_\uparrow(S) - T\|^2` (teacher space) or
    ``down`` :math:`\|P_\downarrow(T) - S\|^2` (student space), averaged over entries."""
    if direction == "up":
        return (project_up(student, projections) - teacher).pow(2).mean()
    if direction == "down":
        return (project_down(teacher, projections) - student).pow(2).mean()
    raise ValueError(f"direction must be 'up' or 'down', got {direction!r}")


def pca_projection(x: torch.Tensor, k: int) -> torch.Tensor:
    """The top ``k`` principal directions of the rows of ``x`` (n, d) as a (d, k) matrix with
    orthonormal columns."""
    if not 1 <= k <= x.shape[1]:
        raise ValueError(f"k must be in 1..{x.shape[1]}, got {k}")
    _, _, vh = torch.linalg.svd(x - x.mean(0), full_matrices=False)
    return vh[:k].t().contiguous()


def layer_map(student_layers: int, teacher_layers: int) -> list[int]:
    """Teacher layer aligned with each student layer, spread evenly (last with last)."""
    if student_layers < 1 or teacher_layers < 1:
        raise ValueError("layer counts must be >= 1")
    return [round((j + 1) * teacher_layers / student_layers) - 1 for j in range(student_layers)]


class SharedProjections(nn.Module):
    """The two trainable projections ``hidden`` (d_t, d_s) and ``intermediate`` (f_t, f_s)."""

    def __init__(self, hidden: torch.Tensor, intermediate: torch.Tensor):
        super().__init__()
        self.hidden = nn.Parameter(hidden.detach().clone())
        self.intermediate = nn.Parameter(intermediate.detach().clone())

    def of(self, kind: str) -> torch.Tensor:
        return {"hidden": self.hidden, "intermediate": self.intermediate}[kind]

    @classmethod
    def from_teacher(cls, teacher_bert, student_hidden: int, student_intermediate: int,
                     hidden_directions: torch.Tensor | None = None) -> "SharedProjections":
        """Initial projections. ``hidden``: the given (d_t, d_s) directions (e.g. the PCA of the
        student-vocabulary embeddings after dual training), else the PCA of the teacher's word
        embeddings. ``intermediate``: a 0/1 *selection* of the ``f_s`` feed-forward units with the
        largest weight norm over the layers; a selection commutes with GELU, a rotation would not."""
        d_t = teacher_bert.config.hidden_size
        if student_hidden > d_t:
            raise ValueError(f"student hidden ({student_hidden}) must not exceed the teacher's ({d_t})")
        if hidden_directions is None:
            hidden_directions = pca_projection(teacher_bert.embeddings.word_embeddings.weight.detach(), student_hidden)
        norms = sum(layer.intermediate.dense.weight.detach().norm(dim=1) for layer in teacher_bert.encoder.layer)
        f_t = norms.numel()
        if student_intermediate > f_t:
            raise ValueError(f"student intermediate ({student_intermediate}) must not exceed the teacher's ({f_t})")
        keep = torch.sort(torch.topk(norms, student_intermediate).indices).values
        select = torch.zeros(f_t, student_intermediate)
        select[keep, torch.arange(student_intermediate)] = 1.0
        return cls(hidden_directions, select)


def weight_pairs(student_bert, teacher_bert, lmap: Sequence[int] | None = None):
    """``(name, student tensor, teacher tensor, axis kinds)`` for every linear weight and bias
    of the aligned layers (``lmap[j]`` = teacher layer of student layer ``j``)."""
    s_layers, t_layers = student_bert.encoder.layer, teacher_bert.encoder.layer
    lmap = list(lmap) if lmap is not None else layer_map(len(s_layers), len(t_layers))
    if len(lmap) != len(s_layers) or max(lmap) >= len(t_layers):
        raise ValueError(f"layer map {lmap} does not fit {len(s_layers)} student / {len(t_layers)} teacher layers")
    for j, i in enumerate(lmap):
        for name, (out_kind, in_kind) in LAYER_LINEARS.items():
            s_lin, t_lin = s_layers[j].get_submodule(name), t_layers[i].get_submodule(name)
            yield f"{j}.{name}.weight", s_lin.weight, t_lin.weight, (out_kind, in_kind)
            yield f"{j}.{name}.bias", s_lin.bias, t_lin.bias, (out_kind,)


def shared_projection_loss(student_bert, teacher_bert, projections: SharedProjections, direction: str = "up",
                           lmap: Sequence[int] | None = None, relative: bool = False) -> torch.Tensor:
    """Mean over the aligned weights of :func:`projection_loss` (teacher weights are constants).

    ``relative=True`` divides each term by the mean square of the teacher tensor, so every
    matrix and bias counts on the same scale (1 = an error as large as the weight itself). A
    teacher tensor that is (almost) all zeros, such as a freshly initialised bias, keeps its
    absolute error: dividing by its mean square would blow the term up."""
    losses = []
    for _, s, t, kinds in weight_pairs(student_bert, teacher_bert, lmap):
        t = t.detach()
        term = projection_loss(s, t, [projections.of(k) for k in kinds], direction)
        scale = t.pow(2).mean()
        losses.append(term / scale if relative and scale > 1e-8 else term)
    return torch.stack(losses).mean()


@torch.no_grad()
def init_student_from_teacher(student_bert, teacher_bert, projections: SharedProjections,
                              lmap: Sequence[int] | None = None) -> None:
    """Set every aligned student weight to its down-projected teacher weight (the minimiser of the
    projection loss for fixed orthonormal projections), and the position and segment embeddings
    to the teacher's projected ones. Word embeddings and LayerNorms are left alone."""
    for _, s, t, kinds in weight_pairs(student_bert, teacher_bert, lmap):
        s.copy_(project_down(t, [projections.of(k) for k in kinds]))
    u = projections.hidden
    for name in ("position_embeddings", "token_type_embeddings"):
        s_emb, t_emb = getattr(student_bert.embeddings, name).weight, getattr(teacher_bert.embeddings, name).weight
        s_emb.copy_(t_emb[: s_emb.shape[0]] @ u)
