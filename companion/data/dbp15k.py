"""DBP15K (Sun et al., 2017, JAPE) from a local folder, in the JAPE / OpenEA file layout.

Download DBP15K yourself (github.com/nju-websoft/JAPE, or the OpenEA release) and point ``root`` (or
``$COMPANION_DATA/dbp15k``) at it. A language pair folder (``zh_en``, ``ja_en``, ``fr_en``) holds
either the JAPE files

* ``ent_ids_1``, ``ent_ids_2``: ``id<TAB>uri`` (ids are global across both KGs),
* ``triples_1``, ``triples_2``: ``head<TAB>relation<TAB>tail`` ids,
* ``ref_ent_ids``: ``id1<TAB>id2`` counterpart pairs (optionally ``sup_ent_ids`` for the seeds),

or the OpenEA files ``rel_triples_1``, ``rel_triples_2`` (``uri<TAB>uri<TAB>uri``) and ``ent_links``.
Without a given seed file, a seeded ``seed_ratio`` share (30%) of the links becomes the seed alignment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from companion.data._registry import local_root, register
from companion.data.kg_pair import KGPair

HINT = ("Download DBP15K (JAPE: github.com/nju-websoft/JAPE, data/dbp15k/<pair>/) and pass root= the folder "
        "that contains zh_en/, ja_en/, fr_en/, or set COMPANION_DATA so that $COMPANION_DATA/dbp15k/<pair>/ exists.")
PAIRS = ("zh_en", "ja_en", "fr_en")


def _rows(path: Path, width: int) -> list[list[str]]:
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        parts = line.rstrip("\n").split("\t")
        if len(parts) < width:
            raise ValueError(f"{path}:{i + 1}: expected {width} tab-separated fields, got {len(parts)}")
        out.append(parts[:width])
    return out


def _index(names: list[str]) -> dict[str, int]:
    return {n: i for i, n in enumerate(dict.fromkeys(names))}


@register("dbp15k", "local", "DBP15K entity alignment (JAPE/OpenEA layout) from a local folder you downloaded")
def load_dbp15k(pair: str = "zh_en", root: str | Path | None = None, seed: int = 0,
                seed_ratio: float = 0.3) -> KGPair:
    """One DBP15K language pair as a :class:`~companion.data.kg_pair.KGPair` (ids re-indexed per KG)."""
    if pair not in PAIRS:
        raise ValueError(f"pair must be one of {PAIRS}, got {pair!r}")
    if not 0.0 < seed_ratio < 1.0:
        raise ValueError(f"seed_ratio must be in (0, 1), got {seed_ratio}")
    folder = local_root(root, "dbp15k", HINT) / pair
    if not folder.is_dir():
        raise FileNotFoundError(f"dbp15k: folder {folder} does not exist. {HINT}")
    if (folder / "triples_1").is_file():
        names = []
        for k in (1, 2):
            ids = [r[0] for r in _rows(folder / f"ent_ids_{k}", 2)]
            names.append(ids)
        t_raw = [_rows(folder / f"triples_{k}", 3) for k in (1, 2)]
        links = _rows(folder / "ref_ent_ids", 2)
        sup = _rows(folder / "sup_ent_ids", 2) if (folder / "sup_ent_ids").is_file() else None
    elif (folder / "rel_triples_1").is_file():
        t_raw = [_rows(folder / f"rel_triples_{k}", 3) for k in (1, 2)]
        names = [[x for h, _, t in tr for x in (h, t)] for tr in t_raw]
        links = _rows(folder / "ent_links", 2)
        sup = None
    else:
        raise FileNotFoundError(f"dbp15k: {folder} has neither triples_1 (JAPE) nor rel_triples_1 (OpenEA). {HINT}")
    ent = [_index(n) for n in names]
    rel = [_index([r for _, r, _ in tr]) for tr in t_raw]
    triples = []
    for k in (0, 1):
        try:
            triples.append(torch.tensor([[ent[k][h], rel[k][r], ent[k][t]] for h, r, t in t_raw[k]], dtype=torch.long))
        except KeyError as err:
            raise ValueError(f"dbp15k: triples_{k + 1} names entity {err} missing from ent_ids_{k + 1}") from None

    def to_pairs(rows: list[list[str]], what: str) -> np.ndarray:
        try:
            return np.array([[ent[0][a], ent[1][b]] for a, b in rows], dtype=np.int64).reshape(-1, 2)
        except KeyError as err:
            raise ValueError(f"dbp15k: {what} names entity {err} unknown to its KG") from None

    all_links = to_pairs(links, "ref_ent_ids/ent_links")
    if sup is not None:
        seeds, test = to_pairs(sup, "sup_ent_ids"), all_links
    else:
        perm = np.random.default_rng(seed).permutation(len(all_links))
        k = int(round(seed_ratio * len(all_links)))
        seeds, test = all_links[perm[:k]], all_links[perm[k:]]
    return KGPair(triples1=triples[0], triples2=triples[1], num_entities1=len(ent[0]), num_entities2=len(ent[1]),
                  num_relations1=len(rel[0]), num_relations2=len(rel[1]), seed_pairs=torch.from_numpy(seeds),
                  test_pairs=torch.from_numpy(test), name=f"dbp15k/{pair}",
                  entity_names1=list(ent[0]), entity_names2=list(ent[1]),
                  relation_names1=list(rel[0]), relation_names2=list(rel[1]))
