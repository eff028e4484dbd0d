"""WordPiece vocabularies: the teacher's (shipped with all-MiniLM-L6-v2) and a small student one.

The student vocabulary is trained with the ``tokenizers`` WordPiece trainer on the training
sentences. It uses the teacher's normaliser (BERT uncased) and pre-tokeniser, so both
vocabularies cut a sentence into the same *words*; only the word pieces differ. That shared
word segmentation is what makes mixed-vocabulary tokenization possible.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Iterable, Sequence

if TYPE_CHECKING:
    from tokenizers import Tokenizer

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def plain_tokenizer(tokenizer) -> Tokenizer:
    """A copy of a ``tokenizers.Tokenizer`` (or of a transformers fast tokenizer's backend)
    without padding, truncation or a post-processor: it returns word pieces only."""
    # imported here, not above: the CLIs' --help imports this module on a core install
    from tokenizers import Tokenizer

    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    if not isinstance(backend, Tokenizer):
        raise ValueError(f"expected a tokenizers.Tokenizer or a fast tokenizer, got {type(tokenizer).__name__}")
    tok = Tokenizer.from_str(backend.to_str())
    tok.no_padding()
    tok.no_truncation()
    return tok


def _word_counts(tok: Tokenizer, sentences: Iterable[str]) -> dict[str, int]:
    """How often each word occurs, after ``tok``'s normaliser and pre-tokeniser (as the trainer sees it)."""
    counts: dict[str, int] = {}
    for s in sentences:
        for word, _ in tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(s)):
            counts[word] = counts.get(word, 0) + 1
    return counts


def wordpiece_vocab(word_counts: dict[str, int], vocab_size: int, min_frequency: int = 2,
                    prefix: str = "##") -> dict[str, int]:
    """The WordPiece trainer's vocabulary (BPE merges with a continuing-piece ``prefix``), deterministically.

    The same algorithm as ``tokenizers.trainers.WordPieceTrainer``: special tokens, then every
    character (by code point), then ``prefix + c`` for every character seen inside a word, then
    repeatedly the most frequent adjacent pair is merged until ``vocab_size`` pieces exist or no
    pair occurs ``min_frequency`` times; ties go to the pair of smaller ids. Why not that trainer:
    it numbers the ``##`` pieces in hash-map order, which changes from process to process and,
    through the tie-break, changes the vocabulary itself (huggingface/tokenizers#1794).
    """
    vocab = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
    names = list(SPECIAL_TOKENS)

    def piece_id(piece: str) -> int:
        if piece not in vocab:
            vocab[piece] = len(names)
            names.append(piece)
        return vocab[piece]

    words_text = sorted(word_counts)
    for c in sorted({c for w in words_text for c in w}):
        piece_id(c)
    for c in sorted({c for w in words_text for c in w[1:]}):
        piece_id(prefix + c)
    words = [[vocab[w[0]]] + [vocab[prefix + c] for c in w[1:]] for w in words_text if w]
    counts = [word_counts[w] for w in words_text if w]
    pair_counts: dict[tuple[int, int], int] = {}
    where: dict[tuple[int, int], set[int]] = {}
    for i, w in enumerate(words):
        for pair in zip(w, w[1:]):
            pair_counts[pair] = pair_counts.get(pair, 0) + counts[i]
            where.setdefault(pair, set()).add(i)
    # a max-heap by count, then smallest pair; an entry whose count is out of date is skipped
    # (a fresh one was pushed when the count changed)
    heap = [(-c, pair) for pair, c in pair_counts.items()]
    heapq.heapify(heap)
    while len(vocab) < vocab_size and heap:
        neg, pair = heapq.heappop(heap)
        count = pair_counts.get(pair, 0)
        if -neg != count:
            continue
        if count < max(min_frequency, 1):
            break
        a, b = pair
        right = names[b][len(prefix):] if names[b].startswith(prefix) else names[b]
        new = piece_id(names[a] + right)
        changed: set[tuple[int, int]] = set()
        for i in sorted(where.pop(pair, ())):
            w, out, j = words[i], [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            if len(out) == len(w):
                continue
            for p in zip(w, w[1:]):
                pair_counts[p] -= counts[i]
                changed.add(p)
            for p in zip(out, out[1:]):
                pair_counts[p] = pair_counts.get(p, 0) + counts[i]
                where.setdefault(p, set()).add(i)
                changed.add(p)
            words[i] = out
        for p in sorted(changed):
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
    return vocab


def train_student_vocab(sentences: Iterable[str], vocab_size: int, min_frequency: int = 2) -> Tokenizer:
    """Train a WordPiece tokenizer of ``vocab_size`` pieces (special tokens included) on ``sentences``.

    Special tokens get ids 0..4 in the order of :data:`SPECIAL_TOKENS`. Normalisation and
    pre-tokenization are BERT-uncased, as in the teacher. The pieces come from
    :func:`wordpiece_vocab`, so the same sentences give the same vocabulary in every process.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    if vocab_size < len(SPECIAL_TOKENS) + 26:
        raise ValueError(f"vocab_size must be >= {len(SPECIAL_TOKENS) + 26} (specials + letters), got {vocab_size}")
    sentences = list(sentences)
    if not sentences:
        raise ValueError("train_student_vocab needs at least one sentence")
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    vocab = wordpiece_vocab(_word_counts(tok, sentences), vocab_size, min_frequency)
    trained = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100,
                                         continuing_subword_prefix="##"))
    trained.normalizer, trained.pre_tokenizer = tok.normalizer, tok.pre_tokenizer
    trained.decoder = decoders.WordPiece(prefix="##")
    trained.add_special_tokens(list(SPECIAL_TOKENS))
    return trained


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
