import pytest
import torch
from torch import nn

import companion.advgan.defense as defense
from companion.advgan import adversarial_training


def tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 3))


def data(n=10):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 4, 4, generator=g), torch.randint(0, 3, (n,), generator=g)


def record_pgd(monkeypatch):
    calls = []

    def fake(model, x, y, eps, alpha, steps, random_start, generator):
        calls.append((eps, alpha))
        return x

    monkeypatch.setattr(defense, "pgd", fake)
    return calls


def test_warmup_grows_eps_and_alpha_linearly_then_holds(monkeypatch):
    calls = record_pgd(monkeypatch)
    x, y = data(10)
    # 2 batches an epoch, warm-up over the first epoch: eps 0.15, then 0.3 from the 2nd batch on
    adversarial_training(tiny(), x, y, eps=0.3, alpha=0.1, steps=1, epochs=2, batch_size=5, warmup_epochs=1)
    assert [e for e, _ in calls] == pytest.approx([0.15, 0.3, 0.3, 0.3])
    assert [a for _, a in calls] == pytest.approx([0.05, 0.1, 0.1, 0.1])


def test_no_warmup_uses_the_full_budget_from_the_first_batch(monkeypatch):
    calls = record_pgd(monkeypatch)
    x, y = data(10)
    adversarial_training(tiny(), x, y, eps=0.3, alpha=0.1, steps=1, epochs=1, batch_size=5)
    assert calls == [(0.3, 0.1), (0.3, 0.1)]   # exactly eps and alpha: the committed runs are unchanged


@pytest.mark.parametrize("warmup", [-1, 3, 1.5, True])
def test_warmup_errors(warmup):
    x, y = data(10)
    with pytest.raises(ValueError, match="warmup_epochs must be an integer in 0..epochs"):
        adversarial_training(tiny(), x, y, epochs=2, warmup_epochs=warmup)
