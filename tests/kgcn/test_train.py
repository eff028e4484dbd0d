import numpy as np
import pytest

from companion import data
from companion.kgcn import (KGCNConfig, epochs_for_steps, evaluate_ctr, fit_bprmf,
                            fit_kgcn, run_comparison, split_ratings, subsample)
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
