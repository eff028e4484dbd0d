import torch

from companion.minibert import SingleTokenizer, build_student, fine_tune, linear_probe, mean_pool, student_config


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[1.0], [3.0], [100.0]]])
    assert mean_pool(hidden, torch.tensor([[1, 1, 0]])).item() == 2.0


def test_downstream_learns_an_easy_task(student_tokenizer):
    tok = SingleTokenizer(student_tokenizer, 16)
    xs = [f"The graph has {w} nodes and edges." for w in ("many", "few", "several")] * 10 + \
         [f"Compute the matrix {w} quickly." for w in ("inverse", "norm", "product")] * 10
    ys = [0] * 30 + [1] * 30
    encoder = build_student(student_config(600, 32, 1)).bert
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    assert fine_tune(encoder, tok.encode, xs, ys, xs, ys, epochs=3, lr=3e-3)["accuracy"] == 1.0
    assert all(torch.equal(v, encoder.state_dict()[k]) for k, v in before.items())  # a copy was tuned
    assert linear_probe(encoder, tok.encode, xs, ys, xs, ys)["accuracy"] == 1.0


def test_probe_and_fine_tune_are_separate_measurements(student_tokenizer, corpus):
    """The issue's teacher had probe and fine-tuned accuracy both 507/988: a coincidence, not a
    shared code path. On all-MiniLM-L6-v2 (100 sentences per library, 988 test sentences) the two
    scored 508 and 518 correct and agreed on only 52% of the sentences. Here: each accuracy is
    its own predictions' hit rate, and the two prediction sets differ on a hard task."""
    tok = SingleTokenizer(student_tokenizer, 16)
    step, held_step = len(corpus["train"]) // 120, len(corpus["held_out"]) // 80  # every library (grouped in order)
    xs, ys = corpus["train"][::step], corpus["train_labels"][::step]
    test_x, test_y = corpus["held_out"][::held_step], corpus["held_out_labels"][::held_step]
    assert len(set(ys)) > 2
    encoder = build_student(student_config(600, 32, 1)).bert
    probe = linear_probe(encoder, tok.encode, xs, ys, test_x, test_y)
    tuned = fine_tune(encoder, tok.encode, xs, ys, test_x, test_y, epochs=2, lr=3e-3)
    for out in (probe, tuned):
        hits = sum(p == y for p, y in zip(out["predictions"], test_y))
        assert out["correct"] == hits and out["accuracy"] == hits / len(test_y)
    assert probe["predictions"] != tuned["predictions"]
