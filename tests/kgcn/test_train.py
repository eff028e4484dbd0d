from types import SimpleNamespace

import numpy as np
import pytest
import torch

from companion import data
from companion.kgcn import (KGCNConfig, epochs_for_steps, evaluate_ctr, fit_bprmf,
                            fit_kgcn, run_comparison, split_ratings, subsample)
from companion.kgcn import train as train_mod
from companion.kgcn.train import _batches


def test_split_and_subsample():
    r = np.arange(300).reshape(100, 3)
    tr, ev, te = split_ratings(r, seed=0)
    assert (len(tr), len(ev), len(te)) == (60, 20, 20)
    assert len(np.unique(np.concatenate([tr, ev, te])[:, 0])) == 100
    assert len(subsample(tr, 0.2, seed=0)) == 12
    with pytest.raises(ValueError, match="fraction"):
        subsample(tr, 0.0)
    with pytest.raises(ValueError, match="ratios"):
        split_ratings(r, ratios=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="ls_weight"):
        KGCNConfig(ls_weight=-1)


def test_seeded_kgcn_and_bprmf_learn_above_chance():
    d = data.load("kg_recsys", n_users=120, n_items=150, density=0.1)
    tr, ev, te = split_ratings(d.ratings, seed=0)
    cfg = KGCNConfig(n_epochs=8, n_iter=1, ls_weight=0.0)
    kgcn, hist = fit_kgcn(d, tr, cfg, seed=0, eval_rows=ev)
    bpr, _ = fit_bprmf(d.n_users, d.n_items, tr, n_epochs=8, seed=0, eval_rows=ev)
    assert len(hist["loss"]) == 8
    assert evaluate_ctr(kgcn, te)["auc"] > 0.6
    assert evaluate_ctr(bpr, te)["auc"] > 0.6


def _steps_per_fit(monkeypatch):
    """Record the optimiser steps of every fit (a hook on the optimiser)."""
    from companion.kgcn import train as train_module
    counts, original = [], train_module.train

    def counting(model, step, batches, optimizer, epochs, **kwargs):
        counts.append(0)
        def count(*_):
            counts[-1] += 1

        optimizer.register_step_post_hook(count)
        return original(model, step, batches, optimizer, epochs, **kwargs)

    monkeypatch.setattr(train_module, "train", counting)
    return counts


def test_step_budget_is_equal_across_fractions_and_models(monkeypatch):
    d = data.load("kg_recsys", n_users=40, n_items=50, density=0.2)
    cfg = KGCNConfig(n_epochs=2, n_iter=1, batch_size=16)
    models = ("BPR-MF", "KGCN", "Popularity")
    counts = _steps_per_fit(monkeypatch)
    run_comparison(d, (0.2, 1.0), (0,), cfg, models, topk_users=5)
    # fixed epochs: fewer steps at 20 % than at 100 %
    assert counts[0] < counts[2] and counts[1] < counts[3]
    counts.clear()
    rows = run_comparison(d, (0.2, 1.0), (0,), cfg, models, topk_users=5, steps=37)
    assert counts == [37] * 4  # 2 trained models x 2 fractions; Popularity not trained
    assert [r["model"] for r in rows] == list(models) * 2


@pytest.mark.parametrize("n_rows, batch_size, steps, epochs", [
    (100, 10, 30, 3), (100, 10, 31, 4), (95, 10, 30, 3), (5, 10, 7, 7),
    (100, 200, 1, 1)])
def test_epochs_for_steps_and_the_last_epoch_cut_short(n_rows, batch_size, steps,
                                                       epochs):
    assert epochs_for_steps(steps, n_rows, batch_size) == epochs
    plan = _batches(n_rows, batch_size, seed=0, steps=steps)
    assert sum(len(plan(e)) for e in range(epochs)) == steps
    with pytest.raises(ValueError, match="steps"):
        epochs_for_steps(0, n_rows, batch_size)


def test_bad_step_budget_and_model_raise():
    d = data.load("kg_recsys", n_users=30, n_items=40, density=0.2)
    with pytest.raises(ValueError, match="steps"):
        run_comparison(d, steps=0)
    with pytest.raises(ValueError, match="unknown models"):
        run_comparison(d, models=("ItemKNN",))


