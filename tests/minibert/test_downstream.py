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
