import pytest

from companion import exercises
from companion.minibert import exercises as ex


def test_references_pass_and_wrong_answers_fail():
    assert exercises.check("ch05.mixed_tokenize", ex.mixed_tokenize, verbose=False)
    assert exercises.check("ch05.up_projection_loss", ex.up_projection_loss, verbose=False)
    assert exercises.check("ch05.size_mb", ex.size_mb, verbose=False)
    # forgetting the offset, using the down projection, or counting an untied decoder all fail
    assert not exercises.check("ch05.mixed_tokenize", lambda t, s, u, o: [i for w, x, c in zip(t, s, u)
                                                                           for i in (x if c else w)], verbose=False)
    assert not exercises.check("ch05.up_projection_loss", lambda ws, wt, u: (u.T @ wt @ u - ws).pow(2).mean(),
                               verbose=False)
    assert not exercises.check("ch05.size_mb", lambda v, h, l: ex.size_mb(v, h, l) + 4 * v * h / 1e6, verbose=False)


# ---- ch05.mixed_tokenize: student pieces shifted by offset where use_student, else teacher pieces


def teacher_where_student(teacher_words, student_words, use_student, offset):  # the condition inverted
    words = zip(teacher_words, student_words, use_student)
    return [i for t, s, c in words for i in (t if c else [offset + x for x in s])]


def offset_on_teacher_pieces(teacher_words, student_words, use_student, offset):
    words = zip(teacher_words, student_words, use_student)
    return [i for t, s, c in words for i in (s if c else [offset + x for x in t])]


def first_piece_only(teacher_words, student_words, use_student, offset):  # one id per word
    return [offset + s[0] if c else t[0] for t, s, c in zip(teacher_words, student_words, use_student)]


def offset_plus_one(teacher_words, student_words, use_student, offset):  # student ids start after the offset
    words = zip(teacher_words, student_words, use_student)
    return [i for t, s, c in words for i in ([offset + 1 + x for x in s] if c else t)]


# ---- ch05.up_projection_loss: mean((U W_s U^T - W_t)^2)


def squared_error_summed(w_student, w_teacher, u):
    return (u @ w_student @ u.T - w_teacher).pow(2).sum()


def frobenius_norm(w_student, w_teacher, u):  # the norm, not the mean square
    return (u @ w_student @ u.T - w_teacher).norm()


def student_transposed(w_student, w_teacher, u):  # U W_s^T U^T
    return (u @ w_student.T @ u.T - w_teacher).pow(2).mean()


def absolute_error(w_student, w_teacher, u):
    return (u @ w_student @ u.T - w_teacher).abs().mean()


# ---- ch05.size_mb: float32 MB (10^6 bytes) of the tied student


def untied_decoder(vocab_size, hidden, layers):  # counts a separate V x d decoder
    return ex.size_mb(vocab_size, hidden, layers) + 4 * vocab_size * hidden / 1e6


def mebibytes(vocab_size, hidden, layers):  # 2^20 bytes, not 10^6
    return ex.size_mb(vocab_size, hidden, layers) * 1e6 / 2 ** 20


def no_decoder_bias(vocab_size, hidden, layers):  # forgets the V output biases of the MLM head
    return ex.size_mb(vocab_size, hidden, layers) - 4 * vocab_size / 1e6


def bert_positions(vocab_size, hidden, layers):  # BERT's 512 positions instead of the student's 128
    return ex.size_mb(vocab_size, hidden, layers) + 4 * (512 - 128) * hidden / 1e6


def feed_forward_of_hidden(vocab_size, hidden, layers):  # intermediate = hidden, not 4 * hidden
    return ex.size_mb(vocab_size, hidden, layers) - 4 * layers * (6 * hidden * hidden + 3 * hidden) / 1e6


MUTANTS = {
    "ch05.mixed_tokenize": [teacher_where_student, offset_on_teacher_pieces, first_piece_only, offset_plus_one],
    "ch05.up_projection_loss": [squared_error_summed, frobenius_norm, student_transposed, absolute_error],
    "ch05.size_mb": [untied_decoder, mebibytes, no_decoder_bias, bert_positions, feed_forward_of_hidden],
}


def test_check_rejects_a_plausible_wrong_answer(mutant, check_rejects):
    check_rejects(*mutant)
