import pytest

from companion.minibert import SPECIAL_TOKENS, train_student_vocab, vocab_coverage


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
