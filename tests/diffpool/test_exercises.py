"""Chapter 8's checks accept the references and reject the mistakes a student makes."""

import math

import pytest
import torch

from companion import exercises
from companion.diffpool import exercises as ex

# ---- ch08.coarsen: (S^T Z, S^T A S)


def no_transpose_on_features(z, adj, s):  # Z^T S: features by clusters instead of clusters by features
    st = s.transpose(1, 2)
    return z.transpose(1, 2) @ s, st @ adj @ s


def adjacency_one_side(z, adj, s):  # S^T A: coarsens the rows only
    st = s.transpose(1, 2)
    return st @ z, st @ adj


def adjacency_s_st(z, adj, s):  # S S^T: a node-by-node matrix, not the cluster graph
    st = s.transpose(1, 2)
    return st @ z, s @ st


def features_mean_pooled(z, adj, s):  # each cluster's mean instead of its weighted sum
    st = s.transpose(1, 2)
    return st @ z / st.sum(-1, keepdim=True), st @ adj @ s


def diagonal_dropped(z, adj, s):  # the paper's A' keeps the diagonal (the edges inside a cluster)
    st = s.transpose(1, 2)
    a = st @ adj @ s
    return st @ z, a - torch.diag_embed(torch.diagonal(a, dim1=1, dim2=2))


# ---- ch08.aux_losses: (||A - S S^T||_F over the batch, mean row entropy of S)


def _entropy(s):
    return -(s * torch.log(s + 1e-15)).sum(-1).mean()


def link_normalised(z, adj, s):  # PyG's default divides by numel; the exercise asks for the plain norm
    return torch.norm(adj - s @ s.transpose(1, 2)) / adj.numel(), _entropy(s)


def link_squared(z, adj, s):  # the squared Frobenius norm
    return (adj - s @ s.transpose(1, 2)).pow(2).sum(), _entropy(s)


def entropy_summed(z, adj, s):  # the sum over all rows instead of their mean
    return torch.norm(adj - s @ s.transpose(1, 2)), -(s * torch.log(s + 1e-15)).sum()


def entropy_sign(z, adj, s):  # sum p log p: the negative entropy
    return torch.norm(adj - s @ s.transpose(1, 2)), (s * torch.log(s + 1e-15)).sum(-1).mean()


# ---- ch08.permute: new node i is old node perm[i]: (P X, P A P^T)


def inverse_permutation(x, adj, perm):  # new node perm[i] is old node i: the inverse relabelling
    inv = torch.argsort(perm)
    return x[inv], adj[inv][:, inv]


def rows_only(x, adj, perm):  # P A: the columns keep their old labels
    return x[perm], adj[perm]


def features_not_permuted(x, adj, perm):  # only the graph is relabelled
    return x, adj[perm][:, perm]


# ---- ch08.clusters: ceil(ratio * n), at least 1, n shrinking level by level


def floor_instead_of_ceil(max_nodes, cluster_ratio, levels):  # int(): the authors' code rounds down
    sizes, n = [], max_nodes
    for _ in range(levels):
        n = max(1, int(cluster_ratio * n))
        sizes.append(n)
    return sizes


def ratio_of_the_input_every_level(max_nodes, cluster_ratio, levels):  # n never shrinks
    return [max(1, math.ceil(cluster_ratio * max_nodes))] * levels


def one_level_too_many(max_nodes, cluster_ratio, levels):  # range(levels + 1)
    sizes, n = [], max_nodes
    for _ in range(levels + 1):
        n = max(1, math.ceil(cluster_ratio * n))
        sizes.append(n)
    return sizes


MUTANTS = {
    "ch08.coarsen": [no_transpose_on_features, adjacency_one_side, adjacency_s_st, features_mean_pooled,
                     diagonal_dropped],
    "ch08.aux_losses": [link_normalised, link_squared, entropy_summed, entropy_sign],
    "ch08.permute": [inverse_permutation, rows_only, features_not_permuted],
    "ch08.clusters": [floor_instead_of_ceil, ratio_of_the_input_every_level, one_level_too_many],
}


@pytest.mark.parametrize("key, fn", [("ch08.coarsen", ex.coarsen), ("ch08.aux_losses", ex.aux_losses),
                                     ("ch08.permute", ex.permute_graph), ("ch08.clusters", ex.cluster_sizes)])
def test_reference_passes_its_own_check(key, fn):
    assert exercises.evaluate(key, fn).passed


def test_check_rejects_a_plausible_wrong_answer(mutant, check_rejects):
    check_rejects(*mutant)
