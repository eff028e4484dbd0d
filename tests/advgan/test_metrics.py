import pytest
import torch
from torch import nn

from companion.advgan import attack_success_rate, success_on_correct, targeted_success_rate


class Lookup(nn.Module):
    """Predicts the class stored in the first pixel (x * 10, rounded): a hand-made classifier."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cls = (x[:, 0, 0, 0] * 10).round().long()
        return torch.nn.functional.one_hot(cls, 10).float()


def images(classes):
    x = torch.zeros(len(classes), 1, 4, 4)
    x[:, 0, 0, 0] = torch.tensor(classes, dtype=torch.float) / 10
    return x


def test_success_on_correct_hand_case():
    model, y = Lookup(), torch.tensor([1, 2, 3, 4, 5])
    x = images([1, 2, 3, 9, 9])        # digits 0-2 correct, 3-4 already wrong before the attack
    x_adv = images([7, 2, 3, 9, 5])    # fools digit 0; digit 4 becomes right again
    out = success_on_correct(model, x, x_adv, y)
    assert out == {"success_on_correct": pytest.approx(1 / 3), "clean_correct": 3}
    # the plain success rate also counts digit 3, which no attack was needed for
    assert attack_success_rate(model, x_adv, y) == pytest.approx(2 / 5)


def test_success_on_correct_with_no_correct_digit_is_none():
    model, y = Lookup(), torch.tensor([1, 2])
    x = images([3, 3])
    assert success_on_correct(model, x, x, y) == {"success_on_correct": None, "clean_correct": 0}


def test_success_on_correct_errors():
    model, y = Lookup(), torch.tensor([1, 2])
    with pytest.raises(ValueError, match="same shape"):
        success_on_correct(model, images([1, 2]), images([1]), y)
    with pytest.raises(ValueError, match="shapes must match"):
        success_on_correct(model, images([1, 2]), images([1, 2]), torch.tensor([1]))


def test_targeted_success_leaves_out_the_target_class():
    y = torch.tensor([0, 1, 2, 3])
    # predicted 3, 3, 2, 3: of the three digits not of class 3, two are called 3
    assert targeted_success_rate(Lookup(), images([3, 3, 2, 3]), y, 3) == pytest.approx(2 / 3)
    # a digit sent to a third class is misclassified but not a targeted success: 1 of 3, not 2 of 3
    assert targeted_success_rate(Lookup(), images([3, 2, 2, 3]), y, 3) == pytest.approx(1 / 3)
    assert targeted_success_rate(Lookup(), images([3, 3]), torch.tensor([3, 3]), 3) is None
