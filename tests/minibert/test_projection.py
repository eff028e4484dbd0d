import pytest
import torch

from companion.minibert import (SharedProjections, build_student, init_student_from_teacher, layer_map,
                                pca_projection, project_down, project_up, projection_loss, shared_projection_loss,
                                student_config)


def _orthonormal(d_t, d_s, seed=0):
    return torch.linalg.qr(torch.randn(d_t, d_s, generator=torch.Generator().manual_seed(seed)))[0]


@pytest.mark.parametrize("direction", ["up", "down"])
def test_loss_is_zero_for_identical_projected_states(direction):
    u = _orthonormal(12, 4)
    student = torch.randn(3, 5, 4)
    teacher = project_up(student, [None, None, u])
    assert projection_loss(student, teacher, [None, None, u], direction).item() < 1e-10
    assert projection_loss(student + 0.1, teacher, [None, None, u], direction).item() > 1e-4


def test_up_and_down_shapes_and_round_trip():
    u, v = _orthonormal(10, 3), _orthonormal(20, 5, seed=1)
    w = torch.randn(5, 3)  # (intermediate, hidden) in the student
    up = project_up(w, [v, u])
    assert up.shape == (20, 10)
    assert torch.allclose(project_down(up, [v, u]), w, atol=1e-5)  # U^T U = I
    with pytest.raises(ValueError, match="axis"):
        project_up(w, [u, u])


def test_up_loss_matches_the_formula():
    u = _orthonormal(8, 3)
    ws, wt = torch.randn(3, 3), torch.randn(8, 8)
    want = (u @ ws @ u.T - wt).pow(2).mean()
    assert torch.allclose(projection_loss(ws, wt, [u, u], "up"), want)
    with pytest.raises(ValueError, match="direction"):
        projection_loss(ws, wt, [u, u], "sideways")


def test_init_from_teacher_zeroes_the_down_loss():
    teacher = build_student(student_config(50, 48, 4, heads=2, intermediate=96)).bert
    student = build_student(student_config(30, 16, 2, heads=2, intermediate=32))
    proj = SharedProjections.from_teacher(teacher, 16, 32)
    before = shared_projection_loss(student.bert, teacher, proj, "down").item()
    init_student_from_teacher(student.bert, teacher, proj)
    after = shared_projection_loss(student.bert, teacher, proj, "down").item()
    assert before > 1e-4 and after < 1e-10
    # the intermediate projection is a 0/1 selection (one 1 per column)
    assert torch.equal(proj.intermediate.sum(0), torch.ones(32))
    # gradients reach the student and the projections
    shared_projection_loss(student.bert, teacher, proj, "up", relative=True).backward()
    assert proj.hidden.grad is not None and student.bert.encoder.layer[0].attention.self.query.weight.grad is not None


def test_layer_map_and_pca():
    assert layer_map(6, 6) == list(range(6))
    assert layer_map(3, 6) == [1, 3, 5]
    assert layer_map(2, 6)[-1] == 5
    x = torch.randn(100, 10, generator=torch.Generator().manual_seed(0)) @ torch.diag(torch.arange(10, 0, -1).float() ** 2)
    u = pca_projection(x, 3)
    assert u.shape == (10, 3) and torch.allclose(u.T @ u, torch.eye(3), atol=1e-5)
    assert set(u.abs().argmax(0).tolist()) == {0, 1, 2}  # the three widest axes
    with pytest.raises(ValueError, match="k must"):
        pca_projection(x, 11)


def test_project_layer_norm_selects_axes_exactly():
    from companion.minibert import project_layer_norm

    teacher_ln, student_ln = torch.nn.LayerNorm(6), torch.nn.LayerNorm(3)
    with torch.no_grad():
        teacher_ln.weight.copy_(torch.arange(1.0, 7.0))
        teacher_ln.bias.copy_(-torch.arange(1.0, 7.0))
    u = torch.eye(6)[:, [0, 2, 5]]  # a selection of three axes
    project_layer_norm(student_ln, teacher_ln, u)
    assert torch.equal(student_ln.weight, torch.tensor([1.0, 3.0, 6.0]))
    assert torch.equal(student_ln.bias, torch.tensor([-1.0, -3.0, -6.0]))


def test_mixed_student_body_is_projected_teacher_or_bert_random_init():
    from transformers import BertConfig, BertModel

    from companion.minibert import build_mixed_student, student_config
    from companion.minibert.projection import calibrate_head_scale, project_down

    torch.manual_seed(0)  # a small random teacher with the student's 128 positions
    teacher = BertModel(BertConfig(vocab_size=50, hidden_size=24, num_hidden_layers=2, num_attention_heads=2,
                                   intermediate_size=48, max_position_embeddings=128)).eval()
    conf = student_config(30, 8, 1)
    args = (conf, teacher, torch.randn(30, 24), torch.nn.Linear(24, 24), torch.nn.LayerNorm(24), torch.zeros(30))
    projected, proj, _ = build_mixed_student(*args, seed=0)
    random_body, _, _ = build_mixed_student(*args, seed=0, body=False)
    s_q = projected.bert.encoder.layer[0].attention.self.query.weight
    t_q = teacher.encoder.layer[1].attention.self.query.weight  # one student layer: aligned with the last
    assert torch.allclose(s_q, project_down(t_q, [proj.hidden, proj.hidden]))
    torch.manual_seed(0)
    fresh = build_student(conf)  # BERT's initialisation with the same seed
    assert torch.equal(random_body.bert.encoder.layer[0].attention.self.query.weight,
                       fresh.bert.encoder.layer[0].attention.self.query.weight)
    # a zero scale would zero the head's LayerNorm gain, and with it every gradient to the body
    with pytest.raises(ValueError, match="positive scales"):
        calibrate_head_scale(random_body, [], scales=(0.0, 1.0))
