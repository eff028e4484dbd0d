import pytest
import torch

from companion.alinet import alignment_loss, relation_loss, sample_negatives


def test_alignment_loss_hand_value():
    emb = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    pos, neg = torch.tensor([[0, 1]]), torch.tensor([[0, 2], [1, 0]])
    # pos: 1; neg: relu(1.5-4)=0 and relu(1.5-1)=0.5 -> 1 + 0.1 * 0.5
    assert alignment_loss(emb, pos, neg, margin=1.5, neg_param=0.1).item() == pytest.approx(1.05)
    with pytest.raises(ValueError, match="margin"):
        alignment_loss(emb, pos, neg, margin=0.0)


def test_relation_loss_zero_for_perfect_translation():
    r = torch.tensor([0.6, 0.8])  # unit vector
    emb = torch.tensor([[0.0, 0.0], [0.6, 0.8], [1.0, 1.0], [1.6, 1.8]])
    triples = torch.tensor([[1, 0, 0], [3, 0, 2]])
    assert relation_loss(emb, triples, 1).item() == pytest.approx(0.0, abs=1e-9)
    assert relation_loss(emb, torch.tensor([[0, 0, 1], [3, 0, 2]]), 1).item() > 0.5


def test_negatives_stay_in_other_kg_and_truncated_are_near():
    g = torch.Generator().manual_seed(0)
    emb = torch.randn(40, 4, generator=g)
    pos = torch.tensor([[0, 20], [1, 21], [2, 22]])
    for kind in ("uniform", "truncated"):
        neg = sample_negatives(emb, pos, 20, neg_multi=5, kind=kind, epsilon=0.9, generator=g)
        assert (neg[:, 0] < 20).all() and (neg[:, 1] >= 20).all()
        assert not any((neg == p).all(1).any() for p in pos)
    neg = sample_negatives(emb, pos[:1], 20, neg_multi=5, kind="truncated", epsilon=0.9, generator=g)
    e = torch.nn.functional.normalize(emb, dim=1)
    nearest2 = set((e[0] @ e[20:].T).topk(2).indices.add(20).tolist())
    assert set(neg[neg[:, 0] == 0][:, 1].tolist()) <= nearest2
    with pytest.raises(ValueError, match="kind"):
        sample_negatives(emb, pos, 20, kind="hard")


def test_gcn_align_loss_hand_value_and_uniform_corruptions():
    from companion.alinet import gcn_align_loss, sample_uniform_corruptions
    emb = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [5.0, 5.0]])
    pos = torch.tensor([[0, 1]])  # L1 distance 1
    # right corruption 2: |e0 - e2| = 2 -> relu(1 + 3 - 2) = 2; left corruption 3: |e3 - e1| = 9 -> 0
    loss = gcn_align_loss(emb, pos, torch.tensor([[2]]), torch.tensor([[3]]), margin=3.0)
    assert loss.item() == pytest.approx((2.0 + 0.0) / 2)
    with pytest.raises(ValueError, match="margin"):
        gcn_align_loss(emb, pos, torch.tensor([[2]]), torch.tensor([[3]]), margin=0.0)
    with pytest.raises(ValueError, match="neg_right"):
        gcn_align_loss(emb, pos, torch.tensor([[2, 1]]), torch.tensor([[3]]))
    g = torch.Generator().manual_seed(0)
    r, l = sample_uniform_corruptions(torch.zeros(50, 2, dtype=torch.long), 7, k=25, generator=g)
    assert r.shape == l.shape == (50, 25) and r.min() >= 0 and r.max() == 6 and l.max() == 6
