import pytest

import torch

from companion.snn import (LossConfig, SpikeMonitor, SpikingConvNet, SpikingMLP, choose_from_sweep, encode,
                           evaluate_student, load_split, make_leaky, predict_logits, train_student, train_teacher)
from companion.snn.exercises import choose_temperature


@pytest.fixture(scope="module")
def digits():
    return load_split("digits", n_train=600, n_test=200)


def test_spiking_student_beats_chance_and_activity_reg_lowers_activity(digits):
    plain, _ = train_student(digits, LossConfig(), epochs=3, hidden=(64,), seed=0, lr=5e-3)
    reg, _ = train_student(digits, LossConfig(act_lambda=0.5), epochs=3, hidden=(64,), seed=0, lr=5e-3)
    m_plain = evaluate_student(plain, digits["x_test"], digits["y_test"])
    m_reg = evaluate_student(reg, digits["x_test"], digits["y_test"])
    assert m_plain["accuracy"] > 0.5  # chance is 0.1
    assert m_reg["rate"] < 0.8 * m_plain["rate"]
    assert 0 <= m_plain["rate"] <= 1 and m_plain["spikes_per_sample"] > 0


def test_kd_student_needs_matching_teacher(digits):
    teacher, hist = train_teacher(digits, epochs=3, hidden=(64,), lr=1e-2)
    assert hist.last("test_acc") > 0.5
    t_logits = predict_logits(teacher, digits["x_train"])
    with pytest.raises(ValueError, match="teacher_logits must be"):
        train_student(digits, LossConfig(kd=True), teacher_logits=t_logits[:, :5], epochs=1, hidden=(8,))
    with pytest.raises(ValueError, match="needs teacher_logits"):
        train_student(digits, LossConfig(kd=True), epochs=1)
    with pytest.raises(ValueError, match="data must be"):
        load_split("imagenet")


def test_choose_temperature_reference():
    rows = [{"temperature": 1.0, "accuracy": 0.9, "rate": 0.3}, {"temperature": 4.0, "accuracy": 0.85, "rate": 0.1}]
    assert choose_temperature(rows, 0.9) == 1.0
    assert choose_temperature(rows, 0.9, tolerance=0.06) == 4.0


def test_reg_warmup_only_limits_regularized_students(digits):
    tiny = {k: v[:64] for k, v in digits.items()}
    train_student(tiny, LossConfig(), epochs=1, hidden=(8,))  # plain: the warm-up has nothing to delay
    with pytest.raises(ValueError, match="reg_warmup must be < epochs = 1 for a regularized loss"):
        train_student(tiny, LossConfig(act_lambda=0.1), epochs=1, hidden=(8,))
    with pytest.raises(ValueError, match="reg_warmup must be >= 0"):
        train_student(tiny, LossConfig(), epochs=1, reg_warmup=-1, hidden=(8,))


def test_validation_split_is_carved_from_training_rows_not_test():
    full = load_split("digits")
    split = load_split("digits", val_fraction=0.2)
    n = len(full["y_train"])
    assert len(split["y_val"]) == round(0.2 * n) and len(split["y_train"]) + len(split["y_val"]) == n
    assert torch.equal(split["x_val"], full["x_train"][len(split["y_train"]):])
    assert torch.equal(split["x_test"], full["x_test"])
    with pytest.raises(ValueError, match="val_fraction must be in"):
        load_split("digits", val_fraction=1.0)


def test_mean_readout_averages_a_plain_linear_and_spike_readout_counts():
    torch.manual_seed(0)
    x = encode(torch.rand(5, 1, 8, 8), 4)
    mean = SpikingMLP(64, 10, hidden=(16,), readout="mean")
    spike = SpikingMLP(64, 10, hidden=(16,), readout="spike")
    assert len(mean.lifs) == 1 and len(spike.lifs) == 2  # no LIF on the authors' readout
    with SpikeMonitor(mean) as mon:
        z = mean(x)
        h = mon.spikes["lifs.0"]  # (T, B, 16) hidden spikes
    # the authors' readout: the Linear layer's output averaged over the T steps
    assert torch.allclose(z, mean.fcs[1](h).mean(0), atol=1e-6)
    counts = spike(x)
    assert torch.equal(counts, counts.round()) and counts.min() >= 0 and counts.max() <= 4
    with pytest.raises(ValueError, match="readout must be one of"):
        SpikingMLP(64, 10, readout="softmax")
    conv = SpikingConvNet(1, 8, 10, readout="mean")
    assert len(conv.lifs) == 3 and conv(x.reshape(4, 5, 1, 8, 8)).shape == (5, 10)


def test_tied_argmax_counts_shared_maxima():
    class Fixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lif = make_leaky(0.5, 1.0)

        def forward(self, x):
            self.lif(x[0, :, :3], torch.zeros(x.shape[1], 3))
            return torch.tensor([[2.0, 2.0, 0.0], [3.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 4.0, 4.0]])

    out = evaluate_student(Fixed(), torch.zeros(4, 3), torch.tensor([0, 0, 1, 2]), num_steps=1)
    assert out["tied_argmax"] == pytest.approx(0.75)
    assert out["accuracy"] == pytest.approx(0.5)  # ties go to the first class


def test_choose_from_sweep_rules():
    rows = [{"method": "plain", "accuracy": 0.90, "rate": 0.3}, {"method": "plain", "accuracy": 0.92, "rate": 0.3},
            {"method": "act", "act_lambda": 0.1, "accuracy": 0.91, "rate": 0.2},
            {"method": "act", "act_lambda": 1.0, "accuracy": 0.905, "rate": 0.1},
            {"method": "act", "act_lambda": 10.0, "accuracy": 0.80, "rate": 0.01}]
    assert choose_from_sweep(rows, "act_lambda", 0.01)["value"] == 1.0   # 0.905 >= 0.91 - 0.01
    assert choose_from_sweep(rows, "act_lambda", 0.001)["value"] == 0.1
    assert choose_from_sweep(rows, "act_lambda", 0.2)["value"] == 10.0
    temps = [{"method": "kd", "temperature": t, "accuracy": a, "rate": r}
             for t, a, r in ((1.0, 0.9, 0.3), (2.0, 0.95, 0.4), (4.0, 0.95, 0.35))]
    assert choose_from_sweep(temps, "temperature")["value"] == 4.0  # tie on accuracy: lower rate
    with pytest.raises(ValueError, match="plain rows"):
        choose_from_sweep(rows[2:], "act_lambda")
    with pytest.raises(ValueError, match="no row carries"):
        choose_from_sweep(rows, "logits_lambda")
