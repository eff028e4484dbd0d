import subprocess
import sys

import numpy as np
import pytest
import torch

from companion import data
from companion.diffpool import DiffPoolNet, cluster_sizes, det_clusters, hard_assignment, metis_clusters, to_dense
from companion.utils import REPO_ROOT, torch_threads

pytest.importorskip("pymetis")


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def dense():
    return to_dense(data.load("hier_graphs", num_graphs=12, seed=2))


def two_cliques(k: int = 5) -> np.ndarray:
    """Two k-cliques joined by one edge (nodes 0..k-1 and k..2k-1)."""
    a = np.zeros((2 * k, 2 * k))
    a[:k, :k] = a[k:, k:] = 1
    np.fill_diagonal(a, 0)
    a[k - 1, k] = a[k, k - 1] = 1
    return a


def test_metis_splits_two_cliques_at_their_bridge():
    parts = metis_clusters(two_cliques(), 2)
    assert len(set(parts[:5])) == 1 and len(set(parts[5:])) == 1 and parts[0] != parts[5]


def test_metis_edge_weights_decide_the_cut():
    # a 4-cycle 0-1-2-3-0 whose edges 0-1 and 2-3 are heavy: the cut goes through the light ones
    a = np.zeros((4, 4))
    for u, v, w in ((0, 1, 9), (1, 2, 1), (2, 3, 9), (3, 0, 1)):
        a[u, v] = a[v, u] = w
    parts = metis_clusters(a, 2)
    assert parts[0] == parts[1] and parts[2] == parts[3] and parts[0] != parts[2]


def test_metis_trivial_cases_and_errors():
    assert metis_clusters(two_cliques(), 1).tolist() == [0] * 10
    assert metis_clusters(two_cliques(2), 4).tolist() == [0, 1, 2, 3]  # as many parts as nodes: one each
    with pytest.raises(ValueError, match="num_parts must be >= 1"):
        metis_clusters(two_cliques(), 0)
    with pytest.raises(ValueError, match="square"):
        metis_clusters(np.zeros((2, 3)), 2)
    with pytest.raises(ValueError, match="symmetric"):
        metis_clusters(np.triu(two_cliques()), 2)


def test_det_clusters_are_a_partition_of_every_level(dense):
    sizes = cluster_sizes(dense.max_nodes, 0.25, 2)
    levels = det_clusters(dense, sizes)
    assert [tuple(c.shape) for c in levels] == [(len(dense), dense.max_nodes), (len(dense), sizes[0])]
    c0, c1 = levels
    # level 0: every node in exactly one cluster of [0, C0), padding in none
    assert (c0[~dense.mask] == -1).all() and (c0[dense.mask] >= 0).all() and (c0 < sizes[0]).all()
    for g in range(len(dense)):
        n = int(dense.mask[g].sum())
        used = set(c0[g, :n].tolist())
        assert len(used) <= min(sizes[0], n)  # METIS may leave a part empty on a tiny graph
        # level 1: exactly the non-empty clusters of level 0 are assigned, each to one of [0, C1)
        assigned = {i for i in range(sizes[0]) if c1[g, i] >= 0}
        assert assigned == used and all(0 <= int(c1[g, i]) < sizes[1] for i in assigned)
    # S is a hard partition: one-hot rows on valid nodes
    s = hard_assignment(c0, sizes[0])
    torch.testing.assert_close(s.sum(-1)[dense.mask], torch.ones(int(dense.mask.sum())))


def test_det_clusters_follow_the_planted_communities(dense):
    # with as many parts as communities METIS mostly recovers them: a cheap sanity check that
    # the partition is of the graph, not arbitrary (each community mostly in one cluster)
    pure = []
    for g in range(len(dense)):
        n = int(dense.mask[g].sum())
        k = int(dense.community[g].max()) + 1
        c0 = det_clusters(dense[g:g + 1], [k])[0][0, :n].numpy()
        comm = dense.community[g, :n].numpy()
        pure.append(np.mean([np.bincount(c0[comm == c]).max() / (comm == c).sum() for c in range(k)]))
    assert np.mean(pure) > 0.8


def test_det_clusters_are_deterministic_across_calls_and_processes(dense):
    sizes = cluster_sizes(dense.max_nodes, 0.25, 2)
    a, b = det_clusters(dense, sizes), det_clusters(dense, sizes)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    code = ("from companion import data; from companion.diffpool import to_dense, det_clusters, cluster_sizes;"
            "d = to_dense(data.load('hier_graphs', num_graphs=12, seed=2));"
            "print([c.tolist() for c in det_clusters(d, cluster_sizes(d.max_nodes, 0.25, 2))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                         check=True).stdout.strip()
    assert out == str([c.tolist() for c in a])


def test_det_model_uses_the_fixed_clusters_and_has_no_pooling_gnn(dense):
    torch.manual_seed(0)
    model = DiffPoolNet(dense.x.shape[-1], 4, dense.max_nodes, hidden=8, levels=2, det=True).eval()
    assert len(model.pool) == 0 and len(model.assign) == 0 and model.uses_clusters
    clusters = det_clusters(dense, model.clusters)
    logits, aux = model(dense.x, dense.adj, dense.mask, clusters=clusters)
    assert logits.shape == (len(dense), 4)
    torch.testing.assert_close(aux["assignments"][0], hard_assignment(clusters[0], model.clusters[0]))
    torch.testing.assert_close(aux["assignments"][1], hard_assignment(clusters[1], model.clusters[1]))
    assert aux["link_loss"] == 0 and aux["entropy_loss"] == 0
    with pytest.raises(ValueError, match="DiffPool-DET needs clusters"):
        model(dense.x, dense.adj, dense.mask)
    with pytest.raises(ValueError, match="DiffPool-DET needs clusters"):
        model(dense.x, dense.adj, dense.mask, clusters=clusters[:1])
    with pytest.raises(ValueError, match="exclude each other"):
        DiffPoolNet(6, 4, 30, det=True, oracle_clusters=3)


def test_det_clusters_errors(dense):
    with pytest.raises(ValueError, match="clusters must be"):
        det_clusters(dense, [])
    with pytest.raises(ValueError, match="clusters must be"):
        det_clusters(dense, [3, 0])
