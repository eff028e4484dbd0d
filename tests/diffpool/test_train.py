import numpy as np
import pytest
import torch

from companion import data
from companion.utils import seed_everything, torch_threads
from companion.diffpool import (choose_on_validation, cross_validate, evaluate_accuracy, fit, make_model,
                               stratified_folds, to_dense)


@pytest.fixture(autouse=True)
def one_thread():
    # small dense batches: one thread avoids OpenMP spin-waiting on a busy machine
    with torch_threads(1):
        yield


def test_stratified_folds_partition_and_balance():
    labels = np.repeat([0, 1, 2], 10)
    folds = stratified_folds(labels, 5, seed=0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(30))
    assert all(np.bincount(labels[f]).tolist() == [2, 2, 2] for f in folds)
    with pytest.raises(ValueError, match="folds must be >= 2"):
        stratified_folds(labels, 1)
    with pytest.raises(ValueError, match="at least folds=20"):
        stratified_folds(labels, 20)


def test_make_model_kinds_and_errors():
    flat = make_model("flat-sum", 6, 4, 30, levels=1, num_layers=3)
    assert flat.readout == "sum" and len(flat.gnn.convs) == 6  # same depth as DiffPool (3 + 3)
    assert make_model("diffpool-pyg", 6, 4, 30).pool_fn.__name__ == "_pyg_diff_pool"
    with pytest.raises(ValueError, match="kind must be one of"):
        make_model("gin", 6, 4, 30)
    model = make_model("diffpool-oracle", 6, 4, 30, oracle_clusters=6, coarse_adj="no-diag", readout="max-concat")
    assert model.uses_community and model.clusters == [6]
    assert (model.coarse_adj, model.readout) == ("no-diag", "max-concat")
    with pytest.raises(ValueError, match="oracle_clusters is required"):
        make_model("diffpool-oracle", 6, 4, 30)
    with pytest.raises(ValueError, match="oracle_clusters is required"):
        make_model("diffpool", 6, 4, 30, oracle_clusters=6)
    with pytest.raises(ValueError, match="apply to the DiffPool kinds"):
        make_model("flat-mean", 6, 4, 30, coarse_adj="no-diag")


# Recorded on the code before the --coarse-adj / --readout / oracle options were added: the
# default path must give exactly these numbers (same machine, one thread).
BEFORE_FOLD_ACC = {"flat-mean": [0.3, 0.3], "diffpool": [0.3, 0.2], "diffpool-pyg": [0.3, 0.2]}
BEFORE_LOSS = {"flat-sum": [3.200431783994039, 3.6505940755208335, 2.858732223510742],
               "diffpool": [4.016219139099121, 4.016886790593465, 4.030130068461101]}


def test_default_path_gives_the_numbers_recorded_before_the_options():
    graphs = data.load("hier_graphs", num_graphs=40, seed=0)
    for kind, fold_acc in BEFORE_FOLD_ACC.items():
        r = cross_validate(graphs, kind, folds=4, epochs=3, seed=0, max_folds=2, hidden=8, batch_size=16)
        assert r["fold_acc"] == fold_acc, kind
    dense = to_dense(graphs)
    for kind, loss in BEFORE_LOSS.items():
        seed_everything(0)
        model = make_model(kind, dense.x.shape[-1], 4, dense.max_nodes, hidden=8, levels=2)
        hist = fit(model, dense, epochs=3, batch_size=16, seed=0)
        assert hist["loss"] == pytest.approx(loss, rel=1e-5), kind


def test_cross_validate_oracle_uses_the_planted_communities():
    graphs = data.load("hier_graphs", num_graphs=40, seed=1)
    r = cross_validate(graphs, "diffpool-oracle", folds=4, epochs=2, max_folds=1, hidden=8, batch_size=16,
                       coarse_adj="no-diag", readout="max-concat")
    assert r["model"] == "diffpool-oracle" and len(r["fold_acc"]) == 1
    from torch_geometric.data import Data

    plain = [Data(x=g.x, edge_index=g.edge_index, y=g.y) for g in graphs]
    with pytest.raises(ValueError, match="planted `community`"):
        cross_validate(plain, "diffpool-oracle", folds=4, epochs=1, max_folds=1)


def test_fit_logs_both_auxiliary_losses_and_learns():
    torch.manual_seed(0)
    dense = to_dense(data.load("hier_graphs", num_graphs=64, seed=5, num_classes=4))
    model = make_model("diffpool", dense.x.shape[-1], 4, dense.max_nodes, hidden=16)
    hist = fit(model, dense, epochs=15, batch_size=16, lr=5e-3, eval_sets={"train": dense})
    for key in ("loss", "ce", "link_loss", "entropy_loss", "train_acc", "cpu_seconds"):
        assert len(hist[key]) == 15
    assert hist["ce"][-1] < hist["ce"][0] - 0.3
    assert hist["entropy_loss"][-1] < hist["entropy_loss"][0]
    assert evaluate_accuracy(model, dense) > 0.5  # chance is 0.25
    with pytest.raises(ValueError, match="epochs >= 1"):
        fit(model, dense, epochs=0)


def test_cross_validate_reports_folds():
    graphs = data.load("hier_graphs", num_graphs=40, seed=1)
    r = cross_validate(graphs, "flat-mean", folds=5, epochs=2, max_folds=2, hidden=8, batch_size=16)
    assert r["model"] == "flat-mean" and len(r["fold_acc"]) == 2
    assert 0.0 <= r["mean"] <= 1.0 and r["cpu_seconds_per_epoch"] > 0
    with pytest.raises(ValueError, match="val_share"):
        cross_validate(graphs, "flat-mean", val_share=0.7)
    for bad in (0, 6):  # 0 folds gave a NaN mean; more than folds is a typo
        with pytest.raises(ValueError, match="max_folds must be in"):
            cross_validate(graphs, "flat-mean", folds=5, max_folds=bad)


