import numpy as np
import pytest
import torch

from companion import data
from companion.utils import seed_everything, torch_threads
from companion.diffpool import cross_validate, evaluate_accuracy, fit, make_model, stratified_folds, to_dense


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
