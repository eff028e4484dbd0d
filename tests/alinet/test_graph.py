import pytest
import torch

from companion.alinet import check_pairs, gcn_adjacency, joint_edges, two_hop_edges
from companion.data.kg_pair import KGPair


def _undirected(pairs):
    e = torch.tensor(pairs).T
    return torch.cat([e, e.flip(0)], 1)


def test_two_hop_excludes_self_and_one_hop():
    # path 0-1-2-3 plus triangle 1-2-4: distant pairs are (0,2), (0,4), (1,3), (3,4)
    edges = _undirected([(0, 1), (1, 2), (2, 3), (1, 4), (2, 4)])
    e2 = two_hop_edges(edges, 5)
    got = {(int(a), int(b)) for a, b in e2.T}
    want = {(0, 2), (2, 0), (0, 4), (4, 0), (1, 3), (3, 1), (3, 4), (4, 3)}
    assert got == want
    one = {(int(a), int(b)) for a, b in edges.T}
    assert not got & one and all(a != b for a, b in got)


def test_two_hop_cap_per_node():
    star = _undirected([(0, i) for i in range(1, 11)])  # leaves are all distant to each other
    e2 = two_hop_edges(star, 11, max_per_node=3, seed=1)
    counts = torch.bincount(e2[0], minlength=11)
    assert counts[0] == 0 and (counts[1:] == 3).all()


def test_gcn_adjacency_symmetric_and_hand_value():
    a = gcn_adjacency(_undirected([(0, 1)]), 3).to_dense()
    assert torch.allclose(a, a.T)
    assert a[0, 1] == pytest.approx(0.5) and a[2, 2] == pytest.approx(1.0)


def test_enhance_copies_seed_edges():
    t1 = torch.tensor([[0, 0, 1]])
    t2 = torch.tensor([[0, 0, 2]])
    pair = KGPair(t1, t2, 3, 3, 1, 1, seed_pairs=torch.tensor([[0, 0], [1, 1]]), test_pairs=torch.tensor([[2, 2]]))
    plain = {tuple(e) for e in joint_edges(pair, enhance=False).T.tolist()}
    rich = {tuple(e) for e in joint_edges(pair, enhance=True).T.tolist()}
    assert (3, 4) not in plain and (3, 4) in rich and (0, 1) in rich


def test_seed_pairs_naming_unknown_entities_raise():
    with pytest.raises(ValueError, match="unknown to KG2"):
        check_pairs(torch.tensor([[0, 0], [1, 7]]), 3, 5, "seed_pairs")
    with pytest.raises(ValueError, match="unknown to KG1"):
        check_pairs(torch.tensor([[-1, 0]]), 3, 5)
    with pytest.raises(ValueError, match="shape"):
        check_pairs(torch.tensor([0, 1, 2]), 3, 5)
    with pytest.raises(ValueError, match="edge_index"):
        two_hop_edges(torch.zeros(3, 4, dtype=torch.long), 4)


def test_gcn_align_adjacency_functionality_weights_by_hand():
    from companion.alinet import gcn_align_adjacency
    # relation 0: 0->1, 0->2 (one head, two tails): fun = 1/2, ifun = 1; relation 1: 3->2 (fun = ifun = 1)
    triples = torch.tensor([[0, 0, 1], [0, 0, 2], [3, 1, 2], [1, 1, 1]])  # the self-loop is skipped
    a = gcn_align_adjacency(triples, 4).to_dense()
    deg = torch.tensor([3.0, 2.0, 3.0, 2.0])  # 1 + triples at the node
    assert a[1, 0] == pytest.approx(1.0 / (deg[1] * deg[0]).sqrt())  # tail row reads the head with ifun^(1/4) = 1
    assert a[0, 1] == pytest.approx(0.5 ** 0.25 / (deg[0] * deg[1]).sqrt())  # head row reads the tail with fun^(1/4)
    assert a[2, 2] == pytest.approx(1.0 / 3.0) and a[1, 3] == 0
    with pytest.raises(ValueError, match="triples"):
        gcn_align_adjacency(torch.zeros(3, 2, dtype=torch.long), 4)


def test_joint_edges_with_explicit_links():
    t1 = torch.tensor([[0, 0, 1]])
    t2 = torch.tensor([[0, 0, 2]])
    pair = KGPair(t1, t2, 3, 3, 1, 1, seed_pairs=torch.tensor([[0, 0]]), test_pairs=torch.tensor([[2, 2]]))
    assert (3, 4) not in {tuple(e) for e in joint_edges(pair).T.tolist()}
    linked = {tuple(e) for e in joint_edges(pair, seeds=torch.tensor([[0, 0], [1, 1]])).T.tolist()}
    assert (3, 4) in linked and (1, 2 + 3) not in linked
