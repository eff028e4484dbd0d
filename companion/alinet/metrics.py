"""Ranking metrics for entity alignment: Hits@k and MRR by nearest-neighbour search, optionally with CSLS."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def ranking_metrics(sim: torch.Tensor, ks: tuple[int, ...] = (1, 10)) -> dict[str, float]:
    r"""Hits@k and MRR from a similarity matrix whose correct match of row ``i`` is column ``i``.

    ``sim``: (n, m) with m >= n. With :math:`g_i` candidates scored strictly higher than the match and
    :math:`t_i` others scored the same, the match's rank is :math:`1 + g_i + U` with :math:`U` uniform on
    :math:`\{0, \dots, t_i\}`: ties are broken at random, and the metrics are their expectations
    (:func:`expected_hits_mrr`). So a model that gives every candidate the same score gets exactly the
    chance level, not a perfect score. Returns ``{"hits@1": ..., "hits@10": ..., "mrr": ...}``.
    """
    if sim.ndim != 2 or sim.shape[0] > sim.shape[1] or sim.shape[0] == 0:
        raise ValueError(f"sim must be (n, m) with 1 <= n <= m and the match of row i in column i, got {tuple(sim.shape)}")
    if any(int(k) < 1 for k in ks):
        raise ValueError(f"every k must be >= 1, got {ks}")
    higher, tied = higher_and_tied(sim, torch.arange(sim.shape[0], device=sim.device))
    return expected_hits_mrr(higher, tied, ks)


def higher_and_tied(block: torch.Tensor, cols: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row ``i`` of ``block`` (b, m): the number of scores above ``block[i, cols[i]]`` and of *other* equal ones."""
    diag = block[torch.arange(len(block), device=block.device), cols][:, None]
    return (block > diag).sum(1), (block == diag).sum(1) - 1


def expected_hits_mrr(higher: torch.Tensor, tied: torch.Tensor, ks: tuple[int, ...] = (1, 10)) -> dict[str, float]:
    r"""Expected Hits@k and MRR when the match's rank is :math:`1 + g + U`, :math:`U` uniform on :math:`\{0..t\}`.

    ``higher`` (n,) holds :math:`g`, ``tied`` (n,) :math:`t`. Hits@k of a row is
    :math:`\mathrm{clip}((k - g) / (t + 1), 0, 1)`; its reciprocal rank is
    :math:`(H_{g+t+1} - H_g) / (t + 1)` with the harmonic numbers :math:`H` (digamma differences).
    Without ties this is the plain rank :math:`1 + g`.
    """
    g, t = higher.double(), tied.double()
    out = {f"hits@{int(k)}": ((int(k) - g) / (t + 1)).clamp(0.0, 1.0).mean().item() for k in ks}
    rr = (torch.special.digamma(g + t + 2) - torch.special.digamma(g + 1)) / (t + 1)
    out["mrr"] = rr.mean().item()
    return out


def ranks_of_matches(sim: torch.Tensor) -> torch.Tensor:
    """Optimistic 1-based rank of ``sim[i, i]`` in row ``i`` (ties in the match's favour); (n,) long.

    :func:`ranking_metrics` does not use it: it breaks ties at random (see there).
    """
    diag = sim.diagonal()[:, None]
    return 1 + (sim > diag).sum(1)


def csls(sim: torch.Tensor, k: int = 10, mean_left: torch.Tensor | None = None,
         mean_right: torch.Tensor | None = None) -> torch.Tensor:
    r"""Cross-domain similarity local scaling (Lample et al., 2018), used by AliNet's test with ``k = 10``.

    :math:`\mathrm{CSLS}(x, y) = 2\cos(x, y) - r(x) - r(y)` where :math:`r` is the mean similarity to the
    ``k`` nearest neighbours in the other KG. It lowers the score of "hub" entities close to everything.
    ``mean_left`` (n,) / ``mean_right`` (m,) may be passed when ``sim`` is only a row block.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if mean_left is None:
        mean_left = sim.topk(min(k, sim.shape[1]), dim=1).values.mean(1)
    if mean_right is None:
        mean_right = sim.topk(min(k, sim.shape[0]), dim=0).values.mean(0)
    return 2 * sim - mean_left[:, None] - mean_right[None, :]


@torch.no_grad()
def evaluate_alignment(emb1: torch.Tensor, emb2: torch.Tensor, ks: tuple[int, ...] = (1, 10),
                       csls_k: int = 0, batch_size: int = 2048, metric: str = "cosine") -> dict[str, float]:
    """Hits@k and MRR of aligning ``emb1[i]`` to ``emb2[i]`` among all rows of ``emb2``.

    ``emb1``, ``emb2``: (n, d) test entities of KG1 and their counterparts in KG2, in the same order.
    ``metric="cosine"`` ranks by cosine similarity (AliNet); ``"l1"`` by the negative city-block distance
    of the raw vectors (GCN-Align's ``get_hits``). Ties are broken at random, as in :func:`ranking_metrics`
    (expected values). Exact, computed ``batch_size`` rows at a time
    (memory O(batch_size * n)). ``csls_k > 0`` ranks by CSLS (cosine only).
    """
    if emb1.ndim != 2 or emb1.shape != emb2.shape:
        raise ValueError(f"emb1 and emb2 must both be (n, d) of the same shape, got {tuple(emb1.shape)} and {tuple(emb2.shape)}")
    if metric not in ("cosine", "l1"):
        raise ValueError(f"metric must be 'cosine' or 'l1', got {metric!r}")
    if metric == "l1" and csls_k > 0:
        raise ValueError("csls_k > 0 needs metric='cosine'")
    if metric == "l1":
        e1, e2 = emb1, emb2
    else:
        e1, e2 = F.normalize(emb1, dim=1), F.normalize(emb2, dim=1)
    n = len(e1)
    mean_left = mean_right = None
    if csls_k > 0:
        k = min(csls_k, n)
        mean_left = torch.cat([(e1[i:i + batch_size] @ e2.T).topk(k, 1).values.mean(1) for i in range(0, n, batch_size)])
        mean_right = torch.cat([(e2[i:i + batch_size] @ e1.T).topk(k, 1).values.mean(1) for i in range(0, n, batch_size)])
    higher, tied = [], []
    for i in range(0, n, batch_size):
        block = -torch.cdist(e1[i:i + batch_size], e2, p=1) if metric == "l1" else e1[i:i + batch_size] @ e2.T
        if csls_k > 0:
            block = csls(block, csls_k, mean_left[i:i + batch_size], mean_right)
        g, t = higher_and_tied(block, torch.arange(i, i + len(block), device=block.device))
        higher.append(g); tied.append(t)
    # ties broken at random (expected metrics): a collapsed model, whose scores are all equal, gets chance
    return expected_hits_mrr(torch.cat(higher), torch.cat(tied), ks)
