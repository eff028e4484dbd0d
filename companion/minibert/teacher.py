"""The teacher side: all-MiniLM-L6-v2, an MLM head for it, and mixed-vocabulary dual training.

all-MiniLM-L6-v2 is a sentence encoder and ships *without* a masked-LM head. We give it one
(BERT's transform ``dense -> GELU -> LayerNorm`` and a decoder tied to the word embeddings,
plus a bias) and *lightly tune* it: the head and the top ``tuned_layers`` layers train, the
rest of the body and the word embeddings stay frozen. The head is first fitted on cached
inputs of the top layer for masked teacher-vocabulary sentences (one teacher pass, reused
every epoch). Dual training then feeds the teacher mixed-vocabulary sequences: student word
pieces enter through a trainable student-vocabulary embedding table *in the teacher's space*
(``V_s x d_t``), and masked pieces are predicted with a separate softmax per vocabulary
(teacher pieces against the teacher's embeddings, student pieces against the student table).
Gradients pass through the frozen layers into the student table. The paper updates the whole
teacher; freezing most of it is our CPU-budget departure.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from companion.minibert.mixed import IGNORE, MixedTokenizer, SingleTokenizer, device_of, mask_tokens, on_device
from companion.minibert.vocab import plain_tokenizer
from companion.utils import progress


@torch.no_grad()
def init_student_embeddings(teacher_tokenizer, student_tokenizer, teacher_embeddings: torch.Tensor
                            ) -> tuple[torch.Tensor, float]:
    """Initial teacher-space embeddings (V_s, d_t) for the student's pieces.

    A piece that also exists in the teacher's vocabulary takes the teacher's vector; any other
    piece takes the mean of the teacher vectors of its teacher pieces. Returns the table and the
    share of student pieces found verbatim in the teacher's vocabulary.
    """
    t_tok, s_tok = plain_tokenizer(teacher_tokenizer), plain_tokenizer(student_tokenizer)
    t_vocab = t_tok.get_vocab()
    out = torch.empty(s_tok.get_vocab_size(), teacher_embeddings.shape[1], device=teacher_embeddings.device)
    exact = 0
    for piece, sid in s_tok.get_vocab().items():
        if piece in t_vocab:
            out[sid] = teacher_embeddings[t_vocab[piece]]
            exact += 1
            continue
        word = piece[2:] if piece.startswith("##") else piece
        ids = t_tok.encode(word, add_special_tokens=False).ids or [t_vocab["[UNK]"]]
        if piece.startswith("##"):  # a continuation: use the teacher's continuation pieces where they exist
            cont = t_vocab.get("##" + t_tok.id_to_token(ids[0]))
            ids = ([cont] if cont is not None else ids[:1]) + ids[1:]
        out[sid] = teacher_embeddings[ids].mean(0)
    return out, exact / s_tok.get_vocab_size()


class DualTeacher(nn.Module):
    """Frozen teacher body + trainable student-vocabulary embeddings (in teacher space) + MLM head.

    Ids are in the unified space of :class:`MixedTokenizer`: ``< offset`` teacher, ``>= offset`` student.
    """

    def __init__(self, bert: nn.Module, student_embeddings: torch.Tensor, tuned_layers: int = 1):
        super().__init__()
        n_layers = len(bert.encoder.layer)
        if not 0 <= tuned_layers <= n_layers:
            raise ValueError(f"tuned_layers must be in 0..{n_layers}, got {tuned_layers}")
        self.bert = bert
        self.first_tuned = n_layers - tuned_layers
        for p in self.bert.parameters():
            p.requires_grad_(False)
        for layer in self.bert.encoder.layer[self.first_tuned:]:
            for p in layer.parameters():
                p.requires_grad_(True)
        self.bert.eval()  # no dropout anywhere in the teacher: it is lightly tuned, not retrained
        d = bert.config.hidden_size
        self.offset = bert.config.vocab_size
        if student_embeddings.ndim != 2 or student_embeddings.shape[1] != d:
            raise ValueError(f"student_embeddings must be (V_s, {d}), got {tuple(student_embeddings.shape)}")
        self.student_embeddings = nn.Parameter(student_embeddings.detach().clone())
        self.transform = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.LayerNorm(d, eps=bert.config.layer_norm_eps))
        self.teacher_bias = nn.Parameter(torch.zeros(self.offset))
        self.student_bias = nn.Parameter(torch.zeros(student_embeddings.shape[0]))
        self.to(device_of(bert))  # the new head and table beside the body

    @classmethod
    def from_masked_lm(cls, mlm, student_embeddings: torch.Tensor, tuned_layers: int = 1) -> "DualTeacher":
        """A dual teacher around a ``BertForMaskedLM`` that already has a trained MLM head (such as
        the continued pre-training of :mod:`companion.minibert.pretrain`): its body, and its head's
        transform and bias as this teacher's transform and teacher-vocabulary bias."""
        teacher = cls(mlm.bert, student_embeddings, tuned_layers)
        head = mlm.cls.predictions
        with torch.no_grad():
            teacher.transform[0].load_state_dict(head.transform.dense.state_dict())
            teacher.transform[2].load_state_dict(head.transform.LayerNorm.state_dict())
            teacher.teacher_bias.copy_(head.bias)
        return teacher

    def train(self, mode: bool = True) -> "DualTeacher":
        super().train(mode)
        self.bert.eval()
        return self

    @property
    def teacher_embeddings(self) -> torch.Tensor:
        return self.bert.embeddings.word_embeddings.weight

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Word vectors of unified ids: teacher table for teacher ids, student table for the others."""
        is_student = input_ids >= self.offset
        t_vec = F.embedding(torch.where(is_student, 0, input_ids), self.teacher_embeddings)
        s_vec = F.embedding(torch.where(is_student, input_ids - self.offset, 0), self.student_embeddings)
        return torch.where(is_student[..., None], s_vec, t_vec)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Last hidden states (B, L, d_t) for a (mixed) batch."""
        return self.bert(inputs_embeds=self.embed(input_ids), attention_mask=attention_mask).last_hidden_state

    def tuned_parameters(self) -> list[nn.Parameter]:
        """Parameters of the tuned top layers."""
        return [p for layer in self.bert.encoder.layer[self.first_tuned:] for p in layer.parameters()]

    def top(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Run the tuned top layers on cached inputs ``hidden`` (B, L, d_t), the output of the
        frozen layers (see :func:`cache_masked_batches`)."""
        from transformers.masking_utils import create_bidirectional_mask

        mask = create_bidirectional_mask(config=self.bert.config, inputs_embeds=hidden, attention_mask=attention_mask)
        for layer in self.bert.encoder.layer[self.first_tuned:]:
            out = layer(hidden, mask)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    def logits(self, states: torch.Tensor, vocab: str) -> torch.Tensor:
        """Scores of ``states`` (n, d_t) over the ``"teacher"`` or ``"student"`` vocabulary."""
        h = self.transform(states)
        if vocab == "teacher":
            return h @ self.teacher_embeddings.t() + self.teacher_bias
        if vocab == "student":
            return h @ self.student_embeddings.t() + self.student_bias
        raise ValueError(f"vocab must be 'teacher' or 'student', got {vocab!r}")

    def mlm_loss(self, states: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """Masked-LM loss with one softmax per vocabulary: ``states`` (n, d_t) at masked positions,
        ``labels`` (n,) unified ids. Returns ``loss`` (mean over all n) and accuracy per vocabulary."""
        out: dict[str, torch.Tensor] = {}
        total = states.new_zeros(())
        for name, sel, shift in (("teacher", labels < self.offset, 0), ("student", labels >= self.offset, self.offset)):
            if sel.any():
                logits = self.logits(states[sel], name)
                target = labels[sel] - shift
                total = total + F.cross_entropy(logits, target, reduction="sum")
                out[f"acc_{name}"] = (logits.argmax(1) == target).float().mean().detach()
        out["loss"] = total / max(len(labels), 1)
        return out


@torch.no_grad()
def cache_masked_batches(bert: nn.Module, tokenizer: SingleTokenizer, sentences: Sequence[str], batch_size: int = 32,
                         mask_prob: float = 0.15, seed: int = 0, frozen_layers: int | None = None,
                         desc: str = "teacher cache") -> list[dict]:
    """Mask teacher-vocabulary sentences once (static masking) and keep, per batch, the masked
    ids, the labels and ``hidden``: the output of the teacher's first ``frozen_layers`` layers
    (default: all but the last), i.e. the input of the tuned top layers.

    One pass of the frozen layers serves twice: the head and the top layer are fitted on these
    inputs, and the teacher-vocabulary student of the logit-KD baseline is trained on the same
    masked batches with the tuned teacher's scores on them as soft targets.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n_layers = len(bert.encoder.layer)
    frozen_layers = n_layers - 1 if frozen_layers is None else frozen_layers
    if not 0 <= frozen_layers <= n_layers:
        raise ValueError(f"frozen_layers must be in 0..{n_layers}, got {frozen_layers}")
    g = torch.Generator().manual_seed(seed)
    batches = []
    for start in progress(range(0, len(sentences), batch_size), desc=desc):
        enc = tokenizer.encode(sentences[start:start + batch_size])
        masked, labels = mask_tokens(enc["input_ids"], enc["word_ids"], tokenizer.mask_id, mask_prob, g)
        b = on_device({"input_ids": masked, "attention_mask": enc["attention_mask"], "labels": labels}, device_of(bert))
        out = bert(input_ids=b["input_ids"], attention_mask=b["attention_mask"], output_hidden_states=True)
        batches.append({**b, "hidden": out.hidden_states[frozen_layers].clone()})
    return batches


def cached_teacher_logits(teacher: "DualTeacher", batch: dict) -> torch.Tensor:
    """The (tuned) teacher's teacher-vocabulary scores at the masked positions of a cached batch."""
    states = teacher.top(batch["hidden"], batch["attention_mask"])
    return teacher.logits(states[batch["labels"] != IGNORE], "teacher")


def fit_teacher_head(teacher: DualTeacher, cached: list[dict], epochs: int = 3, lr: float = 1e-3,
                     layer_lr: float = 1e-4, seed: int = 0) -> list[float]:
    """Fit the head (transform and teacher-vocabulary bias, rate ``lr``) and the tuned top
    layers (rate ``layer_lr``) on cached inputs. Returns the mean loss of each epoch."""
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    groups = [{"params": list(teacher.transform.parameters()) + [teacher.teacher_bias], "lr": lr}]
    if teacher.tuned_parameters():
        groups.append({"params": teacher.tuned_parameters(), "lr": layer_lr})
    opt = torch.optim.AdamW(groups, weight_decay=0.0)
    g = torch.Generator().manual_seed(seed)
    losses = []
    for _ in progress(range(epochs), desc="MLM head"):
        total = 0.0
        for b in torch.randperm(len(cached), generator=g).tolist():
            labels = cached[b]["labels"]
            states = teacher.top(cached[b]["hidden"], cached[b]["attention_mask"])
            out = teacher.mlm_loss(states[labels != IGNORE], labels[labels != IGNORE])
            opt.zero_grad()
            out["loss"].backward()
            opt.step()
            total += out["loss"].item()
        losses.append(total / len(cached))
    return losses


def dual_training_step(teacher: DualTeacher, mixed: MixedTokenizer, sentences: Sequence[str],
                       optimizer: torch.optim.Optimizer, mask_prob: float = 0.15,
                       generator: torch.Generator | None = None) -> dict[str, float]:
    """One step of dual training on a batch of sentences: mixed-vocabulary tokenization, masking,
    the frozen body, one softmax per vocabulary; updates the student table and the head."""
    enc = mixed.encode(sentences, generator=generator)
    masked, labels = mask_tokens(enc["input_ids"], enc["word_ids"], mixed.teacher.mask_id, mask_prob, generator)
    b = on_device({"input_ids": masked, "attention_mask": enc["attention_mask"], "labels": labels}, device_of(teacher))
    masked, labels = b["input_ids"], b["labels"]
    states = teacher(masked, b["attention_mask"])
    sel = labels != IGNORE
    out = teacher.mlm_loss(states[sel], labels[sel])
    optimizer.zero_grad()
    out["loss"].backward()
    optimizer.step()
    return {k: float(v.detach()) for k, v in out.items()}


def dual_train(teacher: DualTeacher, mixed: MixedTokenizer, sentences: Sequence[str], steps: int,
               batch_size: int = 32, lr: float = 1e-3, layer_lr: float = 1e-4, seed: int = 0,
               mask_prob: float = 0.15) -> dict[str, list[float]]:
    """Dual training for ``steps`` steps: the new student-vocabulary table and its bias train at
    ``lr``; what the teacher already learned (the head's transform, the teacher-vocabulary bias
    and the tuned top layers) at the fine-tuning rate ``layer_lr``; the other layers and the
    teacher's word embeddings stay frozen. Returns per-step metrics."""
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps}, {batch_size}")
    # a pre-trained head at the new table's rate lost 10 perplexity points in 20 steps (measured)
    groups = [{"params": [teacher.student_embeddings, teacher.student_bias], "lr": lr},
              {"params": [teacher.teacher_bias, *teacher.transform.parameters(), *teacher.tuned_parameters()],
               "lr": layer_lr}]
    opt = torch.optim.AdamW(groups, weight_decay=0.0)
    g = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {}
    teacher.train()
    bar = progress(range(steps), desc="dual training")
    for _ in bar:
        idx = torch.randint(0, len(sentences), (batch_size,), generator=g).tolist()
        out = dual_training_step(teacher, mixed, [sentences[i] for i in idx], opt, mask_prob, g)
        for k, v in out.items():
            history.setdefault(k, []).append(v)
        bar.set_postfix(loss=f"{out['loss']:.3f}")
    teacher.eval()
    return history


