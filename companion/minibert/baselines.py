"""Text baselines for the downstream task, and the near-duplicates between training and test sentences.

A student is worth its size only if it beats what needs no pre-training at all: a bag of words.
:func:`text_baselines` fits logistic regression on TF-IDF features of the *same* labelled
sentences the students see (:func:`companion.minibert.splits.downstream_split`) and tests
on the same held-out sentences, next to the majority class. Docstrings repeat themselves across
a library (``Parameters``, ``Returns`` ...), so :func:`near_duplicates` also flags held-out
sentences that nearly copy a training sentence, and each baseline is scored without them too.
"""

from __future__ import annotations

import argparse
import re
from typing import Any, Sequence

import numpy as np

__all__ = ["C_GRID", "FEATURES", "word_sets", "near_duplicates", "text_baselines"]

C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
# name -> TfidfVectorizer arguments: word uni- and bigrams, and character 2-5-grams inside words
FEATURES = {"TF-IDF words 1-2 + LR": {"analyzer": "word", "ngram_range": (1, 2), "sublinear_tf": True},
            "TF-IDF chars 2-5 + LR": {"analyzer": "char_wb", "ngram_range": (2, 5), "sublinear_tf": True}}
_WORD = re.compile(r"\w+")


def word_sets(sentences: Sequence[str]) -> list[frozenset[str]]:
    """The set of lower-cased words (``\\w+``) of each sentence."""
    return [frozenset(_WORD.findall(s.lower())) for s in sentences]


def near_duplicates(queries: Sequence[str], pool: Sequence[str], threshold: float = 0.8,
                    chunk: int = 512) -> np.ndarray:
    """For each query sentence, whether some pool sentence has word-Jaccard similarity >= ``threshold``.

    Jaccard ``|A ∩ B| / |A ∪ B|`` of the two word sets (:func:`word_sets`); a query with no words
    is never a duplicate. Computed as sparse products, ``chunk`` queries at a time.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    from scipy import sparse

    q_sets, p_sets = word_sets(queries), word_sets(pool)
    vocab: dict[str, int] = {}
    for s in (*q_sets, *p_sets):
        for w in s:
            vocab.setdefault(w, len(vocab))

    def matrix(sets: list[frozenset[str]]) -> "sparse.csr_matrix":
        rows = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
        cols = np.fromiter((vocab[w] for s in sets for w in s), dtype=np.int64, count=len(rows))
        return sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                 shape=(len(sets), max(len(vocab), 1)))

    q, p = matrix(q_sets), matrix(p_sets)
    q_len, p_len = np.asarray(q.sum(1)).ravel(), np.asarray(p.sum(1)).ravel()
    out = np.zeros(len(q_sets), dtype=bool)
    for start in range(0, len(q_sets), chunk):
        inter = (q[start:start + chunk] @ p.T).toarray()
        union = q_len[start:start + chunk, None] + p_len[None, :] - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            jac = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
        out[start:start + chunk] = (jac >= threshold - 1e-9).any(1)
    return out


def _accuracy(pred: np.ndarray, y: np.ndarray, keep: np.ndarray | None = None) -> float:
    if keep is not None:
        pred, y = pred[keep], y[keep]
    return float((pred == y).mean())


def text_baselines(split: dict[str, Any], c_grid: Sequence[float] = C_GRID, duplicate_threshold: float = 0.8,
                   seed: int = 0) -> list[dict[str, Any]]:
    """Majority class and TF-IDF + logistic regression on one seed's split (:func:`downstream_split`).

    Each TF-IDF row fits on ``lab_x`` and picks ``C`` from ``c_grid`` by accuracy on the held-back
    validation sentences (``val_x``, labelled by library; ties: the smaller ``C``), then reports
    test ``accuracy``, the accuracy at ``C = 1`` (``accuracy_c1``: the students' linear probes use
    that ``C`` untuned) and the accuracy on the test sentences with no near-duplicate among the
    training sentences (``accuracy_dedup``). Rows carry ``method``, ``seed``, the counts, the
    test ``predictions`` (for paired tests against a student) and the split's ``downstream_digest``.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if not c_grid:
        raise ValueError("c_grid must hold at least one C")
    if not split["val_x"]:
        raise ValueError("the split has no validation sentences to choose C on (val_sentences = 0)")
    lab_y, val_y, test_y = (np.asarray(split[k]) for k in ("lab_y", "val_y", "test_y"))
    dup = near_duplicates(split["test_x"], split["train_x"] + split["val_x"], duplicate_threshold)
    keep = ~dup
    from companion.minibert.splits import split_digest

    common = {"seed": seed, "setting": "", "labelled": len(lab_y), "validation": len(val_y), "test": len(test_y),
              "test_dedup": int(keep.sum()), "near_duplicate_share": float(dup.mean()),
              "downstream_digest": split_digest(split["lab_x"], split["test_x"])}
    majority = np.bincount(lab_y).argmax()  # equal counts per library: the first library
    rows = [{"method": "majority library", **common,
             "accuracy": _accuracy(np.full_like(test_y, majority), test_y),
             "accuracy_dedup": _accuracy(np.full_like(test_y, majority), test_y, keep)}]
    for name, kwargs in FEATURES.items():
        vec = TfidfVectorizer(**kwargs).fit(split["lab_x"])
        x_lab, x_val, x_test = (vec.transform(split[k]) for k in ("lab_x", "val_x", "test_x"))
        fits = {c: LogisticRegression(C=c, max_iter=5000).fit(x_lab, lab_y) for c in dict.fromkeys([*c_grid, 1.0])}
        val_acc = {c: _accuracy(fits[c].predict(x_val), val_y) for c in c_grid}
        best = max(c_grid, key=lambda c: (val_acc[c], -c))
        pred = fits[best].predict(x_test)
        rows.append({"method": name, **common, "c": best, "val_accuracy": val_acc[best],
                     "accuracy": _accuracy(pred, test_y), "accuracy_dedup": _accuracy(pred, test_y, keep),
                     "accuracy_c1": _accuracy(fits[1.0].predict(x_test), test_y),
                     "features": len(vec.vocabulary_), "predictions": pred.tolist()})
    return rows


