"""Training-free baselines for entity alignment: what the graph's shape alone gives away."""

from __future__ import annotations

import torch

from companion.alinet.metrics import evaluate_alignment
from companion.data.kg_pair import KGPair


def degree_features(triples: torch.Tensor, num_entities: int) -> torch.Tensor:
    """Each entity's ``[log(1 + out-degree), log(1 + in-degree)]`` in one KG; (num_entities, 2) float.

    ``triples`` (M, 3) holds ``(head, relation, tail)`` ids below ``num_entities``. The logarithm keeps a
    hub's degree from dominating the city-block distance between two entities.
    """
    triples = torch.as_tensor(triples, dtype=torch.long)
    if triples.ndim != 2 or triples.shape[1] != 3:
        raise ValueError(f"triples must be (M, 3), got {tuple(triples.shape)}")
    if num_entities < 1:
        raise ValueError(f"num_entities must be >= 1, got {num_entities}")
    if len(triples) and (int(triples[:, [0, 2]].min()) < 0 or int(triples[:, [0, 2]].max()) >= num_entities):
        raise ValueError(f"entity ids must lie in [0, {num_entities}), got "
                         f"[{int(triples[:, [0, 2]].min())}, {int(triples[:, [0, 2]].max())}]")
    ones = torch.ones(len(triples))
    out_deg = torch.zeros(num_entities).index_add_(0, triples[:, 0], ones)
    in_deg = torch.zeros(num_entities).index_add_(0, triples[:, 2], ones)
    return torch.stack([out_deg, in_deg], 1).log1p()


def degree_matching(pair: KGPair, pairs: torch.Tensor, ks: tuple[int, ...] = (1, 10)) -> dict[str, float]:
    """Hits@k and MRR of aligning by degree alone: no seeds, no training, nothing learned.

    ``pairs`` (n, 2) are test pairs in ``pair``'s per-KG ids. Each KG1 entity of ``pairs`` is ranked
    against the KG2 entities of ``pairs`` (the candidates every method ranks) by the city-block distance
    of :func:`degree_features`; entities with the same degrees tie, and ties are broken at random
    (expected metrics, as :func:`~companion.alinet.metrics.evaluate_alignment`). A method that does not
    beat this number has learned nothing the degrees do not already say.
    """
    pairs = torch.as_tensor(pairs, dtype=torch.long)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) == 0:
        raise ValueError(f"pairs must be (n, 2) with n >= 1, got {tuple(pairs.shape)}")
    if (pairs < 0).any() or (pairs[:, 0] >= pair.num_entities1).any() or (pairs[:, 1] >= pair.num_entities2).any():
        raise ValueError("pairs must hold KG1 ids in column 0 and KG2 ids in column 1, within each KG's range")
    f1 = degree_features(pair.triples1, pair.num_entities1)
    f2 = degree_features(pair.triples2, pair.num_entities2)
    return evaluate_alignment(f1[pairs[:, 0]], f2[pairs[:, 1]], ks=ks, metric="l1")
