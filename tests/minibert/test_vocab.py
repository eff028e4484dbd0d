import pytest

from companion.minibert import SPECIAL_TOKENS, train_student_vocab, vocab_coverage, wordpiece_vocab


def test_student_vocab_has_size_and_specials(corpus):
    tok = train_student_vocab(corpus["train"], 300)
    assert tok.get_vocab_size() == 300
    assert [tok.token_to_id(t) for t in SPECIAL_TOKENS] == [0, 1, 2, 3, 4]


def test_bigger_vocabulary_covers_more(corpus, teacher_tokenizer):
    small = vocab_coverage(train_student_vocab(corpus["train"], 200), corpus["held_out"])
    large = vocab_coverage(train_student_vocab(corpus["train"], 1500), corpus["held_out"])
    assert large["whole_word_share"] > small["whole_word_share"]
    assert large["pieces_per_word"] < small["pieces_per_word"]
    teacher = vocab_coverage(teacher_tokenizer, corpus["held_out"])
    assert teacher["vocab_size"] == 30522 and teacher["pieces_per_word"] < small["pieces_per_word"]


def test_vocab_rejects_bad_input(corpus):
    with pytest.raises(ValueError, match="vocab_size"):
        train_student_vocab(corpus["train"], 10)
    with pytest.raises(ValueError, match="at least one"):
        train_student_vocab([], 100)


def test_wordpiece_vocab_by_hand():
    # words "aab" (3x) and "ab" (2x): pieces a, b, ##a, ##b; pairs (a,##a)=3, (##a,##b)=3, (a,##b)=2
    counts = {"ab": 2, "aab": 3}
    vocab = wordpiece_vocab(counts, 12)
    pieces = sorted(vocab, key=vocab.get)[len(SPECIAL_TOKENS):]
    # the tie at 3 goes to the pair of smaller ids, (a, ##a) -> "aa"; then (aa, ##b) -> "aab", then (a, ##b) -> "ab"
    assert pieces == ["a", "b", "##a", "##b", "aa", "aab", "ab"]
    assert len(wordpiece_vocab(counts, 12, min_frequency=3)) == 11  # "ab" occurs only twice
    assert wordpiece_vocab(counts, 12) == vocab  # deterministic


def test_trained_vocabulary_encodes_with_its_pieces(corpus):
    tok = train_student_vocab(corpus["train"], 400)
    again = train_student_vocab(list(reversed(corpus["train"])), 400)
    assert tok.get_vocab() == again.get_vocab()  # the sentence order does not matter
    enc = tok.encode("the array is [MASK] here", add_special_tokens=False)
    assert "[MASK]" in enc.tokens and "[UNK]" not in enc.tokens
