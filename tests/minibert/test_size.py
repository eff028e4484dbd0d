import pytest

from companion.minibert import bert_parameter_count, build_student, count_parameters, size_report, student_config


@pytest.mark.parametrize("vocab,hidden,layers", [(4000, 128, 6), (1000, 64, 2), (500, 32, 1)])
def test_student_config_parameter_count_matches_reporter(vocab, hidden, layers):
    config = student_config(vocab, hidden, layers)
    model = build_student(config)
    report = size_report(model, reference_parameters=22_713_216)
    assert report["parameters"] == count_parameters(model) == bert_parameter_count(config)
    assert report["embedding_parameters"] == vocab * hidden
    # float32 safetensors: 4 bytes a parameter plus a JSON header of a few kB (one entry per tensor)
    assert 0 < report["disk_mb"] - report["memory_mb"] < 0.05
    assert report["compression"] == pytest.approx(22_713_216 / report["parameters"])


def test_formula_gives_the_teacher_count(no_network):
    from companion import data

    bert = data.load("minilm")["model"]
    assert count_parameters(bert) == 22_713_216
    assert bert_parameter_count(bert.config, mlm_head=False, pooler=True) == 22_713_216


def test_student_config_validates():
    with pytest.raises(ValueError, match="divisible"):
        student_config(100, 100, 2, heads=3)
    with pytest.raises(ValueError, match="layers"):
        student_config(100, 64, 0)
    assert student_config(4000, 128).num_attention_heads == 4  # head width 32, as in the teacher
