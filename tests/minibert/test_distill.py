import pytest
import torch

from companion.minibert import (IGNORE, SharedProjections, SingleTokenizer, build_student, init_student_from_teacher,
                                student_config, student_predict, mlm_metrics, train_student_logit_kd,
                                train_student_mlm)


def _pair():
    torch.manual_seed(0)
    teacher = build_student(student_config(600, 64, 2, heads=2, intermediate=128)).bert.eval()
    student = build_student(student_config(600, 32, 2, heads=2, intermediate=64))
    return teacher, student


def test_projection_term_is_logged_and_pulls_towards_the_teacher(student_tokenizer, corpus):
    teacher, student = _pair()
    proj = SharedProjections.from_teacher(teacher, 32, 64)
    tok = SingleTokenizer(student_tokenizer, 16)
    hist = train_student_mlm(student, tok, corpus["train"], steps=15, batch_size=4, lr=3e-3, teacher_bert=teacher,
                             projections=proj, projection_weight=50.0)
    assert len(hist["mlm"]) == len(hist["projection"]) == 15
    assert hist["projection"][-1] < hist["projection"][0]  # a heavy weight makes the student track the teacher
    plain = train_student_mlm(student, tok, corpus["train"], steps=2, batch_size=4)
    assert plain["projection"] == [0.0, 0.0]


def test_projection_needs_a_teacher(student_tokenizer, corpus):
    _, student = _pair()
    with pytest.raises(ValueError, match="teacher_bert"):
        train_student_mlm(student, SingleTokenizer(student_tokenizer, 16), corpus["train"], steps=1,
                          projection_weight=1.0)


def test_logit_kd_moves_the_student_towards_the_teacher_scores(student_tokenizer, corpus):
    teacher, student = _pair()
    init_student_from_teacher(student.bert, teacher, SharedProjections.from_teacher(teacher, 32, 64))
    tok = SingleTokenizer(student_tokenizer, 16)
    g = torch.Generator().manual_seed(0)
    batches = []
    for i in range(3):
        enc = tok.encode(corpus["train"][4 * i: 4 * i + 4])
        labels = torch.where(torch.rand(enc["input_ids"].shape, generator=g) < 0.3, enc["input_ids"], IGNORE)
        labels[:, 1] = enc["input_ids"][:, 1]
        batches.append({**enc, "labels": labels})
    target = torch.randn(600, generator=g) * 3  # a fixed "teacher" preference over the vocabulary

    def teacher_logits(b):
        return target.expand(int((b["labels"] != IGNORE).sum()), -1)

    def kd_gap():
        with torch.no_grad():
            logits, _ = student_predict(student)(batches[0])
            return torch.nn.functional.kl_div(logits.log_softmax(-1), target.log_softmax(-1).expand_as(logits),
                                              log_target=True, reduction="batchmean").item()

    before = kd_gap()
    hist = train_student_logit_kd(student, batches, teacher_logits, steps=30, lr=3e-3, kd_weight=1.0)
    assert kd_gap() < 0.5 * before and len(hist["kd"]) == 30
    assert 0 <= mlm_metrics(student_predict(student), batches)["mlm_accuracy"] <= 1
    with pytest.raises(ValueError, match="kd_weight"):
        train_student_logit_kd(student, batches, teacher_logits, steps=1, kd_weight=2.0)
