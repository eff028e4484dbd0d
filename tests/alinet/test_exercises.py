import pytest
import torch

from companion import exercises


def test_references_pass_and_a_wrong_answer_fails():
    from companion.alinet import exercises as ex

    assert exercises.check("ch04.hits_mrr", ex.hits_mrr, verbose=False)
    assert exercises.check("ch04.two_hop", ex.two_hop_dense, verbose=False)
    assert exercises.check("ch04.gate", ex.gate, verbose=False)

    def two_hop_with_one_hop(edge_index, n):  # forgets to remove one-hop neighbours
        a = torch.zeros(n, n)
        a[edge_index[0], edge_index[1]] = 1
        out = ((a @ a) > 0).float()
        out.fill_diagonal_(0)
        return out

    assert not exercises.check("ch04.two_hop", two_hop_with_one_hop, verbose=False)


# ---- ch04.two_hop: reachable in two steps, not in one, not the node itself


def _adjacency(edge_index, n):
    a = torch.zeros(n, n)
    a[edge_index[0], edge_index[1]] = 1.0
    return torch.maximum(a, a.T)


def keeps_the_node_itself(edge_index, num_nodes):  # forgets the diagonal: i -> j -> i
    a = _adjacency(edge_index, num_nodes)
    return (((a @ a) > 0) & (a == 0)).float()


def path_counts(edge_index, num_nodes):  # the number of two-step paths, not 0/1
    a = _adjacency(edge_index, num_nodes)
    out = (a @ a) * (a == 0)
    out.fill_diagonal_(0)
    return out


def subtracts_one_hop(edge_index, num_nodes):  # A^2 - A > 0: a neighbour with two common neighbours stays
    a = _adjacency(edge_index, num_nodes)
    out = ((a @ a - a) > 0).float()
    out.fill_diagonal_(0)
    return out


def one_hop(edge_index, num_nodes):  # the direct neighbours
    return _adjacency(edge_index, num_nodes)


# ---- ch04.gate: tanh(g * h2 + (1 - g) * h1), g = relu(tanh(h2 K + b))


def gate_from_h1(h1, h2, kernel, bias):
    g = torch.relu(torch.tanh(h1 @ kernel + bias))
    return torch.tanh(g * h2 + (1 - g) * h1)


def roles_swapped(h1, h2, kernel, bias):  # g weighs h1 instead of h2
    g = torch.relu(torch.tanh(h2 @ kernel + bias))
    return torch.tanh(g * h1 + (1 - g) * h2)


def sigmoid_gate(h1, h2, kernel, bias):  # the usual highway gate, not AliNet's relu(tanh(.))
    g = torch.sigmoid(h2 @ kernel + bias)
    return torch.tanh(g * h2 + (1 - g) * h1)


def no_outer_tanh(h1, h2, kernel, bias):
    g = torch.relu(torch.tanh(h2 @ kernel + bias))
    return g * h2 + (1 - g) * h1


def kernel_transposed(h1, h2, kernel, bias):  # K h2 instead of h2 K
    g = torch.relu(torch.tanh(h2 @ kernel.T + bias))
    return torch.tanh(g * h2 + (1 - g) * h1)


# ---- ch04.hits_mrr: a tie counts in the match's favour

def _hits_mrr(rank):
    rank = rank.float()
    return {"hits@1": (rank <= 1).float().mean().item(), "hits@10": (rank <= 10).float().mean().item(),
            "mrr": (1 / rank).mean().item()}


def pessimistic_ties(sim):  # a tie counts against the match: rank = number of scores >= its own
    return _hits_mrr((sim >= sim.diagonal()[:, None]).sum(1))


def optimistic_ties(sim):  # a tie counts for the match: a collapsed model would score perfectly
    return _hits_mrr(1 + (sim > sim.diagonal()[:, None]).sum(1))


def zero_based_rank(sim):  # rank from 0: one better than it should be everywhere
    return _hits_mrr((sim > sim.diagonal()[:, None]).sum(1).clamp_min(1))


def ranks_columns(sim):  # ranks the match among its column instead of its row
    from companion.alinet.metrics import ranking_metrics
    return ranking_metrics(sim.t()[:, : sim.shape[0]].contiguous())


MUTANTS = {
    "ch04.hits_mrr": [pessimistic_ties, optimistic_ties, zero_based_rank, ranks_columns],
    "ch04.two_hop": [keeps_the_node_itself, path_counts, subtracts_one_hop, one_hop],
    "ch04.gate": [gate_from_h1, roles_swapped, sigmoid_gate, no_outer_tanh, kernel_transposed],
}


def test_check_rejects_a_plausible_wrong_answer(mutant, check_rejects):
    check_rejects(*mutant)
