import torch

from companion.minibert import (IGNORE, DualTeacher, MixedTokenizer, cache_masked_batches, cached_teacher_logits,
                                dual_train, dual_training_step,
                                fit_teacher_head, init_student_embeddings, logit_kd_loss, SingleTokenizer)


def test_dual_teacher_embeds_each_vocabulary_from_its_table(tiny_bert):
    teacher = DualTeacher(tiny_bert, torch.randn(7, 24))
    ids = torch.tensor([[0, 3, 50, 56, 2]])  # 50 and 56 are student pieces 0 and 6
    vec = teacher.embed(ids)
    assert torch.equal(vec[0, 1], tiny_bert.embeddings.word_embeddings.weight[3])
    assert torch.equal(vec[0, 2], teacher.student_embeddings[0]) and torch.equal(vec[0, 3], teacher.student_embeddings[6])


def test_mlm_loss_uses_one_softmax_per_vocabulary(tiny_bert):
    teacher = DualTeacher(tiny_bert, torch.randn(7, 24))
    states = torch.randn(4, 24)
    labels = torch.tensor([3, 51, 10, 56])
    out = teacher.mlm_loss(states, labels)
    t = torch.nn.functional.cross_entropy(teacher.logits(states[[0, 2]], "teacher"), labels[[0, 2]], reduction="sum")
    s = torch.nn.functional.cross_entropy(teacher.logits(states[[1, 3]], "student"), labels[[1, 3]] - 50, reduction="sum")
    assert torch.allclose(out["loss"], (t + s) / 4)


def test_dual_training_step_moves_student_table_not_teacher_body(no_network, teacher_tokenizer, student_tokenizer, corpus):
    from companion import data

    bert = data.load("minilm")["model"]
    body = {k: v.clone() for k, v in bert.state_dict().items()}
    init, exact = init_student_embeddings(teacher_tokenizer, student_tokenizer, bert.embeddings.word_embeddings.weight)
    assert init.shape == (600, 384) and 0.5 < exact <= 1.0  # most student pieces exist in the teacher's vocabulary
    teacher = DualTeacher(bert, init)
    mixed = MixedTokenizer(teacher_tokenizer, student_tokenizer, p_student=0.5, max_length=16)
    opt = torch.optim.AdamW([teacher.student_embeddings, *teacher.transform.parameters()], lr=1e-2)
    out = dual_training_step(teacher, mixed, corpus["train"][:4], opt, generator=torch.Generator().manual_seed(0))
    assert out["loss"] > 0
    assert not torch.equal(teacher.student_embeddings.detach(), init)
    assert all(torch.equal(v, bert.state_dict()[k]) for k, v in body.items())
    # the cache serves the head: one state per masked position
    cache = cache_masked_batches(bert, SingleTokenizer(teacher_tokenizer, 16), corpus["train"][:8], batch_size=4)
    assert all(b["hidden"].shape[:2] == b["input_ids"].shape for b in cache)
    # the tuned top layer run on the cached inputs reproduces the full forward pass
    b = cache[0]
    full = teacher(b["input_ids"], b["attention_mask"])
    assert torch.allclose(teacher.top(b["hidden"], b["attention_mask"]), full, atol=1e-4)
    assert torch.allclose(cached_teacher_logits(teacher, b),
                          teacher.logits(full[b["labels"] != IGNORE], "teacher"), atol=1e-3)
    losses = fit_teacher_head(teacher, cache, epochs=3)
    assert losses[-1] < losses[0]


def test_dual_train_moves_new_table_at_lr_and_pretrained_parts_at_layer_lr(no_network, teacher_tokenizer,
                                                                           student_tokenizer, corpus):
    """The new student-piece table trains at ``lr``; the pre-trained head and top layer at the
    fine-tuning rate ``layer_lr`` (at the table's rate they made the teacher worse)."""
    from companion import data

    bert = data.load("minilm")["model"]
    init, _ = init_student_embeddings(teacher_tokenizer, student_tokenizer, bert.embeddings.word_embeddings.weight)
    teacher = DualTeacher(bert, init)
    before = {"table": init.clone(), "head": teacher.transform[0].weight.detach().clone(),
              "top": teacher.tuned_parameters()[0].detach().clone()}
    mixed = MixedTokenizer(teacher_tokenizer, student_tokenizer, p_student=0.5, max_length=16)
    dual_train(teacher, mixed, corpus["train"][:32], steps=2, batch_size=4, lr=1e-2, layer_lr=1e-9)
    moved = {"table": (teacher.student_embeddings.detach() - before["table"]).abs().max(),
             "head": (teacher.transform[0].weight.detach() - before["head"]).abs().max(),
             "top": (teacher.tuned_parameters()[0].detach() - before["top"]).abs().max()}
    assert moved["table"] > 1e-3  # Adam moves a parameter by about lr per step
    assert moved["head"] < 1e-7 and moved["top"] < 1e-7


def test_logit_kd_is_zero_for_equal_logits_and_positive_otherwise():
    z = torch.randn(5, 11)
    assert logit_kd_loss(z, z, temperature=2.0).abs().item() < 1e-6
    assert logit_kd_loss(z, z.flip(1)).item() > 0


def test_teacher_derived_student_starts_below_uniform(no_network, teacher_tokenizer, student_tokenizer, corpus):
    """The issue: the teacher-derived student began at masked-LM loss 8.70 > ln 4000. The cause
    was its random MLM head in front of a decoder tied to teacher-sized embeddings: its start
    depended on the head's draw. The student now starts from the teacher's head, projected, with
    the pieces' log-prior as decoder bias and the head's scale chosen on training sentences."""
    import math

    from companion import data
    from companion.minibert import (build_mixed_student, masked_eval_batches, mlm_metrics, piece_log_prior,
                                    student_config, student_predict)

    bert = data.load("minilm")["model"]
    init, _ = init_student_embeddings(teacher_tokenizer, student_tokenizer, bert.embeddings.word_embeddings.weight)
    teacher = DualTeacher(bert, init)
    cache = cache_masked_batches(bert, SingleTokenizer(teacher_tokenizer, 16), corpus["train"][::20][:96], batch_size=32)
    fit_teacher_head(teacher, cache, epochs=2)
    s_tok = SingleTokenizer(student_tokenizer, 16)
    held = masked_eval_batches(s_tok.encode, s_tok.mask_id, corpus["held_out"][::8])
    calib = masked_eval_batches(s_tok.encode, s_tok.mask_id, corpus["train"][::10], seed=0)
    prior = piece_log_prior(s_tok, corpus["train"])
    conf = student_config(600, 64, 2)

    def start(seed, **kw):
        student, _, info = build_mixed_student(conf, bert, teacher.student_embeddings, teacher.transform[0],
                                               teacher.transform[2], teacher.student_bias, seed, **kw)
        if info:
            assert info["losses"][info["scale"]] == min(info["losses"].values())
        return math.log(mlm_metrics(student_predict(student.eval()), held)["perplexity"])

    sane = start(0, prior=prior, calibration=calib)
    assert sane < math.log(600) - 0.5
    assert sane == start(1, prior=prior, calibration=calib)  # nothing random is left in the student's start
    assert start(0, head=False) != start(1, head=False)  # a random head: the start depends on its draw
