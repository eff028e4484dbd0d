import json
from dataclasses import replace
from itertools import product

import numpy as np
import pytest

from companion.minibert import RunConfig, downstream_split, near_duplicates, text_baselines, word_sets
from companion.minibert.splits import split_digest
from companion.minibert import baselines as cli
from companion.reproduce import reproduce_file


def test_near_duplicates_by_hand():
    pool = ["Return the sum of the array elements", "completely unrelated words here"]
    queries = ["return THE sum of the array",        # 5 shared / 6 in the union: 0.833
               "return the sum of an array",         # 5 shared / 7 in the union: 0.714
               "Return the sum of the array elements.",  # identical words: 1.0
               "!!!"]                                 # no words: never a duplicate
    assert word_sets(queries[:1]) == [frozenset({"return", "the", "sum", "of", "array"})]
    assert near_duplicates(queries, pool, 0.8).tolist() == [True, False, True, False]
    # the bound is inclusive: 5/6 counts at 5/6, not above it
    assert near_duplicates(queries[:1], pool, 5 / 6).tolist() == [True]
    assert near_duplicates(queries[:1], pool, 5 / 6 + 1e-6).tolist() == [False]
    with pytest.raises(ValueError, match="threshold"):
        near_duplicates(queries, pool, 0)


def test_near_duplicates_equal_brute_force_in_any_chunking():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(12)]
    pool = [" ".join(rng.choice(words, rng.integers(1, 6))) for _ in range(60)]
    queries = [" ".join(rng.choice(words, rng.integers(1, 6))) for _ in range(40)]
    q, p = word_sets(queries), word_sets(pool)
    for threshold in (0.5, 0.8, 1.0):
        brute = [any(len(a & b) / len(a | b) >= threshold for b in p) for a in q]
        assert near_duplicates(queries, pool, threshold, chunk=7).tolist() == brute
        assert near_duplicates(queries, pool, threshold).tolist() == brute


def _toy_split(n_per_class=20, seed=0):
    """Three classes told apart by one word each; the rest is shared noise."""
    rng = np.random.default_rng(seed)
    noise = ["the", "a", "value", "array", "returns", "given", "object"]
    keys = ["alpha", "beta", "gamma"]

    def sentences(n):
        xs, ys = [], []
        for y, key in product(range(3), [None] * n):
            xs.append(" ".join([keys[y], *rng.choice(noise, 4)]))
            ys.append(y)
        return xs, ys

    lab_x, lab_y = sentences(n_per_class)
    val_x, val_y = sentences(5)
    test_x, test_y = sentences(10)
    return {"train_x": lab_x, "lab_x": lab_x, "lab_y": lab_y, "val_x": val_x, "val_y": val_y,
            "test_x": test_x, "test_y": test_y}


def test_text_baselines_learn_a_word_task_and_choose_c_on_validation():
    rows = {r["method"]: r for r in text_baselines(_toy_split(), c_grid=(0.01, 1.0, 100.0))}
    assert set(rows) == {"majority library", "TF-IDF words 1-2 + LR", "TF-IDF chars 2-5 + LR"}
    assert rows["majority library"]["accuracy"] == pytest.approx(1 / 3)
    words = rows["TF-IDF words 1-2 + LR"]
    assert words["accuracy"] == 1.0 and words["val_accuracy"] == 1.0
    # C is the smallest of those best on validation (the strongest regularisation that does as well)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    split = _toy_split()
    vec = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True).fit(split["lab_x"])
    val = {c: (LogisticRegression(C=c, max_iter=5000).fit(vec.transform(split["lab_x"]), split["lab_y"])
               .predict(vec.transform(split["val_x"])) == np.asarray(split["val_y"])).mean()
           for c in (0.01, 1.0, 100.0)}
    assert words["c"] == min(c for c in val if val[c] == max(val.values()))
    # test sentences repeat training sentences here: most are near-duplicates
    assert words["near_duplicate_share"] > 0.5 and words["test_dedup"] < words["test"]


def test_text_baselines_refuse_a_split_without_validation():
    split = _toy_split()
    with pytest.raises(ValueError, match="validation"):
        text_baselines({**split, "val_x": [], "val_y": []})
    with pytest.raises(ValueError, match="c_grid"):
        text_baselines(split, c_grid=())


