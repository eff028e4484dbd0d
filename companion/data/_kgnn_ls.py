"""The KGNN-LS preprocessing (``src/preprocess.py`` of github.com/hwwang55/KGNN-LS), ported.

It turns the raw files (``item_index2entity_id.txt``, ``kg.txt`` and the ratings: MovieLens-20M's
``ratings.csv`` or Last.FM's ``user_artists.dat``) into the two files the paper's code and
:func:`companion.data.kgcn_files.load_kgcn_files` read: ``ratings_final.txt`` and ``kg_final.txt``.
The steps, their order and the random stream are the official script's (``np.random.seed(555)``,
one ``np.random.choice`` per user in the same order), so the output is the file that script writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

RATING_FILE = {"movie": "ratings.csv", "music": "user_artists.dat"}
SEP = {"movie": ",", "music": "\t"}
THRESHOLD = {"movie": 4.0, "music": 0.0}  # MovieLens: a rating >= 4 is a positive; Last.FM: any listen
SEED = 555  # the official script's seed


def preprocess(raw: Path, dataset: str, out: Path) -> dict[str, int]:
    """Write ``out/ratings_final.txt`` and ``out/kg_final.txt`` from the raw files in ``raw``.

    Returns the counts the official script prints (users, items, entities, relations).
    """
    if dataset not in RATING_FILE:
        raise ValueError(f"dataset must be one of {sorted(RATING_FILE)}, got {dataset!r}")
    raw, out = Path(raw), Path(out)
    for name in ("item_index2entity_id.txt", "kg.txt", RATING_FILE[dataset]):
        if not (raw / name).is_file():
            raise FileNotFoundError(f"kgnn-ls preprocessing: {raw / name} is missing")
    item_old2new: dict[str, int] = {}
    entity2index: dict[str, int] = {}
    with open(raw / "item_index2entity_id.txt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            item, entity = line.strip().split("\t")[:2]
            item_old2new[item] = i
            entity2index[entity] = i

    rng = np.random.RandomState(SEED)  # the legacy global stream the script seeds, as an object
    item_set = set(item_old2new.values())
    pos: dict[int, set[int]] = {}
    neg: dict[int, set[int]] = {}
    with open(raw / RATING_FILE[dataset], encoding="utf-8") as f:
        next(f)  # header line
        for line in f:
            fields = line.strip().split(SEP[dataset])
            item = item_old2new.get(fields[1])
            if item is None:  # not an item of the KG
                continue
            user = int(fields[0])
            (pos if float(fields[2]) >= THRESHOLD[dataset] else neg).setdefault(user, set()).add(item)
    n_users = 0
    with open(out / "ratings_final.txt.tmp", "w", encoding="utf-8") as w:
        for user_index, (user, items) in enumerate(pos.items()):
            for item in items:
                w.write(f"{user_index}\t{item}\t1\n")
            unwatched = item_set - items
            if user in neg:
                unwatched -= neg[user]
            if len(unwatched) < len(items):  # the official script fails here too, less clearly
                raise ValueError(f"kgnn-ls preprocessing: user {user} of {raw / RATING_FILE[dataset]} has "
                                 f"{len(items)} positives but only {len(unwatched)} unwatched items to draw "
                                 "as many negatives from")
            for item in rng.choice(list(unwatched), size=len(items), replace=False):
                w.write(f"{user_index}\t{item}\t0\n")
            n_users = user_index + 1
    relation2index: dict[str, int] = {}
    with open(raw / "kg.txt", encoding="utf-8") as f, open(out / "kg_final.txt.tmp", "w", encoding="utf-8") as w:
        for line in f:
            head, relation, tail = line.strip().split("\t")[:3]
            h = entity2index.setdefault(head, len(entity2index))
            t = entity2index.setdefault(tail, len(entity2index))
            r = relation2index.setdefault(relation, len(relation2index))
            w.write(f"{h}\t{r}\t{t}\n")
    # rename only when both are complete, so a crash never leaves a half-written file the loader would read
    (out / "ratings_final.txt.tmp").replace(out / "ratings_final.txt")
    (out / "kg_final.txt.tmp").replace(out / "kg_final.txt")
    return {"users": n_users, "items": len(item_set), "entities": len(entity2index),
            "relations": len(relation2index)}
