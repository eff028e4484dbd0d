import pytest
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


def _easy_task():
    xs = [f"The graph has {w} nodes and edges." for w in ("many", "few", "several")] * 10 + \
         [f"Compute the matrix {w} quickly." for w in ("inverse", "norm", "product")] * 10
    return xs, [0] * 30 + [1] * 30


def test_early_stopping_keeps_the_best_validation_epoch(student_tokenizer):
    tok = SingleTokenizer(student_tokenizer, 16)
    xs, ys = _easy_task()
    encoder = build_student(student_config(600, 32, 1)).bert
    out = fine_tune(encoder, tok.encode, xs, ys, xs, ys, epochs=40, lr=3e-3, val_x=xs, val_y=ys, patience=2)
    # the task is learnt long before the cap: the run stops `patience` epochs after its best epoch
    assert out["val_accuracy"] == 1.0 and out["accuracy"] == 1.0
    assert out["epochs_run"] == out["best_epoch"] + 2 < 40
    # without patience the cap is the number of epochs, and no early-stopping fields are reported
    assert "best_epoch" not in fine_tune(encoder, tok.encode, xs, ys, xs, ys, epochs=1, lr=3e-3)
    with pytest.raises(ValueError, match="val_x"):
        fine_tune(encoder, tok.encode, xs, ys, xs, ys, epochs=2, patience=1)
    with pytest.raises(ValueError, match="patience"):
        fine_tune(encoder, tok.encode, xs, ys, xs, ys, epochs=2, patience=-1)


def test_probe_chooses_c_on_validation(monkeypatch):
    """C is the grid value with the best validation accuracy (the smallest on ties), checked on
    features where the grid's values disagree."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from companion.minibert import downstream

    rng = np.random.default_rng(3)
    feats = {"train": rng.normal(size=(40, 6)), "val": rng.normal(size=(30, 6)), "test": rng.normal(size=(20, 6))}
    ys = (feats["train"][:, 0] + rng.normal(scale=1.5, size=40) > 0).astype(int).tolist()
    val_y = (feats["val"][:, 0] > 0).astype(int).tolist()
    test_y = [0, 1] * 10
    monkeypatch.setattr(downstream, "sentence_features", lambda enc, encode, xs: feats[xs[0]])
    grid = (1e-4, 1e-2, 1.0, 100.0)
    val_acc = {c: (make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
                   .fit(feats["train"], ys).predict(feats["val"]) == np.asarray(val_y)).mean() for c in grid}
    assert len(set(val_acc.values())) > 1  # the grid's values disagree here
    out = linear_probe(None, None, ["train"] * 40, ys, ["test"] * 20, test_y, c_grid=grid, val_x=["val"] * 30,
                       val_y=val_y)
    assert out["c"] == max(grid, key=lambda c: (val_acc[c], -c)) and out["val_accuracy"] == val_acc[out["c"]]
    with pytest.raises(ValueError, match="val_x"):
        linear_probe(None, None, ["train"] * 40, ys, ["test"] * 20, test_y, c_grid=(1.0,))
