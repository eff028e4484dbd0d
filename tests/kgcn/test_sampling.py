import numpy as np
import pytest
import torch

from companion.kgcn import build_adjacency, receptive_field


def _kg():
    # entity 0..3 are items; 4, 5, 6 attributes; entity 7 has no edge
    return np.array([[0, 0, 4], [1, 0, 4], [2, 1, 5], [0, 1, 5], [3, 2, 6], [0, 2, 6], [1, 1, 5]])


def test_sampled_neighbourhoods_have_fixed_size_and_only_real_neighbours():
    kg = _kg()
    adj_e, adj_r = build_adjacency(kg, 8, neighbor_sample_size=4, seed=0)
    assert adj_e.shape == adj_r.shape == (8, 4)
    true = {}
    for h, r, t in kg:
        true.setdefault(h, set()).add((t, r))
        true.setdefault(t, set()).add((h, r))
    for e in range(7):
        for n, r in zip(adj_e[e].tolist(), adj_r[e].tolist()):
            assert (n, r) in true[e], f"entity {e} got a non-neighbour {n} via relation {r}"
    # entity 0 has 3 distinct neighbours < 4: sampled with replacement, all of them real
    assert set(adj_e[0].tolist()) <= {4, 5, 6}
    # an isolated entity points to itself
    assert adj_e[7].tolist() == [7] * 4


def test_enough_neighbours_are_sampled_without_replacement():
    kg = np.array([[0, 0, t] for t in range(1, 11)])
    adj_e, _ = build_adjacency(kg, 11, neighbor_sample_size=5, seed=3)
    assert len(set(adj_e[0].tolist())) == 5


def test_receptive_field_shapes():
    adj_e, adj_r = build_adjacency(_kg(), 8, neighbor_sample_size=3, seed=0)
    ents, rels = receptive_field(torch.tensor([0, 1]), adj_e, adj_r, n_iter=2)
    assert [tuple(e.shape) for e in ents] == [(2, 1), (2, 3), (2, 9)]
    assert [tuple(r.shape) for r in rels] == [(2, 3), (2, 9)]
    # hop-2 entities are the neighbours of hop-1 entities, block by block
    assert torch.equal(ents[2][0, 3:6], adj_e[ents[1][0, 1]])


def test_sampling_errors():
    with pytest.raises(ValueError, match="neighbor_sample_size"):
        build_adjacency(_kg(), 8, 0)
    with pytest.raises(ValueError, match=r"shape \(T, 3\)"):
        build_adjacency(np.zeros((3, 2), dtype=int), 8, 2)
    with pytest.raises(ValueError, match="entity ids"):
        build_adjacency(_kg(), 5, 2)
    adj_e, adj_r = build_adjacency(_kg(), 8, 2)
    with pytest.raises(ValueError, match="n_iter"):
        receptive_field(torch.tensor([0]), adj_e, adj_r, 0)
