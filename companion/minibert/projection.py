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

from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from companion.utils import eval_mode

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
        select = torch.zeros(f_t, student_intermediate, device=norms.device)
        select[keep, torch.arange(student_intermediate, device=norms.device)] = 1.0
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
def project_layer_norm(student_ln: nn.LayerNorm, teacher_ln: nn.LayerNorm, u: torch.Tensor) -> None:
    r"""Set a student LayerNorm from the teacher's: shift :math:`\beta_s = U^\top \beta_t` and gain
    :math:`\gamma_s = \operatorname{diag}(U^\top \operatorname{diag}(\gamma_t)\, U)`, the diagonal of the
    teacher's gain seen in the student's basis (exact when ``u`` is a selection of axes)."""
    student_ln.weight.copy_(u.pow(2).t() @ teacher_ln.weight)
    student_ln.bias.copy_(u.t() @ teacher_ln.bias)


@torch.no_grad()
def init_student_from_teacher(student_bert, teacher_bert, projections: SharedProjections,
                              lmap: Sequence[int] | None = None, layer_norms: bool = False) -> None:
    """Set every aligned student weight to its down-projected teacher weight (the minimiser of the
    projection loss for fixed orthonormal projections), and the position and segment embeddings
    to the teacher's projected ones. Word embeddings are left alone, and so are the LayerNorms
    unless ``layer_norms`` (then they are projected by :func:`project_layer_norm`; measured on
    all-MiniLM-L6-v2 this raised the student's starting masked-LM loss, 8.11 -> 8.31 nats, so it
    is off by default)."""
    s_layers, t_layers = student_bert.encoder.layer, teacher_bert.encoder.layer
    lmap = list(lmap) if lmap is not None else layer_map(len(s_layers), len(t_layers))
    for _, s, t, kinds in weight_pairs(student_bert, teacher_bert, lmap):
        s.copy_(project_down(t, [projections.of(k) for k in kinds]))
    u = projections.hidden
    for name in ("position_embeddings", "token_type_embeddings"):
        s_emb, t_emb = getattr(student_bert.embeddings, name).weight, getattr(teacher_bert.embeddings, name).weight
        s_emb.copy_(t_emb[: s_emb.shape[0]] @ u)
    if layer_norms:
        project_layer_norm(student_bert.embeddings.LayerNorm, teacher_bert.embeddings.LayerNorm, u)
        for j, i in enumerate(lmap):
            for name in ("attention.output.LayerNorm", "output.LayerNorm"):
                project_layer_norm(s_layers[j].get_submodule(name), t_layers[i].get_submodule(name), u)


@torch.no_grad()
def init_student_head_from_teacher(student, dense: nn.Linear, layer_norm: nn.LayerNorm, decoder_bias: torch.Tensor,
                                   projections: SharedProjections) -> None:
    """Start the student's MLM head (a ``BertForMaskedLM``'s ``cls``) from the teacher's head.

    The student's decoder is tied to its word embeddings, which are the teacher-space vectors of
    the student's pieces in the basis ``U_h``. A *random* transform in front of that decoder
    scores every piece with noise of the embeddings' scale (teacher-sized vectors, not BERT's
    N(0, 0.02)), and its loss starts above uniform (``ln V``). Here the transform is the
    teacher's projected down (dense ``U^T W U``, bias ``U^T b``, LayerNorm by
    :func:`project_layer_norm`) and the decoder bias is the teacher's bias over the student's
    pieces (``decoder_bias``, shape ``(V_s,)``), so the student scores its pieces as the teacher
    does, seen through ``U_h``."""
    u = projections.hidden
    transform = student.cls.predictions.transform
    transform.dense.weight.copy_(project_down(dense.weight, [u, u]))
    transform.dense.bias.copy_(project_down(dense.bias, [u]))
    project_layer_norm(transform.LayerNorm, layer_norm, u)
    bias = student.cls.predictions.decoder.bias if student.cls.predictions.decoder.bias is not None \
        else student.cls.predictions.bias
    if decoder_bias.shape != bias.shape:
        raise ValueError(f"decoder_bias must have shape {tuple(bias.shape)} (one per student piece), "
                         f"got {tuple(decoder_bias.shape)}")
    bias.copy_(decoder_bias)