@torch.no_grad()
def mlm_metrics(predict: Callable[[dict], tuple[torch.Tensor, torch.Tensor]], batches: Sequence[dict]) -> dict[str, float]:
    """Masked-LM accuracy and perplexity: ``predict(batch)`` returns (logits (n, V), targets (n,))
    for the masked positions of a batch; perplexity is ``exp`` of the mean cross-entropy."""
    correct = total = 0
    nll = 0.0
    for b in batches:
        logits, target = predict(b)
        nll += float(F.cross_entropy(logits, target, reduction="sum"))
        correct += int((logits.argmax(1) == target).sum())
        total += len(target)
    if total == 0:
        raise ValueError("mlm_metrics got no masked positions")
    return {"mlm_accuracy": correct / total, "perplexity": float(torch.exp(torch.tensor(nll / total))), "n_masked": total}


def masked_eval_batches(encode: Callable[[Sequence[str]], dict], mask_id: int, sentences: Sequence[str],
                        batch_size: int = 64, mask_prob: float = 0.15, seed: int = 1234) -> list[dict]:
    """Fixed, seeded masked batches for evaluation (the same masks every time they are built)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, len(sentences), batch_size):
        enc = encode(sentences[start:start + batch_size])
        masked, labels = mask_tokens(enc["input_ids"], enc["word_ids"], mask_id, mask_prob, g)
        out.append({**enc, "input_ids": masked, "labels": labels})
    return out


def teacher_predict(teacher: DualTeacher, vocab: str | None = None) -> Callable[[dict], tuple[torch.Tensor, torch.Tensor]]:
    """A ``predict`` for :func:`mlm_metrics`: the teacher with its head, on batches of unified ids.
    ``vocab`` restricts scoring to masked pieces of one vocabulary (``None``: teacher ids only)."""
    which = vocab or "teacher"

    def predict(b: dict) -> tuple[torch.Tensor, torch.Tensor]:
        b = on_device(b, device_of(teacher))
        states = teacher(b["input_ids"], b["attention_mask"])
        labels = b["labels"]
        sel = (labels != IGNORE) & ((labels >= teacher.offset) if which == "student" else (labels < teacher.offset))
        shift = teacher.offset if which == "student" else 0
        return teacher.logits(states[sel], which), labels[sel] - shift

    return predict
