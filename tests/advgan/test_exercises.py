import pytest
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


# ---- ch09.hinge: batch mean of max(0, ||delta||_2 - c), the norm over each example's pixels


def _norms(perturbation):
    return perturbation.flatten(1).norm(dim=1)


def no_hinge(perturbation, c):  # ||delta|| - c, negative below the budget
    return (_norms(perturbation) - c).mean()


def squared_norm(perturbation, c):
    return (_norms(perturbation) ** 2 - c).clamp(min=0).mean()


def hinge_of_the_mean_norm(perturbation, c):  # max(0, mean ||delta|| - c): the hinge after the mean
    return (_norms(perturbation).mean() - c).clamp(min=0)


def norm_of_the_batch(perturbation, c):  # one norm over the whole batch
    return (perturbation.norm() - c).clamp(min=0)


def summed_over_the_batch(perturbation, c):
    return (_norms(perturbation) - c).clamp(min=0).sum()


# ---- ch09.cw_loss: batch mean of max(Z_y - max_{j != y} Z_j + kappa, 0)


def _true_and_other(logits, y):
    true = logits.gather(1, y[:, None]).squeeze(1)
    return true, logits.scatter(1, y[:, None], float("-inf")).amax(1)


def max_over_all_classes(logits, y, kappa):  # max_j Z_j includes the true class
    true = logits.gather(1, y[:, None]).squeeze(1)
    return (true - logits.amax(1) + kappa).clamp(min=0).mean()


def no_clamp(logits, y, kappa):
    true, other = _true_and_other(logits, y)
    return (true - other + kappa).mean()


def targeted_sign(logits, y, kappa):  # max_{j != y} Z_j - Z_y + kappa
    true, other = _true_and_other(logits, y)
    return (other - true + kappa).clamp(min=0).mean()


def kappa_subtracted(logits, y, kappa):
    true, other = _true_and_other(logits, y)
    return (true - other - kappa).clamp(min=0).mean()


def summed_not_mean(logits, y, kappa):
    true, other = _true_and_other(logits, y)
    return (true - other + kappa).clamp(min=0).sum()


# ---- ch09.fgsm: clip(x + eps * sign(grad_x CE), 0, 1)


def _grad(model, x, y):
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(torch.nn.functional.cross_entropy(model(x), y), x)
    return grad


def fgsm_unclipped(model, x, y, eps):
    return x + eps * _grad(model, x, y).sign()


def fgsm_descends(model, x, y, eps):  # x - eps * sign: lowers the loss
    return (x - eps * _grad(model, x, y).sign()).clamp(0, 1)


def raw_gradient_step(model, x, y, eps):  # forgets the sign
    return (x + eps * _grad(model, x, y)).clamp(0, 1)


def predicted_labels(model, x, y, eps):  # the gradient for the model's own prediction, not y
    with torch.no_grad():
        guess = model(x).argmax(1)
    return (x + eps * _grad(model, x, guess).sign()).clamp(0, 1)


# ---- ch09.pgd: steps of alpha * sign, each projected onto the eps-ball around x and [0, 1]


def _pgd(model, x, y, eps, alpha, steps, *, project=True, clip=True, centre=None, fixed_grad=False):
    x_adv = x.clone()
    grad = _grad(model, x, y)
    for _ in range(steps):
        if not fixed_grad:
            grad = _grad(model, x_adv, y)
        around = x if centre is None else x_adv
        x_adv = x_adv + alpha * grad.sign()
        if project:
            x_adv = torch.min(torch.max(x_adv, around - eps), around + eps)
        if clip:
            x_adv = x_adv.clamp(0, 1)
    return x_adv


def no_projection(model, x, y, eps, alpha, steps):  # never back into the eps-ball
    return _pgd(model, x, y, eps, alpha, steps, project=False)


def pgd_unclipped(model, x, y, eps, alpha, steps):
    return _pgd(model, x, y, eps, alpha, steps, clip=False)


def ball_around_the_last_iterate(model, x, y, eps, alpha, steps):  # projects around x_t, not x
    return _pgd(model, x, y, eps, alpha, steps, centre="last")


def gradient_computed_once(model, x, y, eps, alpha, steps):  # reuses the gradient at x
    return _pgd(model, x, y, eps, alpha, steps, fixed_grad=True)


def one_step_too_few(model, x, y, eps, alpha, steps):
    return _pgd(model, x, y, eps, alpha, steps - 1)


MUTANTS = {
    "ch09.hinge": [no_hinge, squared_norm, hinge_of_the_mean_norm, norm_of_the_batch, summed_over_the_batch],
    "ch09.cw_loss": [max_over_all_classes, no_clamp, targeted_sign, kappa_subtracted, summed_not_mean],
    "ch09.fgsm": [fgsm_unclipped, fgsm_descends, raw_gradient_step, predicted_labels],
    "ch09.pgd": [no_projection, pgd_unclipped, ball_around_the_last_iterate, gradient_computed_once, one_step_too_few],
}


def test_check_rejects_a_plausible_wrong_answer(mutant, check_rejects):
    check_rejects(*mutant)
