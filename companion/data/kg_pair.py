"""Two views of one knowledge graph for entity alignment (AliNet, chapter 4).

``kg_pair`` takes a real KG that ships inside ``pykeen`` (``umls``: 135 entities, 46 relations,
6,529 triples; ``kinships``: 104 entities, 25 relations, 10,686 triples; the text files are read
directly, pykeen is not imported) and builds two *views* of it, the way two independently edited
KGs (DBpedia in Chinese and in English) describe the same world:

* **Schema heterogeneity** (always on): view 2 speaks its own relation vocabulary. A quarter of
  the relations are *split* in two (which half a triple gets depends on its head entity), another
  quarter are *merged* in pairs, and entity ids are shuffled in both views.
* **Non-isomorphic neighbourhoods** (the ``noise`` knob, 0..1): in each view independently, each
  triple is altered with probability ``noise``. An altered triple ``(h, r, t)`` is either dropped
  (probability ``1 - detour``) or *rerouted* through a view-only intermediate entity ``x(h, r)``
  (one per head and relation, like Freebase's compound-value nodes): ``(h, r, x), (x, r', t)``.
  A rerouted neighbour is then two hops away in one view and one hop away in the other, which is
  the situation of AliNet's Figure 1 that distant-neighbour aggregation is built for. Dropped
  triples make the one-hop neighbourhoods of counterparts differ without any two-hop remedy.
  ``noise = 0`` gives two isomorphic views (up to relation names and ids).

Every entity of the base KG has a counterpart in the other view; a seeded ``seed_ratio`` share
(30%, the DBP15K protocol) of the counterpart pairs is the seed alignment, the rest is the test set.
Intermediate entities have no counterpart and are never in a test pair.

``kg_pair_synthetic`` plants the same two views on a generated power-law KG at DBP15K scale
(15,000 counterparts, ~7 triples per entity, Zipf-distributed relations) for timing runs.
It is a teaching instrument with the sizes of DBP15K, not DBP15K.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from companion.data._registry import package_dir, register

PYKEEN_KGS = ("umls", "kinships", "nations")


@dataclass
class KGPair:
    """Two KGs and their alignment; ids are per KG (``0..num_entities1-1`` and ``0..num_entities2-1``).

    ``triples1``/``triples2``: (M, 3) long tensors of ``(head, relation, tail)``.
    ``seed_pairs``/``test_pairs``: (K, 2) long tensors ``(entity in KG1, counterpart in KG2)``.
    """

    triples1: torch.Tensor
    triples2: torch.Tensor
    num_entities1: int
    num_entities2: int
    num_relations1: int
    num_relations2: int
    seed_pairs: torch.Tensor
    test_pairs: torch.Tensor
    name: str = "kg_pair"
    entity_names1: list[str] = field(default_factory=list, repr=False)
    entity_names2: list[str] = field(default_factory=list, repr=False)
    relation_names1: list[str] = field(default_factory=list, repr=False)
    relation_names2: list[str] = field(default_factory=list, repr=False)

    def __repr__(self) -> str:
        return (f"KGPair({self.name!r}: KG1 {self.num_entities1} entities / {self.num_relations1} relations / "
                f"{len(self.triples1)} triples, KG2 {self.num_entities2} / {self.num_relations2} / "
                f"{len(self.triples2)}, {len(self.seed_pairs)} seed pairs, {len(self.test_pairs)} test pairs)")


def read_pykeen_triples(name: str) -> tuple[np.ndarray, list[str], list[str]]:
    """All unique triples of pykeen's bundled ``name`` KG (train+valid+test) as ids, with the vocabularies."""
    if name not in PYKEEN_KGS:
        raise ValueError(f"base must be one of {PYKEEN_KGS}, got {name!r}")
    folder = package_dir("pykeen") / "datasets" / name
    rows: set[tuple[str, str, str]] = set()
    for split in ("train", "valid", "test"):
        path = Path(folder) / f"{split}.txt"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: reinstall pykeen: pip install --force-reinstall pykeen (a chapters extra of mlbook-companion)")
        for line in path.read_text().splitlines():
            parts = line.strip().split("\t")
            if len(parts) == 3:
                rows.add((parts[0], parts[1], parts[2]))
    ordered = sorted(rows)
    entities = sorted({h for h, _, _ in ordered} | {t for _, _, t in ordered})
    relations = sorted({r for _, r, _ in ordered})
    e_id = {e: i for i, e in enumerate(entities)}
    r_id = {r: i for i, r in enumerate(relations)}
    arr = np.array([(e_id[h], r_id[r], e_id[t]) for h, r, t in ordered], dtype=np.int64)
    return arr, entities, relations


