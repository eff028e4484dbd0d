"""WordPiece vocabularies: the teacher's (shipped with all-MiniLM-L6-v2) and a small student one.

The student vocabulary is trained with the ``tokenizers`` WordPiece trainer on the training
sentences. It uses the teacher's normaliser (BERT uncased) and pre-tokeniser, so both
vocabularies cut a sentence into the same *words*; only the word pieces differ. That shared
word segmentation is what makes mixed-vocabulary tokenization possible.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def plain_tokenizer(tokenizer) -> Tokenizer:
    """A copy of a ``tokenizers.Tokenizer`` (or of a transformers fast tokenizer's backend)
    without padding, truncation or a post-processor: it returns word pieces only."""
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    if not isinstance(backend, Tokenizer):
        raise ValueError(f"expected a tokenizers.Tokenizer or a fast tokenizer, got {type(tokenizer).__name__}")
    tok = Tokenizer.from_str(backend.to_str())
    tok.no_padding()
    tok.no_truncation()
    return tok


def train_student_vocab(sentences: Iterable[str], vocab_size: int, min_frequency: int = 2) -> Tokenizer:
    """Train a WordPiece tokenizer of ``vocab_size`` pieces (special tokens included) on ``sentences``.

    Special tokens get ids 0..4 in the order of :data:`SPECIAL_TOKENS`. Normalisation and
    pre-tokenization are BERT-uncased, as in the teacher.
    """
    if vocab_size < len(SPECIAL_TOKENS) + 26:
        raise ValueError(f"vocab_size must be >= {len(SPECIAL_TOKENS) + 26} (specials + letters), got {vocab_size}")
    sentences = list(sentences)
    if not sentences:
        raise ValueError("train_student_vocab needs at least one sentence")
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=list(SPECIAL_TOKENS), continuing_subword_prefix="##",
                                        show_progress=False)
    tok.train_from_iterator(sentences, trainer=trainer)
    return tok


def vocab_coverage(tokenizer, sentences: Sequence[str]) -> dict[str, float]:
    """How well a vocabulary covers ``sentences``.

    ``whole_word_share``: share of words that are a single piece; ``pieces_per_word``: mean
    pieces per word; ``unk_share``: share of pieces that are ``[UNK]``; ``vocab_size``.
    """
    tok = plain_tokenizer(tokenizer)
    unk = tok.token_to_id("[UNK]")
    n_words = n_pieces = n_whole = n_unk = 0
    for enc in tok.encode_batch(list(sentences), add_special_tokens=False):
        counts: dict[int, int] = {}
        for w in enc.word_ids:
            counts[w] = counts.get(w, 0) + 1
        n_words += len(counts)
        n_whole += sum(c == 1 for c in counts.values())
        n_pieces += len(enc.ids)
        n_unk += sum(i == unk for i in enc.ids)
    if n_words == 0:
        raise ValueError("vocab_coverage got no words")
    return {"vocab_size": tok.get_vocab_size(), "whole_word_share": n_whole / n_words,
            "pieces_per_word": n_pieces / n_words, "unk_share": n_unk / max(n_pieces, 1)}
