import pytest

from companion.snn import LossConfig, evaluate_student, load_split, predict_logits, train_student, train_teacher
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