# --- the command line: python -m companion.minibert.baselines ------------------------------------

FILENAME = "text_baselines.json"
METRICS = {"accuracy": True, "accuracy_dedup": True, "accuracy_c1": True, "val_accuracy": True,
           "near_duplicate_share": None}
SPLIT_FIELDS = ("max_per_library", "val_sentences", "label_per_library", "test_per_library", "dedup_threshold")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m companion.minibert.baselines``: the split flags of the main CLI, C grid, threshold."""
    from companion.cli import chapter_parser, float_in, int_at_least
    from companion.minibert.config import RUN_HELP, RunConfig

    p = chapter_parser("python -m companion.minibert.baselines",
                       "Majority class and TF-IDF + logistic regression on the downstream task, on each seed's "
                       "split of `python -m companion.minibert` (give it the same split flags).", seeds=(0, 1, 2),
                       examples=["python -m companion.minibert.baselines --test-per-library 100 --seeds 0 1 2",
                                 "python -m companion.minibert.baselines --max-per-library 60 --val-sentences 40 "
                                 "--label-per-library 10 --seeds 0"])
    d = RunConfig()
    g = p.add_argument_group("split (as in python -m companion.minibert)")
    for name in SPLIT_FIELDS:
        kind = float_in(0, 1) if name == "dedup_threshold" else \
            int_at_least({"max_per_library": 10, "label_per_library": 1}.get(name, 0))
        g.add_argument("--" + name.replace("_", "-"), type=kind, default=getattr(d, name), help=RUN_HELP[name])
    b = p.add_argument_group("baselines")
    b.add_argument("--c-grid", type=float_in(0, float("inf"), low_open=True), nargs="+", default=list(C_GRID),
                   help="inverse regularisation strengths C tried, space-separated; the best on the validation "
                        "sentences wins")
    b.add_argument("--duplicate-threshold", type=float_in(0, 1, low_open=True), default=0.8,
                   help="word-Jaccard similarity from which a test sentence counts as a near-duplicate of a "
                        "training sentence, for the accuracy without near-duplicates")
    return p


def main(argv: list[str] | None = None) -> dict:
    from dataclasses import replace

    from companion.cli import require_packages, run_seeds, start_run
    from companion.minibert.config import RunConfig
    from companion.minibert.splits import downstream_split
    from companion.results import save_results

    parser = build_parser()
    args = parser.parse_args(argv)
    require_packages(parser, "transformers")  # the corpus holds transformers' docstrings (one of its ten libraries)
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f"--seeds: each seed once, got {args.seeds}")
    if args.val_sentences == 0:
        parser.error("--val-sentences: C is chosen on the validation sentences; give at least 1")
    run = start_run(parser, args, module="companion.minibert.baselines", chapter="05_minibert", argv=argv)
    cfg = RunConfig(**{name: getattr(args, name) for name in SPLIT_FIELDS})

    def one_seed(seed: int) -> list[dict]:
        try:
            split = downstream_split(replace(cfg, seed=seed))
        except ValueError as e:
            parser.error(f"--val-sentences: {e}")
        return text_baselines(split, args.c_grid, args.duplicate_threshold, seed=seed)

    with run.progress(len(run.seeds)) as display:
        rows = run_seeds(run.seeds, one_seed, display=display)
    for r in rows:
        print(f"seed {r['seed']}  {r['method']:24s} accuracy {r['accuracy']:.3f}  without near-duplicates "
              f"{r['accuracy_dedup']:.3f}" + (f"  (C = {r['c']:g})" if "c" in r else ""))
    path = save_results(run.path(FILENAME), rows, seeds=run.seeds, command=run.command, metrics=METRICS,
                        wall_seconds=run.wall_seconds, cpu_seconds=run.cpu_seconds,
                        packages=("numpy", "scipy", "scikit-learn"),
                        split={name: getattr(args, name) for name in SPLIT_FIELDS},
                        c_grid=list(args.c_grid), duplicate_threshold=args.duplicate_threshold)
    print(f"wrote {path}")
    return {"rows": rows, "path": str(path)}


if __name__ == "__main__":
    import sys

    from companion.cli import cli_entry

    sys.exit(cli_entry(main))
