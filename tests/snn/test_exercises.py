"""Chapter 1's checks accept the references and reject the mistakes a student makes."""

import pytest

from companion import exercises
from companion.snn import exercises as ex

# ---- ch01.logits_reg: mean over batch and classes of |z|^p


def sum_not_mean(logits, p=2):
    return (logits.abs() ** p).sum()


def sum_over_classes(logits, p=2):  # mean over the batch of the per-example sum
    return (logits.abs() ** p).sum(1).mean()


def without_abs(logits, p=2):  # z^p: the same as |z|^2 for p = 2, negative for p = 1
    return (logits ** p).mean()


def always_squared(logits, p=2):  # ignores p
    return (logits ** 2).mean()


# ---- ch01.layer_rates: spikes per neuron per time step of each layer


def spikes_per_sample(spikes):
    return {name: float(s.sum()) / s.shape[1] for name, s in spikes.items()}


def spikes_per_neuron(spikes):  # sums over time instead of averaging: T times the rate
    return {name: float(s.sum(0).mean()) for name, s in spikes.items()}


def pooled_over_layers(spikes):  # one rate over all layers, given to each
    rate = sum(float(s.sum()) for s in spikes.values()) / sum(s.numel() for s in spikes.values())
    return {name: rate for name in spikes}


def first_example_only(spikes):  # forgets the batch axis: reads s[:, 0]
    return {name: float(s[:, 0].mean()) for name, s in spikes.items()}


# ---- ch01.choose_temperature: lowest rate among rows within the tolerance


def _within(rows, plain_accuracy, tolerance):
    return [r for r in rows if r["accuracy"] >= plain_accuracy - tolerance - 1e-12]


def highest_accuracy(rows, plain_accuracy, tolerance=0.01):
    return float(max(_within(rows, plain_accuracy, tolerance), key=lambda r: r["accuracy"])["temperature"])


def no_tolerance(rows, plain_accuracy, tolerance=0.01):  # needs the plain accuracy itself
    ok = [r for r in rows if r["accuracy"] >= plain_accuracy] or rows[:1]
    return float(min(ok, key=lambda r: r["rate"])["temperature"])


def strictly_within(rows, plain_accuracy, tolerance=0.01):  # > instead of >=: the boundary is excluded
    ok = [r for r in rows if r["accuracy"] > plain_accuracy - tolerance] or rows[:1]
    return float(min(ok, key=lambda r: r["rate"])["temperature"])


def relative_tolerance(rows, plain_accuracy, tolerance=0.01):  # accuracy >= plain * (1 - tolerance)
    ok = [r for r in rows if r["accuracy"] >= plain_accuracy * (1 - tolerance)] or rows[:1]
    return float(min(ok, key=lambda r: r["rate"])["temperature"])


def lowest_temperature(rows, plain_accuracy, tolerance=0.01):
    return float(min(_within(rows, plain_accuracy, tolerance), key=lambda r: r["temperature"])["temperature"])


MUTANTS = {
    "ch01.logits_reg": [sum_not_mean, sum_over_classes, without_abs, always_squared],
    "ch01.layer_rates": [spikes_per_sample, spikes_per_neuron, pooled_over_layers, first_example_only],
    "ch01.choose_temperature": [highest_accuracy, no_tolerance, strictly_within, relative_tolerance,
                                lowest_temperature],
}


@pytest.mark.parametrize("key, fn", [("ch01.logits_reg", ex.logits_regularization),
                                     ("ch01.layer_rates", ex.layer_rates),
                                     ("ch01.choose_temperature", ex.choose_temperature)])
def test_reference_passes_its_own_check(key, fn):
    assert exercises.evaluate(key, fn).passed


def test_check_rejects_a_plausible_wrong_answer(mutant, check_rejects):
    check_rejects(*mutant)
