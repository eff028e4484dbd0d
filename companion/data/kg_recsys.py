"""``kg_recsys``: a seeded "movie world" for knowledge-graph-aware recommendation (chapter 6).

What is planted
---------------
* **Items and a knowledge graph.** ``n_items`` movies (entity ids ``0 .. n_items-1``, as in the
  KGNN-LS preprocessing, where items keep the first ids) are linked to attribute entities through
  five typed relations: ``film.genre`` (1-3 of 12 genres), ``film.director`` (1 of ~n_items/6),
  ``film.actor`` (3 of ~n_items/3, drawn with a popularity skew), ``film.era`` (1 of 8 decades)
  and ``film.country`` (1 of 10). Triples are ``(movie, relation, attribute)``; the model treats
  the graph as undirected, like the official data loader.
* **User tastes over entities and relations.** Every attribute entity ``a`` has a latent vector
  ``z_a`` and every user a taste vector ``c_u`` (both ``taste_dim``-dimensional, shared structure so
  that tastes are learnable from few interactions). Every user also weighs the five relations
  differently: ``w_u ~ Dirichlet(relation_concentration)`` (a small concentration makes most users
  care about one or two relations: one follows directors, another genres). The utility of movie
  ``i`` is ``s(u, i) = sum_r w_{u,r} * mean_{a in N_r(i)} (<c_u, z_a> / sqrt(taste_dim) + shared_taste q_a)``.
* **Implicit feedback.** User ``u`` watches ``n_u ~ 2 + Poisson(density * n_items)`` movies, drawn
  without replacement with probability proportional to ``pop_i * exp(s(u, i) / temperature)``
  (``pop_i`` log-normal). As in the official ``preprocess.py``, an equal number of unwatched movies
  is drawn uniformly as negatives, so ``ratings`` rows are ``(user, item, label)`` with half ones.
* **Shared acclaim.** Each attribute entity also has a quality ``q_a`` that all users agree on
  (``shared_taste`` scales it: an acclaimed director lifts all of their films), so what other
  users did with a movie's neighbours in the graph says something about a movie nobody rated.

How hard it is
--------------
With the defaults (300 users, 400 movies, ``density=0.05``) each user has ~22 positives and each
movie ~17 interactions, so an embedding per movie is learnable but noisy; lower ``density`` makes
it sparser, and then the attributes that movies share in the graph carry the signal that the
interactions no longer do. That is the setting where the paper says a KG helps most.

This is a teaching instrument, not MovieLens: numbers measured on it are not the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from companion.data._registry import register

RELATIONS = ("film.genre", "film.director", "film.actor", "film.era", "film.country")


@dataclass
class KGRecData:
    """Interactions and a knowledge graph in the KGNN-LS layout.

    ``ratings``: int64 (N, 3) rows ``(user, item, label)`` with label in {0, 1};
    ``kg``: int64 (T, 3) rows ``(head, relation, tail)``; items are entities ``0 .. n_items-1``.
    ``extra`` holds what a generator planted (ground truth) or what a loader read.
    """

    ratings: np.ndarray
    kg: np.ndarray
    n_users: int
    n_items: int
    n_entities: int
    n_relations: int
    relation_names: list[str]
    entity_names: list[str] | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ratings.ndim != 2 or self.ratings.shape[1] != 3:
            raise ValueError(f"ratings must be (N, 3) rows (user, item, label), got shape {self.ratings.shape}")
        if self.kg.ndim != 2 or self.kg.shape[1] != 3:
            raise ValueError(f"kg must be (T, 3) rows (head, relation, tail), got shape {self.kg.shape}")

    def __repr__(self) -> str:
        pos = int(self.ratings[:, 2].sum()) if len(self.ratings) else 0
        return (f"KGRecData(users={self.n_users}, items={self.n_items}, entities={self.n_entities}, "
                f"relations={self.n_relations}, ratings={len(self.ratings)} ({pos} positive), "
                f"triples={len(self.kg)})")


@register("kg_recsys", "generator",
          "movie world: movies, typed attribute relations, users with per-relation tastes; density knob")
def load_kg_recsys(n_users: int = 300, n_items: int = 400, density: float = 0.05, taste_dim: int = 4,
                   relation_concentration: float = 0.3, temperature: float = 0.15, shared_taste: float = 0.7,
                   seed: int = 0) -> KGRecData:
    """Generate the movie world (see the module docstring for what is planted).

    ``extra`` holds the ground truth: ``user_relation_weights`` (n_users, 5), ``item_attributes``
    (relation name -> list of attribute-entity ids per movie), ``utility`` (n_users, n_items).
    """
    if n_users < 2 or n_items < 20:
        raise ValueError(f"need n_users >= 2 and n_items >= 20, got {n_users} and {n_items}")
    if not 0.0 < density <= 0.5:
        raise ValueError(f"density must be in (0, 0.5] (share of movies a user watches), got {density}")
    if temperature <= 0 or relation_concentration <= 0 or taste_dim < 1:
        raise ValueError("temperature and relation_concentration must be > 0 and taste_dim >= 1, got "
                         f"{temperature}, {relation_concentration}, {taste_dim}")
    rng = np.random.default_rng(seed)
    sizes = {"film.genre": 12, "film.director": max(4, n_items // 6), "film.actor": max(6, n_items // 3),
             "film.era": 8, "film.country": 10}
    # attribute entities get ids after the movies, relation by relation
    offsets, start = {}, n_items
    entity_names = [f"movie:{i}" for i in range(n_items)]
    for rel in RELATIONS:
        offsets[rel] = start
        entity_names += [f"{rel.split('.')[1]}:{k}" for k in range(sizes[rel])]
        start += sizes[rel]
    n_entities = start

    actor_pop = rng.pareto(1.5, sizes["film.actor"]) + 1.0
    attrs: dict[str, list[np.ndarray]] = {rel: [] for rel in RELATIONS}
    for _ in range(n_items):
        attrs["film.genre"].append(rng.choice(sizes["film.genre"], size=rng.integers(1, 4), replace=False))
        attrs["film.director"].append(rng.choice(sizes["film.director"], size=1))
        attrs["film.actor"].append(rng.choice(sizes["film.actor"], size=3, replace=False,
                                              p=actor_pop / actor_pop.sum()))
        attrs["film.era"].append(rng.choice(sizes["film.era"], size=1))
        attrs["film.country"].append(rng.choice(sizes["film.country"], size=1))
    kg = np.array([(i, r, offsets[rel] + a) for r, rel in enumerate(RELATIONS)
                   for i in range(n_items) for a in attrs[rel][i]], dtype=np.int64)

    z = rng.standard_normal((n_entities, taste_dim))       # attribute-entity latent vectors
    c = rng.standard_normal((n_users, taste_dim))          # user taste vectors
    w = rng.dirichlet(np.full(len(RELATIONS), relation_concentration), size=n_users)
    quality = rng.standard_normal(n_entities)              # acclaim every user agrees on
    pref = c @ z.T / np.sqrt(taste_dim) + shared_taste * quality  # (n_users, n_entities)
    per_relation = np.zeros((len(RELATIONS), n_users, n_items))
    for r, rel in enumerate(RELATIONS):
        for i in range(n_items):
            per_relation[r, :, i] = pref[:, offsets[rel] + attrs[rel][i]].mean(axis=1)
    utility = np.einsum("ur,rui->ui", w, per_relation)
    popularity = rng.lognormal(0.0, 0.3, n_items)

    rows = []
    for u in range(n_users):
        n_pos = min(2 + rng.poisson(density * n_items), n_items // 2)
        logits = utility[u] / temperature + np.log(popularity)
        p = np.exp(logits - logits.max())
        pos = rng.choice(n_items, size=n_pos, replace=False, p=p / p.sum())
        unwatched = np.setdiff1d(np.arange(n_items), pos)
        neg = rng.choice(unwatched, size=n_pos, replace=False)
        rows += [(u, i, 1) for i in pos] + [(u, i, 0) for i in neg]
    ratings = np.array(rows, dtype=np.int64)
    ratings = ratings[rng.permutation(len(ratings))]
    return KGRecData(
        ratings=ratings, kg=kg, n_users=n_users, n_items=n_items, n_entities=n_entities,
        n_relations=len(RELATIONS), relation_names=list(RELATIONS), entity_names=entity_names,
        extra={"user_relation_weights": w, "utility": utility, "popularity": popularity,
               "attribute_quality": quality, "item_attributes": {rel: [offsets[rel] + a for a in attrs[rel]] for rel in RELATIONS},
               "density": density, "seed": seed},
    )