def test_nolp_trains_with_link_weight_zero_and_diffpool_with_the_asked_weight(monkeypatch):
    import companion.diffpool.train as train_mod

    seen = {}
    real = train_mod.fit

    def spy(model, *a, **kw):
        seen[kw["desc"].split()[0]] = kw["link_weight"], kw["entropy_weight"]
        return real(model, *a, **kw)

    monkeypatch.setattr(train_mod, "fit", spy)
    graphs = data.load("hier_graphs", num_graphs=40, seed=1)
    for kind in ("diffpool", "diffpool-nolp"):
        cross_validate(graphs, kind, folds=4, epochs=1, max_folds=1, hidden=8, batch_size=16,
                       link_weight=2.5, entropy_weight=0.5)
    assert seen == {"diffpool": (2.5, 0.5), "diffpool-nolp": (0.0, 0.5)}  # only the link loss is off


def test_link_weight_zero_leaves_the_link_loss_out_of_the_training_loss():
    dense = to_dense(data.load("hier_graphs", num_graphs=32, seed=5))
    seed_everything(0)
    model = make_model("diffpool-nolp", dense.x.shape[-1], 4, dense.max_nodes, hidden=8)
    hist = fit(model, dense, epochs=2, batch_size=16, link_weight=0.0, entropy_weight=1.0)
    assert min(hist["link_loss"]) > 0  # logged, but not trained on
    np.testing.assert_allclose(hist["loss"], np.add(hist["ce"], hist["entropy_loss"]), rtol=1e-6)


def test_det_cross_validates_with_fixed_clusters_and_no_auxiliary_loss(monkeypatch):
    pytest.importorskip("pymetis")
    import companion.diffpool.train as train_mod

    losses = []
    real = train_mod.fit

    def spy(model, *a, **kw):
        hist = real(model, *a, **kw)
        losses.append((hist["link_loss"], hist["entropy_loss"], model.uses_clusters, len(model.pool)))
        return hist

    monkeypatch.setattr(train_mod, "fit", spy)
    graphs = data.load("hier_graphs", num_graphs=40, seed=1)
    r = cross_validate(graphs, "diffpool-det", folds=4, epochs=2, max_folds=1, hidden=8, batch_size=16, levels=2)
    assert len(r["fold_acc"]) == 1 and losses == [([0.0, 0.0], [0.0, 0.0], True, 0)]


def test_paper_architecture_depths():
    model = make_model("diffpool", 6, 4, 40, hidden=8, levels=2, num_layers=3, first_layers=2, normalize=True)
    assert [len(e.convs) for e in model.embed] == [2, 3] and [len(p.convs) for p in model.pool] == [2, 3]
    assert len(model.final.convs) == 3 and model.clusters == [10, 3]
    flat = make_model("flat-mean", 6, 4, 40, hidden=8, levels=2, num_layers=3, first_layers=2)
    assert len(flat.gnn.convs) == 2 + 3 + 3  # the same depth as the DiffPool model


def fake_cv(fold_acc, fold_val_acc, cpu=1.0):
    return {"fold_acc": fold_acc, "fold_val_acc": fold_val_acc, "mean": float(np.mean(fold_acc)),
            "std": float(np.std(fold_acc)), "cpu_seconds_per_epoch": cpu}


def test_choose_on_validation_picks_by_validation_never_by_test():
    # fold 0: "a" is best on validation, "b" on test; fold 1: the reverse; fold 2: a tie on validation
    results = {"a": fake_cv([0.5, 0.9, 0.4], [0.8, 0.1, 0.6]), "b": fake_cv([0.9, 0.2, 0.9], [0.3, 0.7, 0.6])}
    r = choose_on_validation(results)
    assert r["chosen"] == ["a", "b", "a"]  # a tie goes to the first candidate
    assert r["fold_acc"] == [0.5, 0.2, 0.4] and r["fold_val_acc"] == [0.8, 0.7, 0.6]
    assert r["mean"] == pytest.approx(1.1 / 3) and r["cpu_seconds_per_epoch"] == 2.0
    # any other test accuracies: the same choice
    shuffled = {k: {**v, "fold_acc": v["fold_acc"][::-1]} for k, v in results.items()}
    assert choose_on_validation(shuffled)["chosen"] == r["chosen"]
    with pytest.raises(ValueError, match="same number of folds"):
        choose_on_validation({"a": fake_cv([0.5], [0.5]), "b": fake_cv([0.5, 0.5], [0.5, 0.5])})
    with pytest.raises(ValueError, match="at least one"):
        choose_on_validation({})


def test_cross_validate_reports_the_validation_accuracy_of_the_scored_epoch(monkeypatch):
    import companion.diffpool.train as train_mod

    # a fake training whose histories say which epoch validation picks (epoch 1 of 3)
    hist = {"val_acc": [0.2, 0.7, 0.5], "test_acc": [0.9, 0.3, 0.8], "cpu_seconds": [1.0, 1.0, 1.0]}
    monkeypatch.setattr(train_mod, "fit", lambda *a, **kw: hist)
    graphs = data.load("hier_graphs", num_graphs=40, seed=1)
    r = cross_validate(graphs, "flat-sum", folds=4, epochs=3, max_folds=2, hidden=8, batch_size=16)
    assert r["fold_val_acc"] == [0.7, 0.7] and r["fold_acc"] == [0.3, 0.3]
