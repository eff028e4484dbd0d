import numpy as np
import pytest
import torch

from companion.kgcn import BPRMF, Popularity, auc_score, evaluate_ctr, recall_at_k

# item 0: 3 positives, items 1 and 3: 1 each (a tie), item 2: only a negative,
# item 4: unseen
TRAIN = np.array([[0, 0, 1], [1, 0, 1], [2, 0, 1], [0, 1, 1], [1, 2, 0], [2, 3, 1],
                  [2, 1, 0]])


def test_popularity_scores_the_count_of_training_positives():
    m = Popularity(5, TRAIN)
    assert m.counts.tolist() == [3, 1, 0, 1, 0]
    items = torch.arange(5)
    logits = m(torch.zeros(5, dtype=torch.long), items)
    # log((c + 1) / (mean c + 1)) with mean c = 1: the same for every user
    assert torch.allclose(logits, torch.log(torch.tensor([4.0, 2, 1, 2, 1]) / 2))
    assert torch.equal(logits, m(torch.full((5,), 2), items))
    assert list(m.parameters()) == []  # nothing to train


def test_popularity_auc_f1_and_ties_by_hand():
    m = Popularity(5, TRAIN)
    # positives on items 0 and 1, negatives on 3 (tied with 1) and 4:
    # pairs (0,3) (0,4) (1,4) won, (1,3) tied -> AUC = 3.5 / 4
    test = np.array([[0, 0, 1], [1, 1, 1], [0, 3, 0], [1, 4, 0]])
    out = evaluate_ctr(m, test)
    assert out["auc"] == pytest.approx(3.5 / 4)
    assert out["auc"] == auc_score(test[:, 2], m.counts[test[:, 1]])  # the raw count's
    # a click is predicted for items at least as popular as the average (0, 1, 3):
    # tp 2, fp 1
    assert out["f1"] == pytest.approx(2 * 2 / (3 + 2))


def test_popularity_top_k_breaks_ties_by_item_id():
    m = Popularity(5, TRAIN)
    # user 1 has rated items 0 and 2; candidates 1, 3 (tied at count 1) and 4;
    # K = 1 keeps item 1
    score = lambda u, i: m(u, i)  # noqa: E731
    hit = recall_at_k(score, TRAIN, np.array([[1, 1, 1]]), 5, ks=(1,), n_users=1)
    miss = recall_at_k(score, TRAIN, np.array([[1, 3, 1]]), 5, ks=(1, 2), n_users=1)
    assert hit == {1: 1.0} and miss == {1: 0.0, 2: 1.0}


@pytest.mark.parametrize("args, match", [
    ((0, TRAIN), "n_items"),
    ((5, TRAIN[:, :2]), r"\(N, 3\)"),
    ((2, TRAIN), "item ids"),
])
def test_popularity_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        Popularity(*args)
    with pytest.raises(ValueError, match="item ids"):
        Popularity(5, TRAIN)(torch.tensor([0]), torch.tensor([5]))


def test_bprmf_rejects_bad_sizes():
    with pytest.raises(ValueError, match="dim"):
        BPRMF(3, 4, dim=0)
