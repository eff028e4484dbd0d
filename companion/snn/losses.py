"""The losses: cross-entropy, knowledge distillation, activation and logits regularization.

The paper (Louis et al., 2024) names the three ingredients but its formulas and coefficients are
not in any source we could read (see the paper sheet); the forms below are the standard ones:
Hinton et al.'s KD loss, an L1/L2 penalty on hidden spike rates (activation regularization), and
an L1/L2 penalty on the output logits (logits regularization; the authors' lab config names an
"L2 logits" student with lambda 0.01).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

import torch
import torch.nn.functional as F


def _check_logits(student: torch.Tensor, labels: torch.Tensor | None = None) -> None:
    if student.ndim != 2:
        raise ValueError(f"logits must be (B, C), got shape {tuple(student.shape)}")
    if labels is not None and (labels.ndim != 1 or labels.shape[0] != student.shape[0]):
        raise ValueError(f"labels must be (B,) with B = {student.shape[0]}, got shape {tuple(labels.shape)}")


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
            temperature: float = 2.0, alpha: float = 0.5) -> torch.Tensor:
    r"""Knowledge-distillation loss (Hinton et al., 2015), a scalar:

    .. math::
        \mathcal L_{KD} = (1-\alpha)\,\mathrm{CE}(z_s, y)
        + \alpha\,\tau^2\,\mathrm{KL}\big(\mathrm{softmax}(z_t/\tau)\,\|\,\mathrm{softmax}(z_s/\tau)\big)

    ``student_logits`` and ``teacher_logits`` are (B, C), ``labels`` (B,). The :math:`\tau^2`
    keeps the soft term's gradient on the scale of the hard one as :math:`\tau` grows.
    """
    _check_logits(student_logits, labels)
    if teacher_logits.shape != student_logits.shape:
        raise ValueError(
            f"teacher and student must give logits of the same shape (same number of classes), "
            f"got teacher {tuple(teacher_logits.shape)} and student {tuple(student_logits.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    hard = F.cross_entropy(student_logits, labels)
    soft = F.kl_div(F.log_softmax(student_logits / temperature, dim=1),
                    F.log_softmax(teacher_logits.detach() / temperature, dim=1),
                    reduction="batchmean", log_target=True)
    return (1.0 - alpha) * hard + alpha * temperature**2 * soft


def activation_regularization(counts: Mapping[str, torch.Tensor], num_steps: int, p: int = 1) -> torch.Tensor:
    r"""Penalty on spike rates, summed over layers:
    :math:`\mathcal L_{act} = \sum_l \frac{1}{B N_l}\sum_{b,n} (c^{l}_{bn} / T)^p`, ``p`` in {1, 2}.

    ``counts`` maps a layer to its (B, N_l) spike counts over ``num_steps`` = T steps (as
    :meth:`SpikeMonitor.counts` returns them; keep the graph to back-propagate through the surrogate).
    """
    if p not in (1, 2):
        raise ValueError(f"p must be 1 (L1) or 2 (L2), got {p}")
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if not counts:
        raise ValueError("counts is empty: no layer to regularize")
    total = 0.0
    for name, c in counts.items():
        if c.ndim != 2:
            raise ValueError(f"layer {name!r}: counts must be (B, N), got shape {tuple(c.shape)}")
        total = total + ((c / num_steps) ** p).mean()
    return total


def logits_regularization(logits: torch.Tensor, p: int = 2) -> torch.Tensor:
    r"""Logits regularization: :math:`\mathcal L_{logits} = \frac{1}{BC}\sum_{b,c} |z_{bc}|^p` for (B, C) logits.

    With the authors' time-averaged readout the logits are real numbers built from the last hidden
    layer's spikes, so this discourages every hidden spike that only served to push a logit further
    than needed. With a spiking readout (the chapter's ablation) the logits are spike counts and
    the penalty falls on the output spikes themselves.
    """
    _check_logits(logits)
    if p not in (1, 2):
        raise ValueError(f"p must be 1 (L1) or 2 (L2), got {p}")
    return (logits.abs() ** p).mean()


@dataclass(frozen=True)
class LossConfig:
    """Which terms the student's loss has, and their weights (``parse_loss`` builds one from text)."""

    kd: bool = False
    temperature: float = 2.0
    alpha: float = 0.5
    act_lambda: float = 0.0
    act_p: int = 1
    logits_lambda: float = 0.0
    logits_p: int = 2

    @property
    def name(self) -> str:
        parts = [p for p, on in (("kd", self.kd), ("act", self.act_lambda > 0), ("logits", self.logits_lambda > 0)) if on]
        return "+".join(parts) or "plain"


DEFAULT_ACT_LAMBDA = 0.1
DEFAULT_LOGITS_LAMBDA = 1.0
TERMS = ("plain", "ce", "kd", "act", "logits")


def parse_loss(spec: str, act_lambda: float = DEFAULT_ACT_LAMBDA, logits_lambda: float = DEFAULT_LOGITS_LAMBDA,
               **kwargs) -> LossConfig:
    """``"kd+logits"`` -> a :class:`LossConfig`; terms: ``plain`` (= ``ce``), ``kd``, ``act``, ``logits``."""
    terms = [t.strip() for t in spec.lower().split("+") if t.strip()]
    bad = [t for t in terms if t not in TERMS]
    if not terms or bad:
        raise ValueError(f"loss spec must join terms from {TERMS} with '+', got {spec!r}")
    cfg = LossConfig(kd="kd" in terms, act_lambda=act_lambda if "act" in terms else 0.0,
                     logits_lambda=logits_lambda if "logits" in terms else 0.0)
    return replace(cfg, **kwargs)


def student_loss(logits: torch.Tensor, labels: torch.Tensor, config: LossConfig,
                 counts: Mapping[str, torch.Tensor] | None = None, num_steps: int | None = None,
                 teacher_logits: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Any combination of the terms: ``{"loss": total, "task": CE or KD, "act": ..., "logits": ...}``.

    :math:`\\mathcal L = \\mathcal L_{task} + \\lambda_{act}\\mathcal L_{act} + \\lambda_{logits}\\mathcal L_{logits}`,
    where the task term is KD when ``config.kd`` (then ``teacher_logits`` is needed) and CE otherwise.
    """
    _check_logits(logits, labels)
    if config.kd:
        if teacher_logits is None:
            raise ValueError("config.kd is set but no teacher_logits were given")
        task = kd_loss(logits, teacher_logits, labels, config.temperature, config.alpha)
    else:
        task = F.cross_entropy(logits, labels)
    out = {"task": task}
    total = task
    if config.act_lambda > 0:
        if counts is None or num_steps is None:
            raise ValueError("activation regularization needs the spike counts and num_steps")
        out["act"] = activation_regularization(counts, num_steps, config.act_p)
        total = total + config.act_lambda * out["act"]
    if config.logits_lambda > 0:
        out["logits"] = logits_regularization(logits, config.logits_p)
        total = total + config.logits_lambda * out["logits"]
    out["loss"] = total
    return out
