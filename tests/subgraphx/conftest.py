"""A BA-2Motifs GNN trained once per test module (graphs 240-299 held out), shared by the explainer tests."""

import pytest

from companion import data
from companion.subgraphx import GNNGraphClassifier, train_graph_classifier
from companion.utils import seed_everything


@pytest.fixture(scope="module")
def trained():
    seed_everything(0)
    graphs = data.load("ba2motifs", num_graphs=300, seed=1)
    model = GNNGraphClassifier(10, 2)
    train_graph_classifier(model, graphs[:240], epochs=60, seed=0)
    return model, graphs[240:]
