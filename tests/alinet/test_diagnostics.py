import pytest
import torch

from companion import data
from companion.alinet import AliNet, Config, GCNAlign, fit, prepare
from companion.alinet.diagnostics import _part_row, diagnose, effective_rank


@pytest.fixture(scope="module")
def trained():
    pair = data.load("kg_pair_synthetic", num_counterparts=200, triples_per_entity=4, exponent=10.0, noise=0.0, seed=0)
    inp = prepare(pair, valid_ratio=0.0)
    return inp, fit(inp, Config(epochs=30), seed=0, progress_bar=False, lr=0.005)


def test_effective_rank_counts_directions():
    gen = torch.Generator().manual_seed(0)
    assert effective_rank(torch.ones(50, 8)) == 0.0  # identical rows: nothing varies
    line = torch.randn(50, 1, generator=gen) * torch.randn(1, 8, generator=gen) + 3.0
    assert effective_rank(line) == pytest.approx(1.0, abs=1e-4)  # one direction, whatever the shift
    iso = torch.randn(4000, 8, generator=gen)
    assert 7.5 < effective_rank(iso) <= 8.0


def test_part_row_mean_cosine_measures_collapse():
    gen = torch.Generator().manual_seed(0)
    p, d = 40, 16
    signal = torch.randn(p, d, generator=gen)
    pairs = torch.stack([torch.arange(p), torch.arange(p) + p], 1)
    spread = _part_row(torch.cat([signal, signal]), pairs)
    collapsed = _part_row(torch.cat([signal, signal]) + 40.0 * torch.ones(d), pairs)
    assert spread["mean cosine"] < 0.1 < 0.99 < collapsed["mean cosine"]
    assert spread["hits@1"] == 1.0 and spread["effective rank"] > 10


def test_diagnose_reports_every_part_gate_and_gradient(trained):
    inp, res = trained
    out = diagnose(res["model"], inp, inp.test, adj=res["adj"])
    parts = out["parts"]
    assert list(parts.index) == ["input", "layer 1 one-hop", "layer 1 distant", "layer 1", "layer 2",
                                 "concatenation", "concatenation without input"]
    assert parts["dim"].tolist() == [64, 64, 64, 64, 32, 160, 96]
    assert ((parts["mean cosine"] >= 0) & (parts["mean cosine"] <= 1 + 1e-6)).all()
    assert (parts["effective rank"] <= parts["dim"] + 1e-6).all()
    # the concatenation row is the representation fit() tested
    assert parts.loc["concatenation", "hits@1"] == pytest.approx(res["metrics"]["hits@1"])
    assert list(out["gates"].index) == ["layer 1"] and 0 <= out["gates"].loc["layer 1", "mean gate"] <= 1
    att = out["attention"].loc["layer 1"]
    assert 0 < att["relative entropy"] <= 1 + 1e-6 and 0 < att["mean largest weight"] <= 1
    assert att["largest |score|"] > 0
    assert out["gradients"]["seed entities"] > 0 and out["gradients"]["loss"] > 0
    assert res["model"].training is False  # left in the mode it was found in (fit returns it in eval)


def test_diagnose_without_distant_layers_and_errors(trained):
    inp, _ = trained
    n = inp.n1 + inp.n2
    model = AliNet(n, (16, 8, 8), use_distant=False)
    model.train()
    out = diagnose(model, inp, inp.test)
    assert list(out["parts"].index) == ["input", "layer 1", "layer 2", "concatenation",
                                        "concatenation without input"]
    assert out["gates"].empty and out["attention"].empty and model.training
    with pytest.raises(TypeError, match="AliNet"):
        diagnose(GCNAlign(n, 8), inp, inp.test)
    with pytest.raises(ValueError, match="pairs"):
        diagnose(model, inp, inp.test[:1])
    with pytest.raises(ValueError, match="joint ids"):
        diagnose(model, inp, inp.test + n)
    with pytest.raises(ValueError, match="embeds"):
        diagnose(AliNet(n + 1, (8, 8)), inp, inp.test)
