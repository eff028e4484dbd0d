import math

import pytest
import torch
import torch.nn.functional as F

from companion.snn import LossConfig, activation_regularization, kd_loss, logits_regularization, parse_loss, student_loss


def test_kd_loss_matches_hand_computation():
    s = torch.tensor([[2.0, 0.0]])
    t = torch.tensor([[0.0, 0.0]])
    y = torch.tensor([0])
    tau, alpha = 2.0, 0.25
    ce = math.log(1 + math.exp(-2.0))
    ps = [math.exp(1) / (math.exp(1) + 1), 1 / (math.exp(1) + 1)]
    kl = sum(0.5 * math.log(0.5 / q) for q in ps)
    want = (1 - alpha) * ce + alpha * tau**2 * kl
    assert kd_loss(s, t, y, tau, alpha).item() == pytest.approx(want, rel=1e-5)


def test_kd_loss_alpha_zero_is_cross_entropy():
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    y = torch.tensor([0, 1, 2, 3, 0])
    assert torch.allclose(kd_loss(s, t, y, 3.0, 0.0), F.cross_entropy(s, y))


def test_regularizers_match_hand_computation():
    z = torch.tensor([[1.0, -2.0], [0.0, 3.0]])
    assert logits_regularization(z, 2).item() == pytest.approx((1 + 4 + 0 + 9) / 4)
    assert logits_regularization(z, 1).item() == pytest.approx((1 + 2 + 0 + 3) / 4)
    counts = {"a": torch.tensor([[4.0, 0.0], [2.0, 2.0]]), "b": torch.tensor([[1.0], [3.0]])}
    # rates c/T with T = 4: a -> [1, 0, .5, .5], b -> [.25, .75]
    assert activation_regularization(counts, 4, 1).item() == pytest.approx(0.5 + 0.5)
    assert activation_regularization(counts, 4, 2).item() == pytest.approx(0.375 + 0.3125)


def test_student_loss_combines_terms():
    z = torch.tensor([[3.0, 1.0]], requires_grad=True)
    y = torch.tensor([0])
    counts = {"h": torch.tensor([[2.0, 0.0]])}
    cfg = LossConfig(kd=False, act_lambda=0.5, logits_lambda=0.1)
    out = student_loss(z, y, cfg, counts, 4)
    want = F.cross_entropy(z, y) + 0.5 * 0.25 + 0.1 * 5.0
    assert out["loss"].item() == pytest.approx(want.item())
    assert parse_loss("kd+logits").name == "kd+logits" and parse_loss("plain").name == "plain"


@pytest.mark.parametrize("tau", [0.0, -1.0])
def test_kd_rejects_nonpositive_temperature(tau):
    with pytest.raises(ValueError, match="temperature must be > 0"):
        kd_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), tau)


def test_kd_rejects_mismatched_class_counts():
    with pytest.raises(ValueError, match="same number of classes"):
        kd_loss(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, dtype=torch.long))


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="alpha"):
        kd_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), 2.0, 1.5)
    with pytest.raises(ValueError, match="p must be"):
        logits_regularization(torch.zeros(2, 3), 3)
    with pytest.raises(ValueError, match="loss spec"):
        parse_loss("kd+dropout")
    with pytest.raises(ValueError, match="teacher_logits"):
        student_loss(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), LossConfig(kd=True))
