"""AliNet's training objective: margin-based alignment loss with negative sampling, and the relation loss."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def alignment_loss(emb: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, margin: float = 1.5,
                   neg_param: float = 0.1) -> torch.Tensor:
    r"""AliNet Eq. (8) (``compute_loss`` in the official code), divided by the number of seed pairs.

    :math:`\big(\sum_{(i,j)\in\text{pos}} \lVert e_i - e_j\rVert^2 + \lambda \sum_{(i',j')\in\text{neg}}
    [\gamma - \lVert e_{i'} - e_{j'}\rVert^2]_+\big) / |\text{pos}|` with margin :math:`\gamma` and
    :math:`\lambda` = ``neg_param``. ``emb``: (N, d) joint embeddings; ``pos``: (P, 2), ``neg``: (Q, 2) joint ids.
    """
    if pos.ndim != 2 or pos.shape[1] != 2 or neg.ndim != 2 or neg.shape[1] != 2:
        raise ValueError(f"pos and neg must be (P, 2) and (Q, 2) id pairs, got {tuple(pos.shape)} and {tuple(neg.shape)}")
    if margin <= 0 or neg_param < 0:
        raise ValueError(f"margin must be > 0 and neg_param >= 0, got {margin} and {neg_param}")
    d_pos = (emb[pos[:, 0]] - emb[pos[:, 1]]).pow(2).sum(1)
    d_neg = (emb[neg[:, 0]] - emb[neg[:, 1]]).pow(2).sum(1)
    return (d_pos.sum() + neg_param * torch.relu(margin - d_neg).sum()) / len(pos)


def relation_loss(emb: torch.Tensor, triples: torch.Tensor, num_relations: int) -> torch.Tensor:
    r"""AliNet's relation loss (Eq. (9), ``compute_rel_loss``): translation :math:`h - t \approx r`.

    Each relation vector is the L2-normalised mean of :math:`h - t` over its triples (no parameters),
    and the loss is the mean of :math:`\lVert h - t - r\rVert^2` over ``triples`` (M, 3) in joint ids.
    """
    if triples.ndim != 2 or triples.shape[1] != 3:
        raise ValueError(f"triples must be (M, 3), got {tuple(triples.shape)}")
    diff = emb[triples[:, 0]] - emb[triples[:, 2]]
    rel = triples[:, 1]
    sums = diff.new_zeros(num_relations, diff.shape[1]).index_add_(0, rel, diff)
    r = F.normalize(sums, dim=1)
    return (diff - r[rel]).pow(2).sum(1).mean()


@torch.no_grad()
def sample_negatives(emb: torch.Tensor, pos: torch.Tensor, num_entities1: int, neg_multi: int = 10,
                     kind: str = "truncated", epsilon: float = 0.9,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Negative pairs for the seed pairs ``pos`` (P, 2) in joint ids (KG1 ids < ``num_entities1`` <= KG2 ids).

    For each seed pair ``(i, j)`` we corrupt each side ``neg_multi`` times: ``(i, j')`` with ``j'``
    from KG2 and ``(i', j)`` with ``i'`` from KG1. ``kind="uniform"`` draws from the whole other KG;
    ``kind="truncated"`` (BootEA/AliNet) draws from the ``ceil((1 - epsilon) * n)`` nearest entities
    of the other KG by cosine, i.e. hard negatives. Corruptions equal to the true match are dropped.
    Returns (Q, 2), Q <= 2 * P * neg_multi.
    """
    if kind not in ("truncated", "uniform"):
        raise ValueError(f"kind must be 'truncated' or 'uniform', got {kind!r}")
    if neg_multi < 1 or not 0.0 <= epsilon < 1.0:
        raise ValueError(f"neg_multi must be >= 1 and epsilon in [0, 1), got {neg_multi} and {epsilon}")
    n1, n = num_entities1, emb.shape[0]
    out = []
    for side, lo, hi in ((0, n1, n), (1, 0, n1)):
        anchor = pos[:, side]
        size = hi - lo
        if kind == "uniform":
            cand = lo + torch.randint(0, size, (len(pos), neg_multi), generator=generator).to(pos.device)
        else:
            k = max(1, math.ceil((1.0 - epsilon) * size))
            e = F.normalize(emb, dim=1)
            near = torch.cat([(e[anchor[i:i + 1024]] @ e[lo:hi].T).topk(k, 1).indices
                              for i in range(0, len(anchor), 1024)])
            pick = torch.randint(0, k, (len(pos), neg_multi), generator=generator).to(near.device)
            cand = lo + near.gather(1, pick)
        true = pos[:, 1 - side][:, None].expand_as(cand)
        keep = cand != true
        a = anchor[:, None].expand_as(cand)[keep]
        c = cand[keep]
        out.append(torch.stack([a, c], 1) if side == 0 else torch.stack([c, a], 1))
    return torch.cat(out)


def gcn_align_loss(emb: torch.Tensor, pos: torch.Tensor, neg_right: torch.Tensor, neg_left: torch.Tensor,
                   margin: float = 3.0) -> torch.Tensor:
    r"""GCN-Align's margin-ranking loss (``get_loss`` in its code) with the L1 distance.

    For a seed pair :math:`(l, r)` and its corruptions :math:`(l, r')` (``neg_right``, (P, k) ids) and
    :math:`(l', r)` (``neg_left``, (P, k)):
    :math:`\sum [\lVert e_l - e_r\rVert_1 + \gamma - \lVert e_l - e_{r'}\rVert_1]_+ + \sum [\,\cdot\,, (l', r)]_+`,
    divided by :math:`2kP`. ``emb``: (N, d); ``pos``: (P, 2) joint ids.
    """
    if pos.ndim != 2 or pos.shape[1] != 2:
        raise ValueError(f"pos must be (P, 2) id pairs, got {tuple(pos.shape)}")
    if neg_right.shape != neg_left.shape or neg_right.ndim != 2 or neg_right.shape[0] != len(pos):
        raise ValueError(f"neg_right and neg_left must both be (P, k) with P = {len(pos)}, got "
                         f"{tuple(neg_right.shape)} and {tuple(neg_left.shape)}")
    if margin <= 0:
        raise ValueError(f"margin must be > 0, got {margin}")
    left, right = emb[pos[:, 0]], emb[pos[:, 1]]
    d_pos = (left - right).abs().sum(1)[:, None]
    d_r = (left[:, None, :] - emb[neg_right]).abs().sum(-1)
    d_l = (emb[neg_left] - right[:, None, :]).abs().sum(-1)
    k = neg_right.shape[1]
    return (torch.relu(d_pos + margin - d_r).sum() + torch.relu(d_pos + margin - d_l).sum()) / (2.0 * k * len(pos))


def sample_uniform_corruptions(pos: torch.Tensor, num_entities: int, k: int = 25,
                               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """GCN-Align's negatives: ``k`` uniform entity ids (from both KGs, as its ``np.random.choice(e)``) per side.

    Returns ``(neg_right, neg_left)``, each (P, k) for the P seed pairs ``pos``.
    """
    if k < 1 or num_entities < 2:
        raise ValueError(f"k must be >= 1 and num_entities >= 2, got {k} and {num_entities}")
    shape = (len(pos), k)
    # drawn on the CPU (a CPU generator), then put beside the pairs
    return (torch.randint(0, num_entities, shape, generator=generator).to(pos.device),
            torch.randint(0, num_entities, shape, generator=generator).to(pos.device))
