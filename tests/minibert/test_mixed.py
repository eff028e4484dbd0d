import pytest
import torch

from companion.minibert import IGNORE, MixedTokenizer, SingleTokenizer, mask_tokens

SENTENCES = ["Return the number of nodes in the graph.", "Compute the eigenvalues of a Hermitian matrix quickly.",
             "Unsupervised outlier detection using the local outlier factor."]


def test_mixed_keeps_words_and_uses_one_vocabulary_per_word(teacher_tokenizer, student_tokenizer):
    mixed = MixedTokenizer(teacher_tokenizer, student_tokenizer, p_student=0.5, max_length=64)
    t_words = mixed.teacher.words(SENTENCES)
    s_words = mixed.student.words(SENTENCES)
    enc = mixed.encode(SENTENCES, generator=torch.Generator().manual_seed(0))
    seen = set()
    for row in range(len(SENTENCES)):
        ids, voc, wid = enc["input_ids"][row], enc["vocab"][row], enc["word_ids"][row]
        real = wid >= 0
        # every word appears, in order, once
        assert torch.unique_consecutive(wid[real]).tolist() == list(range(len(t_words[row])))
        for w in range(len(t_words[row])):
            at = wid == w
            vocabs = set(voc[at].tolist())
            assert len(vocabs) == 1  # one vocabulary per word
            pieces = ids[at].tolist()
            if vocabs == {1}:
                assert all(i >= mixed.offset for i in pieces)
                assert [i - mixed.offset for i in pieces] == s_words[row][w]
            else:
                assert all(i < mixed.offset for i in pieces)
                assert pieces == t_words[row][w]
            seen |= vocabs
        assert ids[0] == mixed.teacher.cls_id and ids[int(enc["attention_mask"][row].sum()) - 1] == mixed.teacher.sep_id
    assert seen == {0, 1}  # both vocabularies were used somewhere


def test_mixed_extremes_are_pure_vocabularies(teacher_tokenizer, student_tokenizer):
    mixed = MixedTokenizer(teacher_tokenizer, student_tokenizer, max_length=64)
    t = mixed.encode(SENTENCES, p_student=0.0)
    s = mixed.encode(SENTENCES, p_student=1.0)
    assert set(t["vocab"][t["word_ids"] >= 0].tolist()) == {0}
    assert set(s["vocab"][s["word_ids"] >= 0].tolist()) == {1}
    assert torch.equal(t["input_ids"], SingleTokenizer(teacher_tokenizer, 64).encode(SENTENCES)["input_ids"])


def test_truncation_never_cuts_a_word(teacher_tokenizer):
    tok = SingleTokenizer(teacher_tokenizer, max_length=8)
    enc = tok.encode(SENTENCES)
    words = tok.words(SENTENCES)
    assert enc["input_ids"].shape[1] <= 8
    for row in range(len(SENTENCES)):
        wid = enc["word_ids"][row]
        for w in set(wid[wid >= 0].tolist()):
            assert int((wid == w).sum()) == len(words[row][w])


def test_masking_targets_only_masked_word_pieces():
    ids = torch.arange(10, 50).reshape(4, 10)
    word_ids = torch.full_like(ids, -1)
    word_ids[:, 1:9] = torch.arange(8)
    masked, labels = mask_tokens(ids, word_ids, mask_id=3, mask_prob=0.3, generator=torch.Generator().manual_seed(0))
    chosen = labels != IGNORE
    assert chosen.any(1).all()  # every row predicts something
    assert torch.equal(labels[chosen], ids[chosen]) and (masked[chosen] == 3).all()
    assert torch.equal(masked[~chosen], ids[~chosen]) and not chosen[word_ids < 0].any()


def test_bad_arguments_raise(teacher_tokenizer, student_tokenizer):
    with pytest.raises(ValueError, match="p_student"):
        MixedTokenizer(teacher_tokenizer, student_tokenizer, p_student=1.5)
    with pytest.raises(ValueError, match="max_length"):
        SingleTokenizer(teacher_tokenizer, max_length=2)
    with pytest.raises(ValueError, match="mask_prob"):
        mask_tokens(torch.zeros(1, 3, dtype=torch.long), torch.zeros(1, 3, dtype=torch.long), 1, mask_prob=0.0)
