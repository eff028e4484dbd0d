import pytest
import torch

from companion.advgan import Discriminator, Generator, adversarial_example, init_weights


@pytest.mark.parametrize("size", [8, 28])
def test_generator_perturbation_respects_the_bound(size):
    torch.manual_seed(0)
    g = Generator(eps=0.2, width=4)
    g.apply(init_weights)
    # large weights push tanh to saturation: the bound must still hold
    with torch.no_grad():
        for p in g.parameters():
            p.mul_(50)
    x = torch.rand(5, 1, size, size)
    delta = g(x)
    assert delta.shape == x.shape
    assert delta.abs().max().item() <= 0.2 + 1e-6
    x_adv = adversarial_example(g, x)
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert (x_adv - x).abs().max().item() <= 0.2 + 1e-6


def test_discriminator_gives_one_logit_per_image():
    assert Discriminator(width=4)(torch.rand(3, 1, 28, 28)).shape == (3,)
    assert Discriminator(width=4)(torch.rand(2, 1, 8, 8)).shape == (2,)


def test_network_errors():
    with pytest.raises(ValueError, match="eps"):
        Generator(eps=1.5)
    with pytest.raises(ValueError, match="divisible by 4"):
        Generator()(torch.rand(2, 1, 10, 10))
    with pytest.raises(ValueError, match=r"pixels in \[0, 1\]"):
        adversarial_example(Generator(), torch.rand(2, 1, 8, 8) - 0.5)
