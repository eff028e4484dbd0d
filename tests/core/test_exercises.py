"""The checker never crashes on a student's answer: every wrong shape, type, length, None, NaN or
exception becomes one sentence naming the key, the case, the part and expected vs received."""

import numpy as np
import pytest
import torch

from companion import exercises
from companion.diffpool import exercises as dp
from companion.lds import exercises as lds


def verdict(key, fn):
    v = exercises.evaluate(key, fn)
    assert not v.passed and v.message.startswith(f"✗ {key}: case ")
    return v.message


def test_reference_passes_and_check_prints(capsys):
    assert exercises.check("ch08.coarsen", dp.coarsen) is True
    assert "✓ ch08.coarsen" in capsys.readouterr().out
    assert exercises.check("ch08.coarsen", lambda z, a, s: None) is False
    assert "✗ ch08.coarsen: case 1 of 3: expected a tuple of 2 parts, got None" in capsys.readouterr().out
    assert exercises.check("ch08.coarsen", lambda z, a, s: None, verbose=False) is False
    assert capsys.readouterr().out == ""


def test_strict_check_raises_the_message(capsys):
    """The student edition's check cells use strict=True: the error names the mismatch."""
    assert exercises.check("ch08.coarsen", dp.coarsen, strict=True) is True
    assert "✓ ch08.coarsen" in capsys.readouterr().out
    with pytest.raises(AssertionError) as err:
        exercises.check("ch08.coarsen", lambda z, a, s: None, strict=True)
    assert str(err.value).startswith("✗ ch08.coarsen: case 1 of 3: expected a tuple of 2 parts, got None")
    assert capsys.readouterr().out == ""  # said once, in the error

    def unwritten(z, a, s):
        raise NotImplementedError("exercise x")

    with pytest.raises(AssertionError, match="not written yet .*NotImplementedError: exercise x"):
        exercises.check("ch08.coarsen", unwritten, strict=True)

    def nbgrader_stub(z, a, s):  # nbgrader's stub raises it without a message
        raise NotImplementedError()

    assert verdict("ch08.coarsen", nbgrader_stub).endswith("nbgrader_stub is not written yet (it raised NotImplementedError)")


def test_pair_with_a_wrongly_shaped_part():
    msg = verdict("ch08.coarsen", lambda z, a, s: (s.transpose(1, 2) @ z, s.transpose(1, 2) @ a))
    assert "part 2 of 2" in msg and "expected a tensor of shape (1, 2, 2)" in msg
    assert "got a tensor of shape (1, 2, 4)" in msg


def test_straight_through_missing_a_gradient_row():
    def short(theta, u, w):
        a, grad = lds.straight_through(theta, u, w)
        return a, grad[:-1]

    msg = verdict("ch07.straight_through", short)
    assert "part 2 of 2" in msg and "shape" in msg


def test_value_mismatch_names_the_part_and_index_inside_it():
    def off(theta, u, w):
        a, grad = lds.straight_through(theta, u, w)
        grad = grad.clone()
        grad[0, 1] += 1
        return a, grad

    msg = verdict("ch07.straight_through", off)
    assert "part 2 of 2: at index [0, 1] of shape (3, 3)" in msg and "result[1" not in msg


@pytest.mark.parametrize("answer, expected", [
    ("a string", "got a string ('a string')"),
    ({"x": 1}, "got a dict with keys ['x']"),
    (None, "got None"),
    (3.0, "got a float (3)"),
])
def test_wrong_types(answer, expected):
    msg = verdict("ch08.coarsen", lambda z, a, s: answer)
    assert "expected a tuple of 2 parts" in msg and expected in msg


def test_tuples_of_wrong_length():
    assert "expected a tuple of 2 parts, got a tuple of 1" in verdict("ch08.coarsen", lambda z, a, s: (z,))
    three = verdict("ch08.coarsen", lambda z, a, s: (*dp.coarsen(z, a, s), z))
    assert "got a tuple of 3" in three


def test_tensor_expected_scalar_and_nan():
    msg = verdict("ch08.aux_losses", lambda z, a, s: (torch.tensor(float("nan")), torch.tensor(0.0)))
    assert "part 1 of 2" in msg and "got nan" in msg
    msg = verdict("ch00.normalize", lambda e, n: torch.full((n, n), float("nan")))
    assert "at index [0, 0]" in msg and "got nan" in msg and f"{16} of 16 entries differ" in msg


def test_exceptions_and_unwritten_functions():
    msg = verdict("ch00.normalize", lambda e, n: 1 / 0)
    assert "raised ZeroDivisionError" in msg and "inputs: a tensor of shape (2," in msg

    def my_normalize(edge_index, num_nodes):
        raise NotImplementedError("exercise gs_ex1")

    msg = verdict("ch00.normalize", my_normalize)
    assert "my_normalize is not written yet" in msg and "exercise gs_ex1" in msg

    def quits(edge_index, num_nodes):
        raise SystemExit(1)

    assert "raised SystemExit" in verdict("ch00.normalize", quits)


def test_dict_results_name_the_key():
    from companion.alinet import exercises as al

    def no_mrr(sim):
        out = dict(al.hits_mrr(sim))
        out.pop("mrr")
        return out

    assert "missing ['mrr']" in verdict("ch04.hits_mrr", no_mrr)

    def bad_mrr(sim):
        return {**al.hits_mrr(sim), "mrr": -1.0}

    assert "key 'mrr': expected" in verdict("ch04.hits_mrr", bad_mrr)


def test_numpy_answer_for_torch_reference_and_plain_sequences():
    assert exercises.evaluate("ch08.coarsen", lambda z, a, s: tuple(x.numpy() for x in dp.coarsen(z, a, s))).passed
    # a tuple of plain numbers is one value: the length shows as a shape
    def drop_last(coalition, node, edges):
        return tuple(exercises._lookup("ch03.prune").reference(coalition, node, edges))[:-1]

    assert "shape" in verdict("ch03.prune", drop_last)


def test_misuse_raises_value_error():
    with pytest.raises(ValueError, match="unknown exercise"):
        exercises.check("ch08.nothing", dp.coarsen)
    with pytest.raises(ValueError, match="chapter"):
        exercises.check("nochapter", dp.coarsen)
    with pytest.raises(ValueError, match=r"without calling it\), got None"):
        exercises.check("ch08.coarsen", None)
    assert "ch08.coarsen" in exercises.keys("ch08")


def test_unusual_objects_do_not_crash():
    class Weird:
        def __repr__(self):
            raise RuntimeError("no repr")

        def __eq__(self, other):
            raise RuntimeError("no eq")

    assert "an object of type Weird" in verdict("ch08.coarsen", lambda z, a, s: (Weird(), Weird()))
    assert "got a list of 3 items" in verdict("ch00.normalize", lambda e, n: [np.zeros(2), np.zeros(3), 1])


def test_ragged_tuple_is_compared_part_by_part():
    from companion.distgnn import exercises as dg

    assert exercises.evaluate("ch02.edge_cut_halo", dg.edge_cut_and_halo).passed
    msg = verdict("ch02.edge_cut_halo", lambda e, p, n: (dg.edge_cut_and_halo(e, p, n)[0], [0] * n))
    assert "part 2 of 2: at index [0]" in msg
