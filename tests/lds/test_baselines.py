import pytest
import torch

from companion import data
from companion.lds import (UCI_SIZES, divide_validation, gcn_with_restarts, knn_gcn, knn_graph, logistic_regression,
                           train_gcn, uci_split)
from companion.lds.experiments import majority
from companion.utils import seed_everything


def test_uci_split_sizes_disjoint_and_stratified():
    y = data.load("wine")["y"]
    s = uci_split(y, *UCI_SIZES["wine"], seed=1)
    assert [len(s[k]) for k in ("train", "val", "es")] == [10, 10, 10]
    allidx = torch.cat(list(s.values()))
    assert len(allidx) == len(y) == len(allidx.unique())
    assert len(y[s["train"]].unique()) == 3  # stratified: every cultivar is labelled
    assert not torch.equal(uci_split(y, 10, 10, 10, seed=2)["train"], s["train"])
    with pytest.raises(ValueError, match="sum below"):
        uci_split(y, 100, 50, 50, seed=0)


def test_divide_validation_is_a_partition():
    val, es = divide_validation(torch.arange(100, 200), seed=0)
    assert len(val) + len(es) == 100 and not set(val.tolist()) & set(es.tolist())
    with pytest.raises(ValueError, match="share"):
        divide_validation(torch.arange(4), 0, share=1.0)


def test_knn_graph_symmetric_with_k_neighbours():
    x = torch.randn(30, 4, generator=torch.Generator().manual_seed(0))
    a = knn_graph(x, 3)
    assert torch.equal(a, a.t()) and a.diagonal().sum() == 0
    assert (a.sum(1) >= 3).all()
    assert (knn_graph(x, 3, symmetric=False).sum(1) == 3).all()
    with pytest.raises(ValueError, match="k must be"):
        knn_graph(x, 30)
    with pytest.raises(ValueError, match="metric"):
        knn_graph(x, 3, metric="hamming")


def test_knn_gcn_beats_majority_on_wine_by_a_margin():
    d = data.load("wine")
    split = uci_split(d["y"], 10, 10, 10, seed=0)
    res = knn_gcn(d["x"], d["y"], split, ks=(10,), epochs=100, seed=0)
    majority = (d["y"][split["test"]] == d["y"][split["train"]].mode().values).float().mean().item()
    assert res["test_acc"] > majority + 0.4
    assert logistic_regression(d["x"], d["y"], split)["test_acc"] > majority + 0.4
    with pytest.raises(ValueError, match="missing"):
        knn_gcn(d["x"], d["y"], {"train": split["train"]})


def test_gcn_with_restarts_keeps_the_best_early_stopping_run_of_its_grid():
    d = data.load("wine")
    x, y = d["x"], d["y"]
    split = uci_split(y, *UCI_SIZES["wine"], seed=0)
    a = knn_graph(x, 10)
    best = gcn_with_restarts(x, y, a, split, restarts=3, lrs=(0.01, 0.05), seed=2, epochs=30)
    runs = {}
    for lr in (0.01, 0.05):
        for r in range(3):
            seed_everything(2000 + r)
            runs[(lr, r)] = train_gcn(x, y, a, split, lr=lr, seed=2000 + r, epochs=30, tie_break_loss=True)
    top = max((v["es_acc"], -v["es_loss"]) for v in runs.values())
    assert (best["es_acc"], -best["es_loss"]) == top
    assert best["test_acc"] == runs[(best["lr"], best["restart"])]["test_acc"]
    assert len({v["test_acc"] for v in runs.values()}) > 1  # restarts differ, so the selection matters
    with pytest.raises(ValueError, match="restarts must be >= 1"):
        gcn_with_restarts(x, y, a, split, restarts=0)


def test_majority_predicts_the_most_frequent_training_label():
    y = torch.tensor([0, 0, 1, 2, 2, 2, 1, 0, 2])
    split = {"train": torch.tensor([3, 4, 0]), "test": torch.tensor([5, 6, 7, 8])}
    assert majority(y, split) == 0.5  # training majority is 2; two of four test labels are 2


def test_the_loss_tie_break_keeps_a_later_epoch_of_equal_accuracy():
    d = data.load("wine")
    split = uci_split(d["y"], *UCI_SIZES["wine"], seed=0)
    a = knn_graph(d["x"], 10)
    runs = {}
    for tie in (False, True):
        seed_everything(0)
        runs[tie] = train_gcn(d["x"], d["y"], a, split, seed=0, epochs=200, tie_break_loss=tie)
    # the same accuracy on the 10 es nodes, reached later with a lower loss
    assert runs[True]["es_acc"] == runs[False]["es_acc"]
    assert runs[True]["es_loss"] < runs[False]["es_loss"]


def test_the_sparse_gcn_is_the_dense_one_to_float_precision():
    d = data.load("wine")
    x, y = d["x"], d["y"]
    split = uci_split(y, *UCI_SIZES["wine"], seed=1)
    a = knn_graph(x, 10)
    runs = []
    for sparse in (False, True):
        seed_everything(3)
        runs.append(train_gcn(x, y, a, split, seed=3, epochs=40, sparse=sparse))
    dense, sparse = runs
    assert dense["es_acc"] == sparse["es_acc"] and dense["test_acc"] == sparse["test_acc"]
    for wd, ws in zip(dense["weights"], sparse["weights"]):
        torch.testing.assert_close(wd, ws)
