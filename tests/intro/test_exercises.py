"""The Getting-started check accepts the reference and rejects the mistakes a student makes."""

import pytest
import torch

from companion import exercises
from companion.intro import exercises as ex


def _dense(edge_index, n):
    a = torch.zeros(n, n)
    a[edge_index[0], edge_index[1]] = 1.0
    return a


def no_self_loops(edge_index, num_nodes):  # D^-1/2 A D^-1/2: skips the + I
    a = torch.maximum(_dense(edge_index, num_nodes), _dense(edge_index, num_nodes).T)
    d = a.sum(1).clamp(min=1) ** -0.5
    return d[:, None] * a * d[None, :]


def not_symmetrised(edge_index, num_nodes):  # keeps the edges as directed
    a = _dense(edge_index, num_nodes)
    a.fill_diagonal_(1)
    d = a.sum(1) ** -0.5
    return d[:, None] * a * d[None, :]


def row_normalised(edge_index, num_nodes):  # D^-1 (A + I): the random-walk normalisation
    a = _dense(edge_index, num_nodes)
    a = torch.maximum(a, a.T)
    a.fill_diagonal_(1)
    return a / a.sum(1, keepdim=True)


def reciprocal_edges_counted_twice(edge_index, num_nodes):  # A + A^T without clipping to 0/1
    a = _dense(edge_index, num_nodes)
    a = a + a.T
    a.fill_diagonal_(1)
    d = a.sum(1) ** -0.5
    return d[:, None] * a * d[None, :]


def degree_without_the_self_loop(edge_index, num_nodes):  # D from A, the matrix A + I
    a = _dense(edge_index, num_nodes)
    a = torch.maximum(a, a.T)
    d = a.sum(1).clamp(min=1) ** -0.5
    a.fill_diagonal_(1)
    return d[:, None] * a * d[None, :]


MUTANTS = {"ch00.normalize": [no_self_loops, not_symmetrised, row_normalised, reciprocal_edges_counted_twice,
                              degree_without_the_self_loop]}


def test_reference_passes_its_own_check():
    assert exercises.evaluate("ch00.normalize", ex.normalize).passed


def test_check_rejects_a_plausible_wrong_answer(mutant, check_rejects):
    check_rejects(*mutant)
