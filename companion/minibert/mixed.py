"""Tokenization with one vocabulary, or with two mixed word by word (dual training's input).

Both tokenizers share the BERT-uncased normaliser and pre-tokeniser, so they agree on the
words of a sentence. :class:`MixedTokenizer` tokenizes every word with the teacher's or the
student's vocabulary at random (the paper's dual training) and returns ids in one *unified*
id space: teacher ids ``0..V_t-1`` and student ids shifted to ``V_t..V_t+V_s-1``. Special
tokens ([CLS], [SEP], [PAD], [MASK]) are always the teacher's.
"""

from __future__ import annotations

from collections import Counter

from typing import Sequence

import torch

from companion.minibert.vocab import plain_tokenizer

IGNORE = -100  # label of positions that are not predicted (PyTorch's cross-entropy default)


def _words(enc) -> list[list[int]]:
    """Piece ids grouped by word, in order."""
    out: list[list[int]] = []
    last = None
    for i, w in zip(enc.ids, enc.word_ids):
        if w != last:
            out.append([])
            last = w
        out[-1].append(i)
    return out


def device_of(model: torch.nn.Module) -> torch.device:
    """Where ``model``'s weights are (the device its batches must go to)."""
    return next(model.parameters()).device


def on_device(batch: dict, device: torch.device) -> dict:
    """``batch`` with its tensors on ``device``: tokenizers and masks work on the CPU, a model on
    the device of ``--device``; on the CPU the very same tensors come back."""
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def _pad(rows: list[list[int]], pad_id: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [pad_id] * (width - len(r)) for r in rows], dtype=torch.long)


class SingleTokenizer:
    """One vocabulary: ``[CLS] pieces [SEP]``, truncated at a word boundary, padded.

    ``encode`` returns ``input_ids``, ``attention_mask`` and ``word_ids`` (-1 on special tokens).
    """

    def __init__(self, tokenizer, max_length: int = 32):
        if max_length < 3:
            raise ValueError(f"max_length must be >= 3, got {max_length}")
        self.tok = plain_tokenizer(tokenizer)
        self.max_length = max_length
        self.vocab_size = self.tok.get_vocab_size()
        ids = {t: self.tok.token_to_id(t) for t in ("[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]")}
        if None in ids.values():
            raise ValueError(f"the tokenizer lacks a special token: {ids}")
        self.pad_id, self.cls_id, self.sep_id, self.mask_id = ids["[PAD]"], ids["[CLS]"], ids["[SEP]"], ids["[MASK]"]

    def words(self, sentences: Sequence[str]) -> list[list[list[int]]]:
        """Piece ids per word for each sentence."""
        return [_words(e) for e in self.tok.encode_batch(list(sentences), add_special_tokens=False)]

    def encode(self, sentences: Sequence[str]) -> dict[str, torch.Tensor]:
        if len(sentences) == 0:
            raise ValueError("encode needs at least one sentence")
        rows, wids = [], []
        for words in self.words(sentences):
            ids, wid = [self.cls_id], [-1]
            for w, pieces in enumerate(words):
                if len(ids) + len(pieces) > self.max_length - 1:
                    break  # never cut a word in two
                ids += pieces
                wid += [w] * len(pieces)
            rows.append(ids + [self.sep_id])
            wids.append(wid + [-1])
        input_ids = _pad(rows, self.pad_id)
        return {"input_ids": input_ids, "attention_mask": _pad([[1] * len(r) for r in rows], 0),
                "word_ids": _pad(wids, -1)}


class MixedTokenizer:
    """Mixed-vocabulary tokenization: each word goes to the student's vocabulary with
    probability ``p_student``, else to the teacher's.

    ``encode`` returns ``input_ids`` (unified ids), ``vocab`` (0 teacher piece, 1 student
    piece, -1 special or padding), ``word_ids`` (-1 on special tokens) and ``attention_mask``.
    """

    def __init__(self, teacher_tokenizer, student_tokenizer, p_student: float = 0.5, max_length: int = 32):
        if not 0.0 <= p_student <= 1.0:
            raise ValueError(f"p_student must be in [0, 1], got {p_student}")
        self.teacher = SingleTokenizer(teacher_tokenizer, max_length)
        self.student = SingleTokenizer(student_tokenizer, max_length)
        self.p_student = p_student
        self.max_length = max_length
        self.offset = self.teacher.vocab_size  # student id s becomes offset + s

    @property
    def vocab_size(self) -> int:
        return self.teacher.vocab_size + self.student.vocab_size

    def encode(self, sentences: Sequence[str], p_student: float | None = None,
               generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        p = self.p_student if p_student is None else p_student
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p_student must be in [0, 1], got {p}")
        if len(sentences) == 0:
            raise ValueError("encode needs at least one sentence")
        t_words, s_words = self.teacher.words(sentences), self.student.words(sentences)
        rows, vocs, wids = [], [], []
        for tw, sw in zip(t_words, s_words):
            if len(tw) != len(sw):
                raise ValueError("the two tokenizers split a sentence into different words: "
                                 "they must share normaliser and pre-tokeniser")
            pick = (torch.rand(len(tw), generator=generator) < p).tolist()
            ids, voc, wid = [self.teacher.cls_id], [-1], [-1]
            for w, (t_pieces, s_pieces, student) in enumerate(zip(tw, sw, pick)):
                pieces = [self.offset + s for s in s_pieces] if student else t_pieces
                if len(ids) + len(pieces) > self.max_length - 1:
                    break
                ids += pieces
                voc += [int(student)] * len(pieces)
                wid += [w] * len(pieces)
            rows.append(ids + [self.teacher.sep_id])
            vocs.append(voc + [-1])
            wids.append(wid + [-1])
        input_ids = _pad(rows, self.teacher.pad_id)
        return {"input_ids": input_ids, "vocab": _pad(vocs, -1), "word_ids": _pad(wids, -1),
                "attention_mask": _pad([[1] * len(r) for r in rows], 0)}


def mask_tokens(input_ids: torch.Tensor, word_ids: torch.Tensor, mask_id: int, mask_prob: float = 0.15,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking without the 80/10/10 split: each word piece (``word_ids >= 0``) is replaced
    by ``mask_id`` with probability ``mask_prob``; at least one per sequence.

    Returns ``(masked_ids, labels)`` with ``labels = IGNORE`` where nothing is predicted.
    """
    if not 0.0 < mask_prob < 1.0:
        raise ValueError(f"mask_prob must be in (0, 1), got {mask_prob}")
    real = word_ids >= 0
    chosen = (torch.rand(input_ids.shape, generator=generator) < mask_prob) & real
    # rows where nothing was chosen: mask their first real piece, so every row has a target
    empty = ~chosen.any(1) & real.any(1)
    if empty.any():
        first = real.float().argmax(1)
        chosen[empty.nonzero().squeeze(1), first[empty]] = True
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, IGNORE))
    return torch.where(chosen, torch.full_like(input_ids, mask_id), input_ids), labels


def piece_log_prior(tokenizer: SingleTokenizer, sentences: Sequence[str]) -> torch.Tensor:
    """Log-probabilities (V,) of the word pieces in ``sentences``, add-one smoothed (every piece
    can be masked, special tokens are never counted)."""
    counts: Counter = Counter()
    for words in tokenizer.words(sentences):
        for pieces in words:
            counts.update(pieces)
    freq = torch.ones(tokenizer.vocab_size)
    for i, c in counts.items():
        freq[i] += c
    return torch.log(freq / freq.sum())
