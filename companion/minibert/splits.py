"""How one seed's run splits the docstring corpus: students' training, validation, labelled and test sentences.

Kept apart from :mod:`companion.minibert.experiments` (which imports ``transformers``) so that the
text baselines (:mod:`companion.minibert.baselines`) read the very same sentences without it.
"""

from __future__ import annotations

import hashlib
from typing import Any, Sequence

import torch

from companion import data
from companion.minibert.config import RunConfig

__all__ = ["labelled_subset", "downstream_split", "split_digest"]


def labelled_subset(sentences: list[str], labels: list[int], per_class: int) -> tuple[list[str], list[int]]:
    """The first ``per_class`` sentences of each label (the corpus order is already hashed)."""
    xs, ys, count = [], [], {}
    for s, y in zip(sentences, labels):
        if count.get(y, 0) < per_class:
            xs.append(s)
            ys.append(y)
            count[y] = count.get(y, 0) + 1
    return xs, ys


def downstream_split(cfg: RunConfig, corpus: dict | None = None) -> dict[str, Any]:
    """The sentences of one seed's run, as :func:`companion.minibert.experiments.run` splits them.

    ``train_x``/``train_y``: the students' training sentences (the corpus's training sentences
    in a seeded order, less the last ``cfg.val_sentences``, which are ``val_x``/``val_y``);
    ``lab_x``/``lab_y``: the first ``cfg.label_per_library`` of each library among ``train_x``
    (the downstream task's labelled sentences); ``test_x``/``test_y``: the first
    ``cfg.test_per_library`` held-out sentences of each library (0: all); ``mlm_eval``: the
    held-out sentences of the masked-LM evaluation. With ``cfg.dedup_threshold`` > 0 the test and
    masked-LM sentences with a near-copy among the training sentences
    (:func:`companion.minibert.baselines.near_duplicates`) are dropped, counted in
    ``dropped_near_duplicates``. Text baselines use this function too, so they see exactly the
    students' sentences.
    """
    corpus = corpus if corpus is not None else data.load("docstring_corpus", max_per_library=cfg.max_per_library)
    # the corpus lists libraries one after the other: shuffle (seeded) so that any prefix,
    # such as the sentences the teacher caches, covers every library
    order = torch.randperm(len(corpus["train"]), generator=torch.Generator().manual_seed(cfg.seed)).tolist()
    if not 0 <= cfg.val_sentences < len(order) // 2:
        raise ValueError(f"val_sentences must be in 0..{len(order) // 2 - 1} (half the training sentences), "
                         f"got {cfg.val_sentences}")
    # the last val_sentences of the shuffled order: held back from every student (validation curves)
    val_idx, order = order[len(order) - cfg.val_sentences:], order[:len(order) - cfg.val_sentences]
    train_x = [corpus["train"][i] for i in order]
    train_y = [corpus["train_labels"][i] for i in order]
    # masked-LM evaluation sentences: an equal share of every library's held-out sentences
    n_libs = len(corpus["libraries"])
    held = labelled_subset(corpus["held_out"], corpus["held_out_labels"],
                           -(-cfg.eval_sentences // n_libs) if cfg.eval_sentences else len(corpus["held_out"]))[0]
    lab_x, lab_y = labelled_subset(train_x, train_y, cfg.label_per_library)
    test_x, test_y = labelled_subset(corpus["held_out"], corpus["held_out_labels"],
                                     cfg.test_per_library or len(corpus["held_out"]))
    dropped = {}
    if cfg.dedup_threshold > 0:
        from companion.minibert.baselines import near_duplicates

        dup = near_duplicates(test_x, corpus["train"], cfg.dedup_threshold)
        test_x, test_y = [x for x, d in zip(test_x, dup) if not d], [y for y, d in zip(test_y, dup) if not d]
        held_dup = near_duplicates(held, corpus["train"], cfg.dedup_threshold)
        held = [x for x, d in zip(held, held_dup) if not d]
        dropped = {"downstream_test": int(dup.sum()), "mlm_eval": int(held_dup.sum())}
    return {"corpus": corpus, "dropped_near_duplicates": dropped, "train_x": train_x, "train_y": train_y,
            "val_x": [corpus["train"][i] for i in val_idx], "val_y": [corpus["train_labels"][i] for i in val_idx],
            "lab_x": lab_x, "lab_y": lab_y, "test_x": test_x, "test_y": test_y, "mlm_eval": held}


def split_digest(*parts: Sequence[str]) -> str:
    """MD5 of the sentences of ``parts`` in order (one per line, a blank line between parts): two
    results files whose digests agree saw the very same sentences, whatever the installed packages."""
    h = hashlib.md5()
    for part in parts:
        h.update(("\n".join(part) + "\n\n").encode())
    return h.hexdigest()
