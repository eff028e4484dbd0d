"""Checked exercises of the mixed-vocabulary BERT chapter (keys ``ch05.*``)."""

from __future__ import annotations

import torch

from companion.exercises import exercise
from companion.minibert.size import bert_parameter_count
from companion.minibert.student import student_config


def _mixed_cases():
    g = torch.Generator().manual_seed(5)
    for n_words in (1, 4, 9):
        teacher_words = [torch.randint(5, 30522, (int(torch.randint(1, 3, (1,), generator=g)),), generator=g).tolist()
                         for _ in range(n_words)]
        student_words = [torch.randint(5, 4000, (int(torch.randint(1, 4, (1,), generator=g)),), generator=g).tolist()
                         for _ in range(n_words)]
        use_student = (torch.rand(n_words, generator=g) < 0.5).tolist()
        yield (teacher_words, student_words, use_student, 30522), {}


# ids are compared exactly: they reach 34,000, where the default rtol of 1e-4 would let an id off by
# 1 to 3 pass
@exercise("ch05.mixed_tokenize", _mixed_cases, atol=0, rtol=0)
def mixed_tokenize(teacher_words: list[list[int]], student_words: list[list[int]], use_student: list[bool],
                   offset: int) -> list[int]:
    """Reference: the unified ids of one sentence, without special tokens. Word ``w`` contributes
    its student pieces shifted by ``offset`` if ``use_student[w]``, else its teacher pieces."""
    ids: list[int] = []
    for t_pieces, s_pieces, student in zip(teacher_words, student_words, use_student):
        ids += [offset + s for s in s_pieces] if student else list(t_pieces)
    return ids


def _up_cases():
    g = torch.Generator().manual_seed(11)
    for d_t, d_s in ((6, 2), (12, 4), (384, 128)):
        yield (torch.randn(d_s, d_s, generator=g), torch.randn(d_t, d_t, generator=g) * 0.1,
               torch.linalg.qr(torch.randn(d_t, d_s, generator=g))[0]), {}


@exercise("ch05.up_projection_loss", _up_cases, atol=1e-5, rtol=1e-4)
def up_projection_loss(w_student: torch.Tensor, w_teacher: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    r"""Reference: :math:`\mathrm{mean}\big((U W_s U^\top - W_t)^2\big)` for a square hidden-to-hidden
    weight, ``u`` of shape (d_t, d_s)."""
    return (u @ w_student @ u.t() - w_teacher).pow(2).mean()


def _size_cases():
    for vocab, hidden, layers in ((30522, 384, 6), (4000, 128, 6), (1000, 64, 2)):
        yield (vocab, hidden, layers), {}


@exercise("ch05.size_mb", _size_cases, atol=1e-6, rtol=1e-7)
def size_mb(vocab_size: int, hidden: int, layers: int) -> float:
    """Reference: float32 size in MB (10^6 bytes) of a BertForMaskedLM with the chapter's student
    shape (``intermediate = 4 * hidden``, 128 positions, 2 segments, decoder tied to the embeddings)."""
    return 4 * bert_parameter_count(student_config(vocab_size, hidden, layers)) / 1e6
