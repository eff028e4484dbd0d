import numpy as np
import pytest

from companion import data
from companion.kgcn import KGCNConfig, evaluate_ctr, fit_bprmf, fit_kgcn, split_ratings, subsample


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
