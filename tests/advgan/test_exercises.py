import torch

from companion import exercises
from companion.advgan import cw_adversarial_loss, hinge_perturbation_loss


def test_references_pass_their_own_checks():
    assert exercises.check("ch09.hinge", hinge_perturbation_loss, verbose=False)
    assert exercises.check("ch09.cw_loss", cw_adversarial_loss, verbose=False)
    from companion.advgan import fgsm, pgd
    assert exercises.check("ch09.fgsm", fgsm, verbose=False)
    assert exercises.check("ch09.pgd", lambda m, x, y, e, alpha, steps: pgd(m, x, y, e, alpha, steps, random_start=False),
                           verbose=False)


def test_a_wrong_answer_fails():
    assert not exercises.check("ch09.hinge", lambda d, c: d.flatten(1).norm(dim=1).mean(), verbose=False)
    assert not exercises.check("ch09.fgsm", lambda m, x, y, e: (x + e).clamp(0, 1), verbose=False)
