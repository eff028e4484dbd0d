"""Training the student: masked-LM on the student vocabulary, plus the shared-projection loss
(our method), or plain logit distillation on the teacher's vocabulary (a baseline)."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from companion.minibert.mixed import IGNORE, SingleTokenizer, device_of, mask_tokens, on_device
from companion.minibert.projection import SharedProjections, shared_projection_loss
from companion.minibert.teacher import mlm_metrics
from companion.utils import eval_mode, progress


def _schedule(optimizer: torch.optim.Optimizer, steps: int, warmup: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up then linear decay to zero, as in BERT."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / max(warmup, 1), max(0.0, (steps - s) / max(steps - warmup, 1))))


def _validate(history: dict[str, list[float]], step: int, student, validation: Sequence[dict] | None,
              eval_every: int, steps: int) -> None:
    """Append the held-out masked-LM loss and accuracy at ``step`` (every ``eval_every`` steps and
    after the last one): the curve that shows whether training has flattened. Nothing is chosen
    on it."""
    if not validation or not eval_every or (step % eval_every and step != steps):
        return
    with eval_mode(student):
        m = mlm_metrics(student_predict(student), validation)
    history.setdefault("val_step", []).append(step)
    history.setdefault("val_loss", []).append(math.log(m["perplexity"]))
    history.setdefault("val_accuracy", []).append(m["mlm_accuracy"])


def student_mlm_loss(student, batch: dict) -> torch.Tensor:
    """Cross-entropy of a BertForMaskedLM at the masked positions (scores only where needed)."""
    batch = on_device(batch, device_of(student))
    hidden = student.bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    sel = batch["labels"] != IGNORE
    return F.cross_entropy(student.cls(hidden[sel]), batch["labels"][sel])


def train_student_mlm(student, tokenizer: SingleTokenizer, sentences: Sequence[str], steps: int, batch_size: int = 32,
                      lr: float = 1e-3, seed: int = 0, mask_prob: float = 0.15, teacher_bert=None,
                      projections: SharedProjections | None = None, projection_weight: float = 0.0,
                      direction: str = "up", desc: str = "student", validation: Sequence[dict] | None = None,
                      eval_every: int = 0) -> dict[str, list[float]]:
    """Masked-LM training of ``student`` on its own vocabulary with dynamic masking.

    With ``teacher_bert``, ``projections`` and ``projection_weight > 0`` the loss adds
    ``projection_weight`` times the shared-projection loss (the projections train too).
    Returns per-step ``loss``, ``mlm`` and ``projection`` values, and with ``validation``
    (fixed masked batches) and ``eval_every > 0`` the held-out ``val_loss`` / ``val_accuracy``
    at ``val_step`` 0, ``eval_every``, ... and the last step.
    """
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps}, {batch_size}")
    use_proj = projection_weight > 0
    if use_proj and (teacher_bert is None or projections is None):
        raise ValueError("projection_weight > 0 needs teacher_bert and projections")
    params = list(student.parameters()) + (list(projections.parameters()) if use_proj else [])
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    sched = _schedule(opt, steps, warmup=max(1, steps // 10))
    g = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"loss": [], "mlm": [], "projection": []}
    _validate(history, 0, student, validation, eval_every, steps)
    student.train()
    bar = progress(range(steps), desc=desc)
    for step in bar:
        idx = torch.randint(0, len(sentences), (batch_size,), generator=g).tolist()
        enc = tokenizer.encode([sentences[i] for i in idx])
        masked, labels = mask_tokens(enc["input_ids"], enc["word_ids"], tokenizer.mask_id, mask_prob, g)
        mlm = student_mlm_loss(student, {"input_ids": masked, "attention_mask": enc["attention_mask"], "labels": labels})
        proj = (shared_projection_loss(student.bert, teacher_bert, projections, direction, relative=True)
                if use_proj else mlm.new_zeros(()))
        loss = mlm + projection_weight * proj
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        for k, v in (("loss", loss), ("mlm", mlm), ("projection", proj)):
            history[k].append(float(v.detach()))
        bar.set_postfix(mlm=f"{mlm.item():.3f}")
        _validate(history, step + 1, student, validation, eval_every, steps)
    student.eval()
    return history


def logit_kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    r"""Hinton's distillation loss :math:`T^2\,\mathrm{KL}(\mathrm{softmax}(z_t/T)\,\|\,\mathrm{softmax}(z_s/T))`,
    averaged over rows."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    t = F.log_softmax(teacher_logits / temperature, dim=-1)
    s = F.log_softmax(student_logits / temperature, dim=-1)
    return F.kl_div(s, t, log_target=True, reduction="batchmean") * temperature**2


def train_student_logit_kd(student, cached: Sequence[dict], teacher_logits: Callable[[dict], torch.Tensor],
                           steps: int, lr: float = 1e-3, seed: int = 0, kd_weight: float = 0.5,
                           temperature: float = 1.0, desc: str = "logit KD", validation: Sequence[dict] | None = None,
                           eval_every: int = 0) -> dict[str, list[float]]:
    """Train a teacher-vocabulary student on the cached, statically masked batches of
    :func:`~companion.minibert.teacher.cache_masked_batches` with
    ``(1 - kd_weight) * MLM + kd_weight * KD``; ``teacher_logits(batch)`` gives the teacher's
    scores at the masked positions of a cached batch. ``validation`` and ``eval_every``: as in
    :func:`train_student_mlm`."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if not 0.0 <= kd_weight <= 1.0:
        raise ValueError(f"kd_weight must be in [0, 1], got {kd_weight}")
    opt = torch.optim.AdamW(student.parameters(), lr=lr, weight_decay=0.01)
    sched = _schedule(opt, steps, warmup=max(1, steps // 10))
    g = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"loss": [], "mlm": [], "kd": []}
    _validate(history, 0, student, validation, eval_every, steps)
    student.train()
    bar = progress(range(steps), desc=desc)
    for step in bar:
        b = on_device(cached[int(torch.randint(0, len(cached), (1,), generator=g))], device_of(student))
        hidden = student.bert(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).last_hidden_state
        sel = b["labels"] != IGNORE
        logits = student.cls(hidden[sel])
        mlm = F.cross_entropy(logits, b["labels"][sel])
        with torch.no_grad():
            target = teacher_logits(b)
        kd = logit_kd_loss(logits, target, temperature)
        loss = (1 - kd_weight) * mlm + kd_weight * kd
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        sched.step()
        for k, v in (("loss", loss), ("mlm", mlm), ("kd", kd)):
            history[k].append(float(v.detach()))
        bar.set_postfix(mlm=f"{mlm.item():.3f}")
        _validate(history, step + 1, student, validation, eval_every, steps)
    student.eval()
    return history


def student_predict(student) -> Callable[[dict], tuple[torch.Tensor, torch.Tensor]]:
    """A ``predict`` for :func:`~companion.minibert.teacher.mlm_metrics`."""
    def predict(b: dict) -> tuple[torch.Tensor, torch.Tensor]:
        b = on_device(b, device_of(student))
        hidden = student.bert(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).last_hidden_state
        sel = b["labels"] != IGNORE
        return student.cls(hidden[sel]), b["labels"][sel]

    return predict
