import pytest

from companion import data
from companion.alinet import Config, fit, prepare, run_variant


@pytest.fixture(scope="module")
def iso_inputs():
    pair = data.load("kg_pair_synthetic", num_counterparts=200, triples_per_entity=4, exponent=10.0, noise=0.0, seed=0)
    return prepare(pair)


def test_aligns_isomorphic_graphs(iso_inputs):
    res = fit(iso_inputs, Config(epochs=120), seed=0)
    assert res["metrics"]["hits@1"] > 0.9


def test_alinet_beats_gcn_align_baseline(iso_inputs):
    ali = run_variant(iso_inputs, "AliNet w/o distant", Config(epochs=120), seed=0)
    base = run_variant(iso_inputs, "GCN-Align", Config(epochs=120), seed=0)
    assert ali["metrics"]["mrr"] > base["metrics"]["mrr"] + 0.3


def test_fit_errors(iso_inputs):
    with pytest.raises(ValueError, match="unknown setting"):
        fit(iso_inputs, Config(epochs=1), lr_typo=0.1)
    with pytest.raises(ValueError, match="unknown variant"):
        run_variant(iso_inputs, "AliNet++")
