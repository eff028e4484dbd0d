"""DBP15K (Sun et al., 2017, JAPE) from a local folder, in the JAPE / OpenEA file layout.

Download DBP15K yourself (github.com/nju-websoft/JAPE, or the OpenEA release) and point ``root`` (or
``$COMPANION_DATA/dbp15k``) at it. A language pair folder (``zh_en``, ``ja_en``, ``fr_en``) holds
either the JAPE files

* ``ent_ids_1``, ``ent_ids_2``: ``id<TAB>uri`` (ids are global across both KGs),
* ``triples_1``, ``triples_2``: ``head<TAB>relation<TAB>tail`` ids,
* ``ref_ent_ids``: ``id1<TAB>id2`` counterpart pairs (optionally ``sup_ent_ids`` for the seeds),

or the OpenEA files ``rel_triples_1``, ``rel_triples_2`` (``uri<TAB>uri<TAB>uri``) and ``ent_links``.
Without a given seed file, a seeded ``seed_ratio`` share (30%) of the links becomes the seed alignment.
A missing file raises ``FileNotFoundError``; an empty or malformed one (a wrong number of fields, a
non-integer JAPE id, an id listed twice, a link or triple naming an entity its KG does not have) a
``ValueError`` that names the file, the line and the expected format.
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


# What each file must hold, for the error messages (a malformed file names itself and this).
FORMATS = {
    "ent_ids": "one 'id<TAB>uri' line per entity, the id an integer",
    "triples": "'head<TAB>relation<TAB>tail' lines of integer ids",
    "ref_ent_ids": "'id1<TAB>id2' lines of integer ids, id1 from ent_ids_1 and id2 from ent_ids_2",
    "rel_triples": "'head<TAB>relation<TAB>tail' lines of URIs",
    "ent_links": "'uri1<TAB>uri2' lines, uri1 an entity of rel_triples_1 and uri2 one of rel_triples_2",
}


def _rows(path: Path, width: int, kind: str, integers: tuple[int, ...] = ()) -> list[tuple[int, list[str]]]:
    """``(line number, fields)`` of the non-blank lines of ``path``: exactly ``width`` tab-separated
    fields, those at ``integers`` non-negative integers (normalised, so ``007`` is ``7``).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file, the line and
    ``FORMATS[kind]`` for an empty file, a wrong field count or a non-integer id.
    """
    expected = FORMATS[kind]
    if not path.is_file():
        raise FileNotFoundError(f"dbp15k: {path} is missing; expected {expected}. {HINT}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); expected {expected}") from None
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != width:
            raise ValueError(f"{path}:{i}: expected {expected}; got {len(parts)} tab-separated field(s) "
                             f"in {line[:80]!r}")
        for c in integers:
            if not parts[c].strip().isdecimal():
                raise ValueError(f"{path}:{i}: expected {expected}; field {c + 1} is {parts[c]!r}, not an integer id")
            parts[c] = str(int(parts[c]))
        out.append((i, parts))
    if not out:
        raise ValueError(f"{path}: the file is empty; expected {expected}")
    return out


def _entity_ids(path: Path) -> dict[str, int]:
    """JAPE ``ent_ids_k``: each id once; maps the id (as text) to its row in this KG."""
    first: dict[str, int] = {}
    for i, (a, _) in _rows(path, 2, "ent_ids", integers=(0,)):
        if a in first:
            raise ValueError(f"{path}:{i}: id {a} is listed twice (first on line {first[a]}); "
                             f"expected {FORMATS['ent_ids']}")
        first[a] = i
    return {a: k for k, a in enumerate(first)}


def _index(names: list[str]) -> dict[str, int]:
    return {n: i for i, n in enumerate(dict.fromkeys(names))}


def _lookup(index: dict[str, int], key: str, path: Path, line: int, where: str, kind: str) -> int:
    try:
        return index[key]
    except KeyError:
        raise ValueError(f"{path}:{line}: entity {key!r} is unknown to {where}; expected {FORMATS[kind]}") from None


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
    if (folder / "triples_1").is_file():  # JAPE: integer ids, entities listed in ent_ids_k
        ent = [_entity_ids(folder / f"ent_ids_{k}") for k in (1, 2)]
        t_files = [folder / f"triples_{k}" for k in (1, 2)]
        t_raw = [_rows(f, 3, "triples", integers=(0, 1, 2)) for f in t_files]
        where = [f"ent_ids_{k} ({folder / f'ent_ids_{k}'})" for k in (1, 2)]
        links_file, links_kind = folder / "ref_ent_ids", "ref_ent_ids"
        links = _rows(links_file, 2, "ref_ent_ids", integers=(0, 1))
        sup_file = folder / "sup_ent_ids"
        sup = _rows(sup_file, 2, "ref_ent_ids", integers=(0, 1)) if sup_file.is_file() else None
        t_kind = "triples"
    elif (folder / "rel_triples_1").is_file():  # OpenEA: URIs, entities are those of the triples
        t_files = [folder / f"rel_triples_{k}" for k in (1, 2)]
        t_raw = [_rows(f, 3, "rel_triples") for f in t_files]
        ent = [_index([x for _, (h, _, t) in tr for x in (h, t)]) for tr in t_raw]
        where = [f"KG {k} (no triple of {f} names it)" for k, f in zip((1, 2), t_files)]
        links_file, links_kind = folder / "ent_links", "ent_links"
        links = _rows(links_file, 2, "ent_links")
        sup_file, sup = None, None
        t_kind = "rel_triples"
    else:
        raise FileNotFoundError(f"dbp15k: {folder} has neither triples_1 (JAPE) nor rel_triples_1 (OpenEA). {HINT}")
    rel = [_index([r for _, (_, r, _) in tr]) for tr in t_raw]
    triples = [torch.tensor([[_lookup(ent[k], h, t_files[k], i, where[k], t_kind), rel[k][r],
                              _lookup(ent[k], t, t_files[k], i, where[k], t_kind)]
                             for i, (h, r, t) in t_raw[k]], dtype=torch.long) for k in (0, 1)]

    def to_pairs(rows: list[tuple[int, list[str]]], path: Path) -> np.ndarray:
        return np.array([[_lookup(ent[0], a, path, i, where[0], links_kind),
                          _lookup(ent[1], b, path, i, where[1], links_kind)] for i, (a, b) in rows],
                        dtype=np.int64).reshape(-1, 2)

    all_links = to_pairs(links, links_file)
    if sup is not None:
        seeds, test = to_pairs(sup, sup_file), all_links
    else:
        perm = np.random.default_rng(seed).permutation(len(all_links))
        k = int(round(seed_ratio * len(all_links)))
        seeds, test = all_links[perm[:k]], all_links[perm[k:]]
    return KGPair(triples1=triples[0], triples2=triples[1], num_entities1=len(ent[0]), num_entities2=len(ent[1]),
                  num_relations1=len(rel[0]), num_relations2=len(rel[1]), seed_pairs=torch.from_numpy(seeds),
                  test_pairs=torch.from_numpy(test), name=f"dbp15k/{pair}",
                  entity_names1=list(ent[0]), entity_names2=list(ent[1]),
                  relation_names1=list(rel[0]), relation_names2=list(rel[1]))
