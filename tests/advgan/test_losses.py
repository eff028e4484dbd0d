import pytest
import torch

from companion.advgan import advgan_generator_loss, cw_adversarial_loss, hinge_perturbation_loss


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
