import pytest
import torch

from companion import data, utils
from companion.advgan import (
    attack_success_rate, fgsm, perturbation_norms, pgd, target_model, time_per_example, train_classifier,
)


@pytest.fixture(scope="module")
def digits_target():
    d = data.load("digits", images=True)
    x, y = d["x"], d["y"]
    # pad 8x8 digits to stay inside [0, 1]; H, W divisible by 4 already
    torch.manual_seed(0)  # the model's initialisation must not depend on which tests ran before
    model = target_model("A", (1, 8, 8))
    train_classifier(model, x[:1200], y[:1200], epochs=4, lr=2e-3, seed=0)
    return model, x[1200:1500], y[1200:1500]


def test_target_shapes():
    for name in ("A", "B", "C"):
        assert target_model(name, (1, 28, 28))(torch.rand(3, 1, 28, 28)).shape == (3, 10)
        assert target_model(name, (1, 8, 8), n_classes=4)(torch.rand(2, 1, 8, 8)).shape == (2, 4)
    with pytest.raises(ValueError, match="must be one of"):
        target_model("Z")
    with pytest.raises(ValueError, match="divisible by 4"):
        target_model("A", (1, 10, 10))


@pytest.mark.parametrize("eps", [0.05, 0.3])
def test_attacks_respect_the_bound_and_the_pixel_range(digits_target, eps):
    model, x, y = digits_target
    for x_adv in (fgsm(model, x, y, eps), pgd(model, x, y, eps, alpha=0.05, steps=5)):
        assert x_adv.shape == x.shape
        assert (x_adv - x).abs().max().item() <= eps + 1e-6
        assert x_adv.min() >= 0 and x_adv.max() <= 1
        assert perturbation_norms(x, x_adv)["linf_max"] <= eps + 1e-6


def test_pgd_beats_fgsm_beats_noise(digits_target):
    model, x, y = digits_target
    clean = attack_success_rate(model, x, y)
    noise = (x + 0.2 * torch.sign(torch.randn(x.shape, generator=torch.Generator().manual_seed(0)))).clamp(0, 1)
    asr_noise = attack_success_rate(model, noise, y)
    asr_fgsm = attack_success_rate(model, fgsm(model, x, y, 0.2), y)
    asr_pgd = attack_success_rate(model, pgd(model, x, y, 0.2, alpha=0.05, steps=10), y)
    assert clean < 0.25
    assert asr_fgsm > asr_noise + 0.2
    assert asr_pgd >= asr_fgsm - 0.02 and asr_pgd > 0.8


def test_targeted_pgd_sends_digits_to_the_target_class(digits_target):
    model, x, y = digits_target
    others = y != 3
    wanted = torch.full_like(y, 3)
    gen = torch.Generator().manual_seed(0)
    x_adv = pgd(model, x, wanted, 0.3, alpha=0.05, steps=20, targeted=True, generator=gen)
    assert (x_adv - x).abs().max().item() <= 0.3 + 1e-6
    to_3 = (model(x_adv[others]).argmax(1) == 3).float().mean().item()
    # the untargeted attack on the same digits scatters them over the other classes
    untargeted = pgd(model, x, y, 0.3, alpha=0.05, steps=20, generator=gen)
    to_3_untargeted = (model(untargeted[others]).argmax(1) == 3).float().mean().item()
    assert to_3 > 0.8 and to_3 > to_3_untargeted + 0.5, (to_3, to_3_untargeted)


def test_fgsm_hand_computed_on_a_linear_model():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))
    x = torch.tensor([[[[0.5, 0.5]]]])
    # d CE / d x for label 0 = (p - onehot) @ W = (-0.5, 0.5) @ W -> (-1, 1): sign (-1, +1)
    x_adv = fgsm(model, x, torch.tensor([0]), eps=0.1)
    assert torch.allclose(x_adv, torch.tensor([[[[0.4, 0.6]]]]))


def test_attack_errors():
    model = target_model("B", (1, 8, 8))
    x, y = torch.rand(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)
    with pytest.raises(ValueError, match=r"pixels in \[0, 1\]"):
        fgsm(model, x * 2, y)
    with pytest.raises(ValueError, match="shapes must match"):
        pgd(model, x, y[:3])
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        fgsm(model, x[0], y)
    with pytest.raises(ValueError, match="eps"):
        pgd(model, x, y, eps=0)
    with pytest.raises(ValueError, match="steps"):
        pgd(model, x, y, steps=0)
    with pytest.raises(ValueError, match="same shape"):
        perturbation_norms(x, x[:2])
    with pytest.raises(ValueError, match="repeats"):
        time_per_example(lambda z: z, x, repeats=0)
