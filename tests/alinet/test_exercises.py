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
