import json

import numpy as np
import pytest
import torch

from companion.snn import LossConfig, evaluate_student, load_split, predict_logits, train_student, train_teacher
from companion.snn.__main__ import main
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


def test_cli_end_to_end(tmp_path):
    out = tmp_path / "r.json"
    rows = main(["--data", "digits", "--loss", "plain,kd+logits", "--seeds", "0", "1", "--epochs", "2",
                 "--teacher-epochs", "1", "--n-train", "200", "--n-test", "100", "--out", str(out)])
    payload = json.loads(out.read_text())
    assert payload["seeds"] == [0, 1] and len(rows) == 6
    names = {r["loss"] for r in payload["summary"]}
    assert names == {"plain", "kd+logits"}
    plain = next(r for r in payload["summary"] if r["loss"] == "plain")
    assert plain["activity_change_pct"] == 0.0
    rows = main(["--data", "digits", "--sweep", "act", "--values", "0.1", "1", "--seeds", "0", "--epochs", "2",
                 "--teacher-epochs", "1", "--n-train", "200", "--n-test", "100", "--out", str(tmp_path / "s.json")])
    assert [r.get("act_lambda") for r in rows[1:]] == [0.1, 1.0]


def test_choose_temperature_reference():
    rows = [{"temperature": 1.0, "accuracy": 0.9, "rate": 0.3}, {"temperature": 4.0, "accuracy": 0.85, "rate": 0.1}]
    assert choose_temperature(rows, 0.9) == 1.0
    assert choose_temperature(rows, 0.9, tolerance=0.06) == 4.0
