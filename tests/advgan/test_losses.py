import pytest
import torch

from companion.advgan import advgan_generator_loss, cw_adversarial_loss, cw_targeted_loss, hinge_perturbation_loss


def test_cw_loss_hand_computed():
    logits = torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 2.5]])
    y = torch.tensor([0, 1])
    # row 0: 3 - 1 + 0 = 2; row 1: 2 - 2.5 = -0.5 -> 0
    assert cw_adversarial_loss(logits, y).item() == pytest.approx(1.0)
    # with margin 1: row 0: 3, row 1: 0.5
    assert cw_adversarial_loss(logits, y, kappa=1.0).item() == pytest.approx(1.75)


def test_cw_loss_is_zero_when_fooled_by_the_margin():
    y = torch.tensor([0, 1, 2])
    logits = torch.zeros(3, 4)
    logits[0, 3] = 2.0   # wrong class ahead by 2
    logits[1, 0] = 1.0   # wrong class ahead by 1
    logits[2, 1] = 1.5
    assert cw_adversarial_loss(logits, y, kappa=1.0).item() == 0.0
    # ... and positive as soon as one example is fooled by less than the margin
    assert cw_adversarial_loss(logits, y, kappa=1.2).item() > 0.0


def test_hinge_is_zero_inside_the_bound_and_linear_outside():
    delta = torch.zeros(2, 1, 2, 2)
    delta[0, 0, 0, 0] = 3.0   # norm 3
    delta[1, 0] = 1.0         # norm 2
    assert hinge_perturbation_loss(delta, c=3.0).item() == 0.0
    assert hinge_perturbation_loss(delta, c=1.0).item() == pytest.approx((2.0 + 1.0) / 2)


def test_generator_loss_combines_terms_with_weights():
    g = torch.Generator().manual_seed(0)
    logits, y = torch.randn(4, 10, generator=g), torch.tensor([1, 2, 3, 4])
    d_fake, delta = torch.randn(4, generator=g), torch.randn(4, 1, 8, 8, generator=g)
    t = advgan_generator_loss(logits, y, d_fake, delta, alpha=0.5, beta=2.0, c=1.0)
    assert t["loss"].item() == pytest.approx((t["adv"] + 0.5 * t["gan"] + 2.0 * t["hinge"]).item())


def test_loss_errors():
    with pytest.raises(ValueError, match="logits"):
        cw_adversarial_loss(torch.zeros(3, 4), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="kappa"):
        cw_adversarial_loss(torch.zeros(2, 4), torch.zeros(2, dtype=torch.long), kappa=-1)
    with pytest.raises(ValueError, match="c must"):
        hinge_perturbation_loss(torch.zeros(2, 3), c=-1)
    with pytest.raises(ValueError, match="one example per row"):
        hinge_perturbation_loss(torch.zeros(3), c=1)


def test_cw_loss_follows_the_carlini_wagner_formula_for_each_kappa():
    # Z_y - max_{i != y} Z_i by hand: row 0: 4 - 1 = 3; row 1: 1 - 3 = -2; row 2: 0 - 0.5 = -0.5
    logits = torch.tensor([[4.0, 1.0, 0.0], [3.0, 1.0, 0.0], [0.0, 0.5, -1.0]], requires_grad=True)
    y = torch.tensor([0, 1, 0])
    margins = [3.0, -2.0, -0.5]
    for kappa in (0.0, 1.0, 5.0):
        cw = sum(max(m, -kappa) for m in margins) / 3  # C&W: max(Z_y - max_{i != y} Z_i, -kappa)
        loss = cw_adversarial_loss(logits, y, kappa=kappa)
        # our form max(. + kappa, 0) is C&W's shifted by the constant kappa: same gradient and minimisers
        assert loss.item() == pytest.approx(cw + kappa)
    # kappa = 0: only row 0 pushes; kappa = 5: every row pushes, also the two already misclassified
    assert cw_adversarial_loss(logits, y, kappa=0.0).item() == pytest.approx(1.0)
    assert cw_adversarial_loss(logits, y, kappa=5.0).item() == pytest.approx((8.0 + 3.0 + 4.5) / 3)
    (grad,) = torch.autograd.grad(cw_adversarial_loss(logits, y, kappa=0.0), logits)
    assert grad[1:].abs().sum().item() == 0.0
    (grad,) = torch.autograd.grad(cw_adversarial_loss(logits, y, kappa=5.0), logits)
    assert grad[1].tolist() == pytest.approx([-1 / 3, 1 / 3, 0.0])  # down on Z_y = Z_1, up on the best other Z_0


def test_generator_loss_threads_kappa_to_the_adversarial_term():
    logits, y = torch.tensor([[0.0, 2.0]]), torch.tensor([0])   # misclassified by a margin of 2
    d_fake, delta = torch.zeros(1), torch.zeros(1, 1, 2, 2)
    assert advgan_generator_loss(logits, y, d_fake, delta)["adv"].item() == 0.0
    assert advgan_generator_loss(logits, y, d_fake, delta, kappa=3.0)["adv"].item() == pytest.approx(1.0)


@pytest.mark.parametrize("kappa", [-0.5, float("nan"), float("inf")])
def test_cw_loss_refuses_a_bad_kappa(kappa):
    with pytest.raises(ValueError, match="kappa .*must be a finite number >= 0"):
        cw_adversarial_loss(torch.zeros(2, 4), torch.zeros(2, dtype=torch.long), kappa=kappa)


def test_targeted_cw_loss_hand_computed_and_zero_once_the_target_leads():
    logits = torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 2.5]])
    t = torch.tensor([2, 2])
    # row 0: max(3, 1) - 0 = 3; row 1: 2 - 2.5 = -0.5 -> 0 (class 2 already leads)
    assert cw_targeted_loss(logits, t).item() == pytest.approx(1.5)
    # margin 1: row 0: 4, row 1: 0.5 (the target leads by less than the margin)
    assert cw_targeted_loss(logits, t, kappa=1.0).item() == pytest.approx(2.25)
    # the untargeted loss of the true class differs: targeted asks for one class, not any wrong one
    assert cw_adversarial_loss(logits, torch.tensor([0, 0])).item() != cw_targeted_loss(logits, t).item()


def test_generator_loss_targeted_uses_the_targeted_term():
    g = torch.Generator().manual_seed(0)
    logits, t = torch.randn(4, 10, generator=g), torch.tensor([3, 3, 3, 3])
    d_fake, delta = torch.randn(4, generator=g), torch.randn(4, 1, 8, 8, generator=g)
    terms = advgan_generator_loss(logits, t, d_fake, delta, targeted=True)
    assert terms["adv"].item() == pytest.approx(cw_targeted_loss(logits, t).item())


def test_targeted_cw_loss_errors():
    with pytest.raises(ValueError, match="target classes must be in 0..2"):
        cw_targeted_loss(torch.zeros(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="expected logits"):
        cw_targeted_loss(torch.zeros(2, 3), torch.tensor([0]))