def _perturb(triples: np.ndarray, n_ent: int, n_rel: int, noise: float, detour: float,
             rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
    """One view: drop or reroute a ``noise`` share of triples. Returns (triples, n_entities, n_relations).

    Rerouted triples use intermediate entities ``n_ent + k`` and second-leg relations ``n_rel + r``.
    """
    m = len(triples)
    altered = rng.random(m) < noise
    reroute = altered & (rng.random(m) < detour)
    kept = triples[~altered]
    moved = triples[reroute]
    if len(moved) == 0:
        return kept, n_ent, n_rel
    key = moved[:, 0] * n_rel + moved[:, 1]
    uniq, inv = np.unique(key, return_inverse=True)
    mid = n_ent + inv
    leg1 = np.stack([moved[:, 0], moved[:, 1], mid], 1)
    leg2 = np.stack([mid, n_rel + moved[:, 1], moved[:, 2]], 1)
    out = np.unique(np.concatenate([kept, leg1, leg2]), axis=0)
    return out, n_ent + len(uniq), 2 * n_rel


def _rename_relations(triples: np.ndarray, n_rel: int, rng: np.random.Generator) -> tuple[np.ndarray, int, np.ndarray]:
    """View 2's vocabulary: a quarter of relations split (by head parity of a random hash), a quarter merged in pairs.

    Returns the renamed triples, the new number of relations and, per new id, one source relation id.
    """
    order = rng.permutation(n_rel)
    q = n_rel // 4
    split, merge = order[:q], order[q:q + 2 * (q // 2)]
    target = np.arange(n_rel)  # provisional new id before compaction
    target[merge[1::2]] = merge[0::2]  # merged pairs share the first one's name
    new_rel = target[triples[:, 1]]
    head_bit = rng.integers(0, 2, size=int(triples[:, [0, 2]].max()) + 1)
    is_split = np.isin(triples[:, 1], split) & (head_bit[triples[:, 0]] == 1)
    new_rel = np.where(is_split, n_rel + triples[:, 1], new_rel)
    used, compact = np.unique(new_rel, return_inverse=True)
    source = np.where(used >= n_rel, used - n_rel, used)
    out = triples.copy()
    out[:, 1] = compact
    return out, len(used), source


def make_views(triples: np.ndarray, n_ent: int, n_rel: int, noise: float, detour: float, seed: int,
               seed_ratio: float, name: str, entity_names: list[str] | None = None,
               relation_names: list[str] | None = None) -> KGPair:
    """Two perturbed, renamed and shuffled views of ``triples`` with a seed/test split (see module doc)."""
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be in [0, 1], got {noise}")
    if not 0.0 <= detour <= 1.0:
        raise ValueError(f"detour must be in [0, 1], got {detour}")
    if not 0.0 < seed_ratio < 1.0:
        raise ValueError(f"seed_ratio must be in (0, 1), got {seed_ratio}")
    rng = np.random.default_rng(seed)
    t1, n1, r1 = _perturb(triples, n_ent, n_rel, noise, detour, rng)
    t2, n2, r2 = _perturb(triples, n_ent, n_rel, noise, detour, rng)
    t2, r2_new, rel_source = _rename_relations(t2, r2, rng)
    perm1, perm2 = rng.permutation(n1), rng.permutation(n2)
    t1 = np.stack([perm1[t1[:, 0]], t1[:, 1], perm1[t1[:, 2]]], 1)
    t2 = np.stack([perm2[t2[:, 0]], t2[:, 1], perm2[t2[:, 2]]], 1)
    # only counterparts that appear in both views can be aligned from structure
    present = np.zeros(n_ent, bool)
    seen1 = np.zeros(n1, bool); seen1[t1[:, [0, 2]].ravel()] = True
    seen2 = np.zeros(n2, bool); seen2[t2[:, [0, 2]].ravel()] = True
    present = seen1[perm1[:n_ent]] & seen2[perm2[:n_ent]]
    ids = rng.permutation(np.flatnonzero(present))
    pairs = np.stack([perm1[ids], perm2[ids]], 1)
    k = int(round(seed_ratio * len(pairs)))

    def names(perm: np.ndarray, n: int, base: list[str] | None) -> list[str]:
        out = [""] * n
        for old in range(n):
            out[perm[old]] = (base[old] if base is not None and old < n_ent else
                              (f"e{old}" if old < n_ent else f"_x{old - n_ent}"))
        return out

    rel_names = relation_names or [f"r{i}" for i in range(n_rel)]
    rn1 = [rel_names[i] if i < n_rel else rel_names[i - n_rel] + "_leg2" for i in range(r1)]
    rn2 = [f"v2:{rel_names[s % n_rel]}" + ("_leg2" if s >= n_rel else "") + f"#{i}" for i, s in enumerate(rel_source)]
    return KGPair(
        triples1=torch.from_numpy(t1.astype(np.int64)), triples2=torch.from_numpy(t2.astype(np.int64)),
        num_entities1=int(n1), num_entities2=int(n2), num_relations1=int(r1), num_relations2=int(r2_new),
        seed_pairs=torch.from_numpy(pairs[:k].astype(np.int64)),
        test_pairs=torch.from_numpy(pairs[k:].astype(np.int64)), name=name,
        entity_names1=names(perm1, n1, entity_names), entity_names2=names(perm2, n2, entity_names),
        relation_names1=rn1, relation_names2=rn2)


@register("kg_pair", "package",
          "two views of pykeen's real UMLS/Kinships KG for entity alignment; noise = non-isomorphic neighbourhoods")
def load_kg_pair(base: str = "umls", noise: float = 0.3, detour: float = 0.5, seed: int = 0,
                 seed_ratio: float = 0.3) -> KGPair:
    """Two views of a real pykeen KG (``umls`` or ``kinships``) with a 30/70 seed/test split.

    ``noise`` is the probability that a triple is altered in a view; an altered triple is
    rerouted through a view-only intermediate entity with probability ``detour``, else dropped.
    """
    triples, entities, relations = read_pykeen_triples(base)
    return make_views(triples, len(entities), len(relations), noise, detour, seed, seed_ratio,
                      name=f"kg_pair/{base}/noise={noise:g}", entity_names=entities, relation_names=relations)


def power_law_kg(num_entities: int, triples_per_entity: float, num_relations: int, exponent: float,
                 rng: np.random.Generator) -> np.ndarray:
    """A Chung–Lu KG: endpoints drawn with probability proportional to Pareto weights; Zipf relations."""
    m = int(num_entities * triples_per_entity)
    w = (1.0 - rng.random(num_entities)) ** (-1.0 / (exponent - 1.0))
    w = np.minimum(w, w.sum() ** 0.5)  # cap hubs so that two-hop neighbourhoods stay sparse-ish
    p = w / w.sum()
    h = rng.choice(num_entities, size=m, p=p)
    t = rng.choice(num_entities, size=m, p=p)
    zipf = 1.0 / np.arange(1, num_relations + 1)
    r = rng.choice(num_relations, size=m, p=zipf / zipf.sum())
    tri = np.stack([h, r, t], 1)
    tri = tri[tri[:, 0] != tri[:, 2]]
    return np.unique(tri, axis=0)


@register("kg_pair_synthetic", "generator",
          "seeded power-law KG pair at DBP15K scale (15k counterparts) for timing entity alignment")
def load_kg_pair_synthetic(num_counterparts: int = 15000, triples_per_entity: float = 4.5,
                           num_relations: int = 500, exponent: float = 2.5, noise: float = 0.3,
                           detour: float = 0.5, seed: int = 0, seed_ratio: float = 0.3) -> KGPair:
    """Two views (as in ``kg_pair``) of a seeded power-law KG with ``num_counterparts`` entities.

    Defaults give about 15k counterparts and roughly 70k triples per view, DBP15K's order of size.
    """
    if num_counterparts < 10:
        raise ValueError(f"num_counterparts must be >= 10, got {num_counterparts}")
    if triples_per_entity <= 0 or num_relations < 1 or exponent <= 1.0:
        raise ValueError("triples_per_entity must be > 0, num_relations >= 1 and exponent > 1, got "
                         f"{triples_per_entity}, {num_relations}, {exponent}")
    rng = np.random.default_rng(seed)
    triples = power_law_kg(num_counterparts, triples_per_entity, num_relations, exponent, rng)
    return make_views(triples, num_counterparts, num_relations, noise, detour, seed + 1, seed_ratio,
                      name=f"kg_pair_synthetic/{num_counterparts}/noise={noise:g}")
