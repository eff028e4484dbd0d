import json

import pytest
import torch

from companion import exercises, results, utils
from companion.intro import GCN, normalized_adjacency


def test_seed_everything_repeats_random_draws():
    utils.seed_everything(7)
    a = torch.randn(5)
    utils.seed_everything(7)
    assert torch.equal(a, torch.randn(5))
    with pytest.raises(ValueError, match="seed"):
        utils.seed_everything(-1)


def test_train_loop_fits_a_line_and_logs():
    utils.seed_everything(0)
    x = torch.linspace(-1, 1, 64)[:, None]
    y = 3 * x + 1
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    hist = utils.train(model, lambda m, b: {"loss": ((m(b[0]) - b[1]) ** 2).mean()}, [(x, y)], opt,
                       epochs=60, evaluate=lambda m: {"w": m.weight.item()})
    assert hist["loss"][-1] < 1e-3 < hist["loss"][0]
    assert abs(hist.last("w") - 3) < 0.05
    with pytest.raises(ValueError, match="epochs"):
        utils.train(model, lambda m, b: m(x).sum(), [None], opt, epochs=0)
    with pytest.raises(ValueError, match="empty"):
        utils.train(model, lambda m, b: m(x).sum(), [], opt, epochs=1)


def test_accuracy_and_its_shape_check():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert utils.accuracy(logits, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="expected logits"):
        utils.accuracy(logits, torch.tensor([0, 1]))


def test_normalized_adjacency_hand_case():
    # path 0-1: A+I = [[1,1],[1,1]], degrees 2 -> every entry 1/2
    a = normalized_adjacency(torch.tensor([[0], [1]]), 2)
    assert torch.allclose(a, torch.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="outside"):
        normalized_adjacency(torch.tensor([[0], [5]]), 2)
    with pytest.raises(ValueError, match="a_hat"):
        GCN(3, 4, 2)(torch.zeros(3, 3), torch.zeros(2, 2))


def test_exercise_checker_passes_reference_and_reports_mismatch(capsys):
    assert exercises.check("ch00.normalize", normalized_adjacency)
    wrong = lambda e, n: normalized_adjacency(e, n) * 2  # noqa: E731
    assert not exercises.check("ch00.normalize", wrong)
    assert "expected" in capsys.readouterr().out
    with pytest.raises(ValueError, match="unknown exercise"):
        exercises.check("ch00.nothing", wrong)
    with pytest.raises(ValueError, match="chapter"):
        exercises.check("nochapter", wrong)


def test_timer_keeps_wall_and_cpu_time_apart():
    import time

    with utils.Timer() as idle:
        time.sleep(0.2)  # wall time passes, this process uses (almost) no CPU
    with utils.Timer() as busy:
        end = time.process_time() + 0.1
        while time.process_time() < end:
            pass
    assert idle.seconds >= 0.2 and idle.cpu_seconds < 0.1
    assert busy.cpu_seconds >= 0.1


def test_eval_mode_restores_the_training_flag_even_after_an_error():
    model = torch.nn.Sequential(torch.nn.Dropout(0.5))
    model.train()
    with utils.eval_mode(model):
        assert not model.training
    assert model.training
    with pytest.raises(RuntimeError):
        with utils.eval_mode(model):
            raise RuntimeError("inside")
    assert model.training
    model.eval()
    with utils.eval_mode(model):
        pass
    assert not model.training