def test_tuning_keeps_the_setting_of_best_eval_auc_and_reads_only_the_eval_rows(monkeypatch):
    eval_rows, test_rows = np.zeros((4, 3), dtype=np.int64), np.ones((4, 3), dtype=np.int64)
    made, read = [], []

    def fake_fit(name, data, train_rows, ev, cfg, seed, adjacency, steps, device="cpu"):
        made.append(SimpleNamespace(cfg=cfg))
        return made[-1]

    def fake_eval(model, rows):
        read.append(rows)
        return {"auc": {1e-4: 0.6, 1e-2: 0.8, 1e-1: 0.7}[model.cfg.l2_weight]}

    monkeypatch.setattr(train_mod, "_fit_named", fake_fit)
    monkeypatch.setattr(train_mod, "evaluate_ctr", fake_eval)
    grid = [{"lr": 0.01, "l2_weight": w} for w in (1e-4, 1e-2, 1e-1)]
    model, chosen = train_mod.tune_on_eval("BPR-MF", None, np.zeros((2, 3)), eval_rows, KGCNConfig(), grid, seed=0)
    assert chosen == {"lr": 0.01, "l2_weight": 1e-2, "eval_auc": 0.8} and model is made[1]
    assert len(made) == 3 and all(r is eval_rows for r in read)


def test_a_grid_of_unequal_size_or_missing_a_model_is_refused():
    d = data.load("kg_recsys", n_users=30, n_items=40, density=0.2)
    two, one = [{"l2_weight": 1e-4}, {"l2_weight": 1e-2}], [{"l2_weight": 1e-4}]
    with pytest.raises(ValueError, match="same size"):
        run_comparison(d, models=("BPR-MF", "KGCN"), grid={"BPR-MF": two, "KGCN": one})
    with pytest.raises(ValueError, match="no settings for"):
        run_comparison(d, models=("BPR-MF", "KGCN"), grid={"BPR-MF": two})
    with pytest.raises(ValueError, match="lr and/or l2_weight"):
        run_comparison(d, models=("BPR-MF",), grid={"BPR-MF": [{"dim": 8}]})


def test_the_bprmf_l2_weight_of_a_grid_reaches_its_trainer():
    d = data.load("kg_recsys", n_users=30, n_items=40, density=0.2)
    tr, ev, _ = split_ratings(d.ratings, seed=0)
    norms = {}
    for w in (1e-4, 1.0):
        model = train_mod._fit_named("BPR-MF", d, tr, ev, KGCNConfig(n_epochs=3, l2_weight=w), 0, None, None)
        norms[w] = sum(p.detach().norm().item() for p in model.parameters())
    assert norms[1.0] < 0.8 * norms[1e-4]  # a heavy penalty shrinks the embeddings


def test_mf_is_bprmfs_model_trained_on_the_fixed_rows_by_cross_entropy():
    d = data.load("kg_recsys", n_users=30, n_items=40, density=0.2)
    tr, ev, te = split_ratings(d.ratings, seed=0)
    mf, _ = train_mod.fit_mf(d.n_users, d.n_items, tr, n_epochs=20, lr=0.05, batch_size=32, seed=0)
    bpr, _ = fit_bprmf(d.n_users, d.n_items, tr, n_epochs=20, lr=0.05, batch_size=32, seed=0)
    assert type(mf) is type(bpr)  # the same model: only the recipe differs
    assert evaluate_ctr(mf, tr)["auc"] > 0.75  # it fits the labelled rows, negatives included
    assert not all(torch.equal(a, b) for a, b in zip(mf.parameters(), bpr.parameters()))
    again, _ = train_mod.fit_mf(d.n_users, d.n_items, tr, n_epochs=20, lr=0.05, batch_size=32, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(mf.parameters(), again.parameters()))  # seeded


def test_mf_runs_only_on_request_and_takes_bprmfs_grid():
    assert "MF" not in train_mod.MODELS and "MF" in train_mod.KG_FREE
    d = data.load("kg_recsys", n_users=30, n_items=40, density=0.2)
    rows = run_comparison(d, models=("MF",), config=KGCNConfig(n_epochs=2, batch_size=64), topk_users=5,
                          grid={"MF": [{"l2_weight": 1e-4}, {"l2_weight": 1e-1}]})
    assert [r["model"] for r in rows] == ["MF"] and rows[0]["l2_weight"] in (1e-4, 1e-1)
