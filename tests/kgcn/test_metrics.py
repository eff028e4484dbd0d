import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, roc_auc_score

from companion.kgcn import auc_score, f1_at_half, recall_at_k


def test_auc_matches_sklearn_on_random_scores():
    rng = np.random.default_rng(0)
    for _ in range(5):
        y = rng.integers(0, 2, 200)
        s = rng.random(200)
        assert auc_score(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
        ties = rng.integers(0, 4, 200).astype(float)
        assert auc_score(y, ties) == pytest.approx(roc_auc_score(y, ties), abs=1e-12)


def test_auc_by_hand_and_errors():
    assert auc_score([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="both classes"):
        auc_score([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="same length"):
        auc_score([1, 0], [0.2])


def test_f1_matches_sklearn():
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 2, 100), rng.random(100)
    assert f1_at_half(y, p) == pytest.approx(f1_score(y, p >= 0.5))


def test_recall_at_k_hand_case():
    train = np.array([[0, 0, 1], [0, 1, 0]])
    test = np.array([[0, 2, 1], [0, 3, 1], [0, 4, 0]])
    # scores rank items 4 > 2 > 5 > 3; item 0 and 1 are in the training record and excluded
    order = {2: 3.0, 3: 1.0, 4: 4.0, 5: 2.0}
    score = lambda u, i: torch.tensor([order[int(x)] for x in i])
    rec = recall_at_k(score, train, test, n_items=6, ks=(1, 2, 4))
    assert rec == {1: 0.0, 2: 0.5, 4: 1.0}
    with pytest.raises(ValueError, match="no user"):
        recall_at_k(score, train, np.array([[1, 2, 1]]), n_items=6)
    with pytest.raises(ValueError, match="n_users must be >= 1"):
        recall_at_k(score, train, test, n_items=6, n_users=0)  # was a NaN for every K
