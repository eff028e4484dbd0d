import pytest

from companion import exercises
from companion.distgnn import exercises as ex


@pytest.mark.parametrize("key,fn", [("ch02.edge_cut_halo", ex.edge_cut_and_halo), ("ch02.cache_policy", ex.cache_policy),
                                    ("ch02.halo_bytes", ex.halo_bytes_per_layer)])
def test_reference_solutions_pass(key, fn):
    assert exercises.check(key, fn, verbose=False)


def test_a_wrong_answer_fails():
    assert not exercises.check("ch02.halo_bytes", lambda ei, parts, p, dim: 0, verbose=False)
