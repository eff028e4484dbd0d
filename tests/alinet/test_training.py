import dataclasses

import pytest
import torch

from companion import data
from companion.alinet import Config, augment_links, fit, prepare, run_variant, split_seed_pairs


@pytest.fixture(scope="module")
def iso_inputs():
    pair = data.load("kg_pair_synthetic", num_counterparts=200, triples_per_entity=4, exponent=10.0, noise=0.0, seed=0)
    return prepare(pair, valid_ratio=0.2)


def test_split_seed_pairs_is_a_partition_of_the_seeds():
    seeds = torch.stack([torch.arange(50), torch.arange(50) + 100], 1)
    train, valid = split_seed_pairs(seeds, 0.2, seed=3)
    assert len(valid) == 10 and len(train) == 40
    both = {tuple(p) for p in torch.cat([train, valid]).tolist()}
    assert both == {tuple(p) for p in seeds.tolist()} and not {tuple(p) for p in train.tolist()} & {
        tuple(p) for p in valid.tolist()}
    assert torch.equal(split_seed_pairs(seeds, 0.2, seed=3)[1], valid)  # seeded
    assert len(split_seed_pairs(seeds, 0.0)[1]) == 0
    with pytest.raises(ValueError, match="valid_ratio"):
        split_seed_pairs(seeds, 1.0)


def test_prepare_keeps_test_pairs_out_of_training_and_validation(iso_inputs):
    pair, inp = iso_inputs.pair, iso_inputs
    shift = torch.tensor([0, inp.n1])
    test = {tuple(p) for p in (pair.test_pairs + shift).tolist()}
    assert test == {tuple(p) for p in inp.test.tolist()}
    used = {tuple(p) for p in torch.cat([inp.seeds, inp.valid]).tolist()}
    assert used == {tuple(p) for p in (pair.seed_pairs + shift).tolist()} and not used & test
    assert len(inp.valid) == round(0.2 * len(pair.seed_pairs))


def test_model_selection_never_reads_the_test_pairs(iso_inputs):
    # scrambling the test pairing changes the test score but not one number of the validation curve
    scrambled = dataclasses.replace(iso_inputs, test=torch.stack(
        [iso_inputs.test[:, 0], iso_inputs.test[:, 1].roll(1)], 1))
    a = fit(iso_inputs, Config(epochs=40), seed=0, progress_bar=False, lr=0.005)
    b = fit(scrambled, Config(epochs=40), seed=0, progress_bar=False, lr=0.005)
    assert a["history"]["valid_hits@1"] == b["history"]["valid_hits@1"] and a["best_epoch"] == b["best_epoch"]
    assert a["metrics"]["hits@1"] > b["metrics"]["hits@1"] + 0.3


def test_augment_links_takes_confident_one_to_one_pairs():
    # candidates 0,1,2 (KG1) and 3,4,5 (KG2); 0~4 and 1~3 identical, 2 points between 3 and 5
    last = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.7, 0.7],
                         [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    cand1, cand2 = torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5])
    links = augment_links(last, cand1, cand2, torch.full((3,), -1), sim_th=0.5, csls_k=0)
    assert links[0] == 1 and links[1] == 0  # positions in cand2: 4 and 3
    assert links[2] in (-1, 2)  # entity 2 may not take 3 (already 1's, with a higher score)
    assert (augment_links(last, cand1, cand2, torch.full((3,), -1), sim_th=0.99, csls_k=0) == -1).all()
    dup = torch.tensor([[1.0, 0.0], [0.9, 0.1], [1.0, 0.0], [0.0, 1.0]])  # both KG1 entities nearest to 2
    links = augment_links(dup, torch.tensor([0, 1]), torch.tensor([2, 3]), torch.full((2,), -1), 0.5, 0)
    assert links.tolist() == [0, -1]


def test_augmentation_adds_edges_between_kgs(iso_inputs):
    res = fit(iso_inputs, Config(epochs=30, start_augment=2), seed=0, progress_bar=False, lr=0.005)
    off = fit(iso_inputs, Config(epochs=30, start_augment=2), seed=0, progress_bar=False, lr=0.005, sim_th=0.0)
    assert res["links"] > 0 and off["links"] == 0
    assert res["adj"]._nnz() > iso_inputs.adj._nnz() and off["adj"]._nnz() == iso_inputs.adj._nnz()


def test_aligns_isomorphic_graphs(iso_inputs):
    res = fit(iso_inputs, Config(epochs=100), seed=0, progress_bar=False, lr=0.005)
    assert res["metrics"]["hits@1"] > 0.6


def test_gcn_align_baseline_is_sane_on_identical_views(iso_inputs):
    res = run_variant(iso_inputs, "GCN-Align", Config(epochs=60), seed=0)
    chance = 1.0 / len(iso_inputs.test)
    assert res["metrics"]["hits@1"] > 0.8 > 50 * chance


def test_fit_errors(iso_inputs):
    with pytest.raises(ValueError, match="unknown setting"):
        fit(iso_inputs, Config(epochs=1), lr_typo=0.1)
    with pytest.raises(ValueError, match="unknown variant"):
        run_variant(iso_inputs, "AliNet++")
    with pytest.raises(ValueError, match="optimizer"):
        fit(iso_inputs, Config(epochs=1), optimizer="rmsprop")


def test_old_baseline_loss_is_what_broke_gcn_align():
    from companion.alinet.diagnostics import GCN_ALIGN_CODE, OLD_BASELINE, train_baseline
    inp = prepare(data.load("kg_pair", base="umls", noise=0.0, seed=0), valid_ratio=0.0)
    chance = 1 / len(inp.test)
    old = train_baseline(inp, **OLD_BASELINE, epochs=150)["hits@1"]
    code = train_baseline(inp, **GCN_ALIGN_CODE, epochs=150)["hits@1"]
    fixed = train_baseline(inp, **{**OLD_BASELINE, "loss": "ranking"}, epochs=150)["hits@1"]
    assert old < 3 * chance and code > 0.4 and fixed > 0.4
    with pytest.raises(ValueError, match="layers"):
        train_baseline(inp, **{**OLD_BASELINE, "layers": "sparse"})