@torch.no_grad()
def calibrate_head_scale(student, batches: Sequence[dict], scales: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 1.0)
                         ) -> dict[str, Any]:
    """Scale the output of the student's head transform by the factor of ``scales`` with the
    lowest masked-LM loss on ``batches`` (training sentences, masked), and return the losses.

    The logits are ``s * z . e + b`` (``z`` the transform's output, ``e`` the tied word
    embeddings, ``b`` the decoder bias). The factor is folded into the head's LayerNorm (gain and
    shift times ``s``), so ``s`` must be positive: a zero gain passes no gradient to the body, and
    a student started at ``s = 0`` stayed near the unigram loss for hundreds of steps (measured:
    6.39 nats after 400 steps against 6.20 at ``s = 0.1``)."""
    from companion.minibert.mixed import IGNORE, device_of, on_device

    if not scales or min(scales) <= 0:
        raise ValueError(f"calibrate_head_scale needs positive scales (a zero gain stops the gradient), got {scales}")
    pred = student.cls.predictions
    z, y = [], []
    with eval_mode(student):
        for b in batches:
            b = on_device(b, device_of(student))
            hidden = student.bert(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).last_hidden_state
            sel = b["labels"] != IGNORE
            z.append(pred.transform(hidden[sel]))
            y.append(b["labels"][sel])
    z, y = torch.cat(z), torch.cat(y)
    if len(y) == 0:
        raise ValueError("calibrate_head_scale got no masked positions")
    dot = z @ student.get_input_embeddings().weight.t()
    losses = {float(s): float(F.cross_entropy(s * dot + pred.bias, y)) for s in scales}
    best = min(losses, key=losses.get)
    pred.transform.LayerNorm.weight.mul_(best)
    pred.transform.LayerNorm.bias.mul_(best)
    return {"scale": best, "losses": losses}


def build_mixed_student(config, teacher_bert, table: torch.Tensor, head_dense: nn.Linear, head_norm: nn.LayerNorm,
                        head_bias: torch.Tensor, seed: int = 0, head: bool = True, prior: torch.Tensor | None = None,
                        calibration: Sequence[dict] | None = None, body: bool = True):
    """A student (``BertForMaskedLM`` of ``config``) started from the teacher, and its projections.

    ``table`` (V_s, d_t): the teacher-space vectors of the student's pieces (dual-trained or
    not). ``U_h`` is their top principal directions; the student's word embeddings are the
    centred vectors in that basis. ``body``: the layers are the teacher's projected down
    (:func:`init_student_from_teacher`); else BERT's random initialisation, as in the paper,
    where only the projection loss ties the layers to the teacher (measured with our teacher:
    the projected layers left the student at the unigram loss, 6.49 nats after 400 steps, a
    random body reached 6.20). The MLM head:

    * ``head`` (default): the teacher's head (``head_dense``, ``head_norm``, bias over the
      student's pieces ``head_bias``) projected down (:func:`init_student_head_from_teacher`).
      Without it the head is random and the start depends on its draw: 8.04, 8.69 and 8.81 nats
      for three seeds against ln 4000 = 8.29 (all-MiniLM-L6-v2, a 4,000-piece, 128-wide
      student). The tied decoder is the cause: its rows are teacher-sized vectors (norm about
      1, against 0.23 for BERT's N(0, 0.02) rows), so any head that does not match them scores
      the pieces with noise of about a nat.
    * ``prior`` (V_s,): log-frequencies of the student's pieces; they replace the decoder bias.
    * ``calibration``: masked batches of *training* sentences on which the transform's output is
      scaled down where that lowers the loss (:func:`calibrate_head_scale`): with ``prior``, the
      start is then no worse than the unigram distribution, which is far below ``ln V``.

    Returns ``(student, projections, info)``, ``info`` the calibration (or ``{}``).
    """
    from companion.minibert.student import build_student

    torch.manual_seed(seed)
    student = build_student(config).to(table.device)  # drawn on the CPU, then beside the teacher
    table = table.detach()
    proj = SharedProjections.from_teacher(teacher_bert, config.hidden_size, config.intermediate_size,
                                          pca_projection(table, config.hidden_size))
    with torch.no_grad():
        student.bert.embeddings.word_embeddings.weight.copy_((table - table.mean(0)) @ proj.hidden)
    if body:
        init_student_from_teacher(student.bert, teacher_bert, proj)
    if head:
        init_student_head_from_teacher(student, head_dense, head_norm, head_bias.detach(), proj)
    if prior is not None:
        if prior.shape != student.cls.predictions.bias.shape:
            raise ValueError(f"prior must have shape {tuple(student.cls.predictions.bias.shape)}, got {tuple(prior.shape)}")
        with torch.no_grad():
            student.cls.predictions.bias.copy_(prior)
    info = calibrate_head_scale(student, calibration) if calibration else {}
    return student, proj, info
