import pytest
import torch
from torch import nn

import companion.advgan.selection as selection
from companion.advgan import select_kappa, target_model, train_advgan, train_classifier, validation_split
from companion.advgan.experiment import GRID_ATTACK, Config, run_table
from companion.data import load


def test_validation_split_is_a_seeded_partition():
    fit, val = validation_split(50, 0.2, seed=3)
    assert len(val) == 10 and len(fit) == 40
    assert sorted(torch.cat([fit, val]).tolist()) == list(range(50))
    again = validation_split(50, 0.2, seed=3)
    assert torch.equal(fit, again[0]) and torch.equal(val, again[1])
    assert not torch.equal(val, validation_split(50, 0.2, seed=4)[1])


@pytest.mark.parametrize("n, fraction, match", [
    (1, 0.5, "n must be"), (10, 0.0, "val_fraction must be in"), (10, 1.0, "val_fraction must be in"),
    (10, 0.01, "each part needs at least one image"), (10, 0.99, "each part needs at least one image"),
])
def test_validation_split_errors(n, fraction, match):
    with pytest.raises(ValueError, match=match):
        validation_split(n, fraction)


class FirstPixelClassifier(nn.Module):
    """Class = round(10 * first pixel): a target whose errors a test can set by hand."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot((x[:, 0, 0, 0] * 10).round().long(), 10).float()


def fake_trainer(fooled_share):
    """Stands in for train_advgan: the 'generator' for kappa flips the class of a known share of inputs."""
    def train(target, x, y, eps, kappa, seed, **kw):
        class G(nn.Module):
            def forward(self, z):
                delta = torch.zeros_like(z)
                delta[:round(fooled_share[kappa] * len(z)), 0, 0, 0] = 0.1   # class 1 -> 2
                return delta
        return G(), None
    return train


@pytest.mark.parametrize("shares, goal, chosen, reached", [
    ({0.0: 0.5, 2.0: 0.96, 5.0: 1.0}, 0.95, 2.0, True),    # the smallest kappa reaching the goal
    ({0.0: 0.5, 2.0: 0.96, 5.0: 1.0}, 0.99, 5.0, True),
    ({5.0: 1.0, 0.0: 0.96, 2.0: 0.96}, 0.95, 0.0, True),    # grid order does not matter
    ({0.0: 0.5, 1.0: 0.7}, 0.95, 1.0, False),              # none reaches: the best on validation
    ({0.0: 0.7, 3.0: 0.7}, 0.95, 0.0, False),              # ... the smaller on a tie
])
def test_select_kappa_rule(monkeypatch, shares, goal, chosen, reached):
    monkeypatch.setattr(selection, "train_advgan", fake_trainer(shares))
    x = torch.zeros(500, 1, 4, 4)
    x[:, 0, 0, 0] = 0.1
    y = torch.ones(500, dtype=torch.long)      # every validation digit is classified correctly
    kappa, rows = select_kappa(FirstPixelClassifier(), x, y, list(shares), val_fraction=0.2, goal=goal)
    assert kappa == chosen
    assert [r["kappa"] for r in rows] == list(shares)
    assert [r["selected"] for r in rows] == [k == chosen for k in shares]
    assert any(r["goal_reached"] for r in rows) == reached
    for r in rows:
        assert r["val_clean_correct"] == 100
        assert r["val_success_on_correct"] == pytest.approx(shares[r["kappa"]], abs=0.01)


def test_select_kappa_targeted_scores_arrivals_in_the_target_class(monkeypatch):
    shares, seen = {0.0: 0.5, 2.0: 0.96, 5.0: 1.0}, []

    def train(target, x, y, eps, kappa, seed, target_class=None, **kw):
        seen.append(target_class)
        return fake_trainer(shares)(target, x, y, eps, kappa, seed)

    monkeypatch.setattr(selection, "train_advgan", train)
    x = torch.zeros(500, 1, 4, 4)
    x[:, 0, 0, 0] = 0.1
    y = torch.ones(500, dtype=torch.long)
    # the fake generators move class 1 to class 2: towards 2 their arrivals are the shares
    kappa, rows = select_kappa(FirstPixelClassifier(), x, y, list(shares), goal=0.95, target_class=2)
    assert kappa == 2.0 and set(seen) == {2}
    assert all("val_success_on_correct" not in r and r["target_class"] == 2 for r in rows)
    assert [r["val_targeted_success"] for r in rows] == pytest.approx(list(shares.values()), abs=0.01)
    # towards 3 nothing arrives although as many digits are misclassified: the smallest kappa of the tie
    kappa, rows = select_kappa(FirstPixelClassifier(), x, y, list(shares), goal=0.95, target_class=3)
    assert kappa == 0.0 and all(r["val_targeted_success"] == 0 for r in rows)
    assert rows[2]["val_success_rate"] == pytest.approx(1.0)


@pytest.mark.parametrize("kappas, goal, match", [
    ([], 0.95, "empty grid"), ([0.0, -1.0], 0.95, "kappa"), ([1.0, 1.0], 0.95, "distinct"),
    ([0.0], 0.0, "goal must be"), ([0.0], 1.5, "goal must be"),
])
def test_select_kappa_errors(kappas, goal, match):
    x, y = torch.zeros(10, 1, 4, 4), torch.zeros(10, dtype=torch.long)
    with pytest.raises(ValueError, match=match):
        select_kappa(FirstPixelClassifier(), x, y, kappas, goal=goal)


@pytest.fixture(scope="module")
def digits_target():
    d = load("digits", images=True)
    model = target_model("A", (1, 8, 8))
    train_classifier(model, d["x"][:400], d["y"][:400], epochs=2, lr=2e-3, seed=0)
    return model, d["x"][:400], d["y"][:400]


def test_kappa_changes_what_the_generator_learns(digits_target):
    model, x, y = digits_target
    g0, h0 = train_advgan(model, x, y, eps=0.2, epochs=1, width=2, kappa=0.0, seed=0)
    g5, h5 = train_advgan(model, x, y, eps=0.2, epochs=1, width=2, kappa=5.0, seed=0)
    assert h5["adv"][0] > h0["adv"][0]   # the margin keeps already fooled digits in the loss
    with torch.no_grad():
        assert not torch.equal(g0(x[:8]), g5(x[:8]))
    with pytest.raises(ValueError, match="kappa"):
        train_advgan(model, x, y, epochs=1, kappa=-1.0)


def test_select_kappa_on_a_tiny_real_run(digits_target):
    model, x, y = digits_target
    kappa, rows = select_kappa(model, x, y, [0.0, 5.0], val_fraction=0.25, goal=0.95, eps=0.2,
                               epochs=1, width=2, seed=0)
    assert kappa in (0.0, 5.0) and sum(r["selected"] for r in rows) == 1
    for r in rows:
        assert 0 < r["val_clean_correct"] <= 100
        assert 0 <= r["val_success_on_correct"] <= 1 and 0 <= r["val_success_rate"] <= 1
        assert r["val_linf"] <= 0.2 + 1e-6 and r["fit_seconds"] > 0


TINY = dict(data="digits", mode="semiwhitebox", n_train=120, n_test=40, target_epochs=1, at_epochs=1,
            at_steps=1, pgd_steps=2, gan_epochs=1)


def test_run_table_grid_rows_and_the_chosen_kappa_reproduce_a_direct_run():
    rows, _ = run_table(Config(**TINY, kappa_grid=(0.0, 5.0), kappa_goal=0.5, refit=True))
    grid = [r for r in rows if r["attack"] == GRID_ATTACK]
    assert [(r["target"], r["kappa"]) for r in grid] == [(t, k) for t in ("undefended", "PGD-trained")
                                                         for k in (0.0, 5.0)]
    final = {r["target"]: r for r in rows if r["attack"] == "AdvGAN semi-white-box"}
    for t, r in final.items():
        chosen = [g["kappa"] for g in grid if g["target"] == t and g["selected"]]
        assert r["kappa"] == chosen[0] and r["kappa_from"] == "validation"
    # with refit, the test row of the chosen kappa is the row a run with --kappa <chosen> gives:
    # nothing leaks
    k = final["undefended"]["kappa"]
    direct, _ = run_table(Config(**TINY, kappa=k))
    direct_row = next(r for r in direct if r["target"] == "undefended" and r["attack"] == "AdvGAN semi-white-box")
    for key in ("success_rate", "success_on_correct", "clean_correct", "l2", "linf"):
        assert direct_row[key] == final["undefended"][key]


def test_run_table_defense_from_scratch_is_recorded_and_leaves_the_undefended_target_alone():
    base, clean_base = run_table(Config(**TINY))
    scratch, clean_scratch = run_table(Config(**TINY, defense_from_scratch=True))
    assert all("fine-tuned" in r["defense"] for r in base if r["target"] == "PGD-trained")
    assert all("from scratch, 1 epochs" in r["defense"] for r in scratch if r["target"] == "PGD-trained")
    assert not any("defense" in r for r in scratch if r["target"] == "undefended")
    assert clean_base["undefended"] == clean_scratch["undefended"]
    fgsm = {(r["target"], r["attack"]): r["success_rate"] for r in base}
    fgsm_scratch = {(r["target"], r["attack"]): r["success_rate"] for r in scratch}
    assert fgsm[("undefended", "FGSM")] == fgsm_scratch[("undefended", "FGSM")]
    for r in base + scratch:
        if r["attack"] in ("FGSM", "PGD-2", "AdvGAN semi-white-box"):
            assert r["clean_correct"] >= 0 and (r["success_on_correct"] is None or 0 <= r["success_on_correct"] <= 1)


def test_select_kappa_hands_back_the_generator_it_validated(monkeypatch):
    shares = {0.0: 0.5, 2.0: 0.96, 5.0: 1.0}
    monkeypatch.setattr(selection, "train_advgan", fake_trainer(shares))
    x = torch.zeros(500, 1, 4, 4)
    x[:, 0, 0, 0] = 0.1
    y = torch.ones(500, dtype=torch.long)
    kept: dict = {}
    kappa, rows = select_kappa(FirstPixelClassifier(), x, y, list(shares), val_fraction=0.2, goal=0.95,
                               generators=kept)
    assert sorted(kept) == sorted(shares) and kappa == 2.0
    # the generator handed back scores what its validation row says
    _, val = validation_split(len(x), 0.2, 0)
    fooled = (FirstPixelClassifier()(x[val] + kept[kappa](x[val])).argmax(1) != y[val]).float().mean().item()
    assert fooled == pytest.approx(next(r for r in rows if r["selected"])["val_success_on_correct"])