def test_downstream_split_is_the_students_split(corpus):
    cfg = RunConfig(max_per_library=200, val_sentences=40, label_per_library=5, test_per_library=3, seed=1)
    a = downstream_split(cfg, corpus)
    assert a == downstream_split(cfg, corpus)  # a function of the seed
    other = downstream_split(replace(cfg, seed=2), corpus)
    assert other["train_x"] != a["train_x"] and other["test_x"] == a["test_x"]  # the test sentences are fixed
    assert len(a["val_x"]) == 40 and not set(a["val_x"]) & set(a["train_x"])
    assert len(a["train_x"]) + 40 == len(corpus["train"])
    assert set(a["lab_x"]) <= set(a["train_x"])
    libraries = len(corpus["libraries"])
    assert np.bincount(a["lab_y"]).tolist() == [5] * libraries
    assert np.bincount(a["test_y"]).tolist() == [3] * libraries and set(a["test_x"]) <= set(corpus["held_out"])
    with pytest.raises(ValueError, match="val_sentences"):
        downstream_split(replace(cfg, val_sentences=len(corpus["train"])), corpus)


TINY = ["--max-per-library", "40", "--val-sentences", "30", "--label-per-library", "5", "--test-per-library", "4",
        "--c-grid", "0.1", "10", "--seeds", "0", "1", "--no-progress"]


def test_cli_writes_a_file_that_reproduces(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli.main(TINY)
    path = tmp_path / "results" / "text_baselines.json"
    payload = json.loads(path.read_text())
    assert payload["command"].startswith("python -m companion.minibert.baselines --max-per-library 40")
    assert payload["split"] == {"max_per_library": 40, "val_sentences": 30, "label_per_library": 5,
                                "test_per_library": 4, "dedup_threshold": 0.0} and payload["c_grid"] == [0.1, 10.0]
    assert [(r["seed"], r["method"]) for r in payload["rows"]] == [
        (s, m) for s in (0, 1) for m in ("majority library", "TF-IDF words 1-2 + LR", "TF-IDF chars 2-5 + LR")]
    assert all(r["labelled"] == 50 and r["test"] == 40 for r in payload["rows"])
    assert all(len(r["predictions"]) == 40 for r in payload["rows"] if "c" in r)
    # the digest is the split's: equal for equal sentences, and seeds draw other labelled sentences
    digests = {r["seed"]: r["downstream_digest"] for r in payload["rows"]}
    split0 = downstream_split(RunConfig(max_per_library=40, val_sentences=30, label_per_library=5, test_per_library=4))
    assert digests[0] == split_digest(split0["lab_x"], split0["test_x"]) != digests[1]
    assert {r["c"] for r in payload["rows"] if "c" in r} <= {0.1, 10.0}
    assert reproduce_file(path, tmp_path / "rerun") == []


@pytest.mark.parametrize("flags, named", [(["--val-sentences", "0"], "--val-sentences"),
                                          (["--c-grid", "0"], "--c-grid"),
                                          (["--duplicate-threshold", "1.5"], "--duplicate-threshold"),
                                          (["--seeds", "1", "1"], "--seeds")])
def test_bad_flags_are_refused_before_any_work(flags, named, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(flags)
    assert exit_info.value.code == 2 and named in capsys.readouterr().err


def test_downstream_split_drops_near_duplicates_when_asked(corpus):
    cfg = RunConfig(max_per_library=200, val_sentences=40, label_per_library=5, test_per_library=0, seed=0)
    full = downstream_split(cfg, corpus)
    dedup = downstream_split(replace(cfg, dedup_threshold=0.8), corpus)
    assert full["dropped_near_duplicates"] == {}
    dropped = dedup["dropped_near_duplicates"]
    assert dropped["downstream_test"] == len(full["test_x"]) - len(dedup["test_x"]) > 0
    assert dropped["mlm_eval"] == len(full["mlm_eval"]) - len(dedup["mlm_eval"]) > 0
    assert not near_duplicates(dedup["test_x"], corpus["train"], 0.8).any()
    assert set(dedup["test_x"]) <= set(full["test_x"]) and dedup["lab_x"] == full["lab_x"]
