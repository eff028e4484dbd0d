
from companion import exercises
from companion.minibert import exercises as ex


def test_references_pass_and_wrong_answers_fail():
    assert exercises.check("ch05.mixed_tokenize", ex.mixed_tokenize, verbose=False)
    assert exercises.check("ch05.up_projection_loss", ex.up_projection_loss, verbose=False)
    assert exercises.check("ch05.size_mb", ex.size_mb, verbose=False)
    # forgetting the offset, using the down projection, or counting an untied decoder all fail
    assert not exercises.check("ch05.mixed_tokenize", lambda t, s, u, o: [i for w, x, c in zip(t, s, u)
                                                                           for i in (x if c else w)], verbose=False)
    assert not exercises.check("ch05.up_projection_loss", lambda ws, wt, u: (u.T @ wt @ u - ws).pow(2).mean(),
                               verbose=False)
    assert not exercises.check("ch05.size_mb", lambda v, h, l: ex.size_mb(v, h, l) + 4 * v * h / 1e6, verbose=False)
