"""The gate a GNN passes before it is explained: per-class accuracy and oracle Fidelity, retraining with derived seeds."""

import pytest
import torch

from companion import data
from companion.subgraphx import gate


class Constant(torch.nn.Module):
    """Predicts class 0 for every graph, whatever its nodes: it 'solves' the house class only."""

    def forward(self, x, edge_index, batch=None):
        n = 1 if batch is None else int(batch.max()) + 1
        return torch.tensor([[2.0, 0.0]]).repeat(n, 1)


def test_constant_model_fails_on_both_bounds_of_the_class_it_ignores():
    graphs = data.load("ba2motifs", num_graphs=12, seed=0)
    rep = gate.class_report(Constant(), graphs, classes=(0, 1))
    assert rep[0]["acc"] == 1.0 and rep[1]["acc"] == 0.0
    assert rep[0]["n"] + rep[1]["n"] == 12
    assert all(abs(r["oracle_fid"]) < 1e-6 for r in rep.values())  # removing a motif changes nothing
    fails = gate.gate_failures(rep)
    assert fails == ["class 0: oracle Fidelity 0.000 < 0.25", "class 1: accuracy 0.000 < 0.9",
                     "class 1: oracle Fidelity 0.000 < 0.25"]
    assert gate.gate_failures(rep, min_acc=0.0, min_fid=-1.0) == []


def test_trained_model_report(trained):
    model, val = trained
    rep = gate.class_report(model, val, classes=(0, 1))
    assert all(r["acc"] > 0.8 for r in rep.values())  # the fixture's GNN learns the task
    assert max(r["oracle_fid"] for r in rep.values()) > 0.3  # it uses at least one motif as evidence
    with pytest.raises(ValueError, match="class 2 has none"):
        gate.class_report(model, val, classes=(0, 2))


def test_node_report_grows_the_oracle_from_the_node():
    from companion.subgraphx import GNNNodeClassifier

    g = data.load("ba_shapes", seed=0)
    nodes = torch.nonzero(g.node_mask & g.train_mask).flatten().tolist()[:12]
    rep = gate.class_report(GNNNodeClassifier(g.num_features, 4), nodes, node_data=g, classes=(1, 2, 3))
    assert set(rep) == {1, 2, 3} and sum(r["n"] for r in rep.values()) == 12


def test_retrains_with_derived_seeds_until_it_passes():
    seeds = []

    def train(ts):
        seeds.append(ts)
        return ts

    def report(ts):  # passes on the third training
        fid = 0.5 if ts == 7 + 2 * gate.SEED_STRIDE else 0.0
        return {0: {"acc": 1.0, "oracle_fid": fid, "n": 3}, 1: {"acc": 1.0, "oracle_fid": 0.6, "n": 3}}

    model, attempts = gate.train_gated(train, report, 7)
    assert seeds == [7, 1007, 2007] and model == 2007
    assert [a["passed"] for a in attempts] == [False, False, True]
    assert attempts[0]["oracle_fid_y0"] == 0.0 and attempts[2]["oracle_fid_y1"] == 0.6
    with pytest.raises(RuntimeError, match="no GNN passed the gate in 2 trainings"):
        gate.train_gated(train, report, 7, max_attempts=2)
    with pytest.raises(ValueError, match="attempt"):
        gate.train_seed(0, -1)
