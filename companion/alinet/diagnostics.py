"""Diagnostics: what AliNet's layers, gates and gradients do (:func:`diagnose`), and why a GCN-Align built
from AliNet's parts sits at chance (:func:`train_baseline`).

:func:`diagnose` takes a trained :class:`~companion.alinet.model.AliNet` and reports, per part of its
representation (the input embeddings, each layer's one-hop, distant and gated outputs, and the
concatenation that AliNet ranks by), how large the vectors are, how much of them is a direction
shared by all entities, their effective rank, and the Hits@1 of that part alone on given pairs;
then the gate values, the spread of the attention weights and the gradient of the alignment loss
on the input embeddings of seed and non-seed entities.

:func:`train_baseline` switches a naive baseline's differences from GCN-Align's code one at a time.

A GCN-Align assembled from AliNet's parts (``OLD_BASELINE``) differs from GCN-Align's code (``include/Model.py``) in five
ways: full weight matrices instead of diagonal ones, free Xavier inputs instead of L2-normalised
truncated-normal ones, the plain :math:`\\hat A` instead of the functionality-weighted adjacency, AliNet's
loss (squared distances of L2-normalised outputs, margin 3, 10 hard negatives, cosine ranking) instead
of GCN-Align's L1 margin ranking with 25 uniform negatives, and Adam at 0.01 instead of SGD at 25.
:func:`train_baseline` trains one combination of them (fixed epochs, no validation).
"""

from __future__ import annotations

import math

import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from companion.alinet.layers import attention_scores, batch_standardize
from companion.alinet.losses import alignment_loss, gcn_align_loss, sample_negatives, sample_uniform_corruptions
from companion.alinet.metrics import evaluate_alignment
from companion.alinet.model import AliNet
from companion.alinet.training import AlignInputs
from companion.utils import seed_everything

OLD_BASELINE = {"layers": "full", "input_norm": False, "adjacency": "plain", "loss": "alinet", "optimizer": "adam"}
GCN_ALIGN_CODE = {"layers": "diagonal", "input_norm": True, "adjacency": "functionality", "loss": "ranking",
                  "optimizer": "sgd"}
CHOICES = {"layers": ("full", "diagonal"), "input_norm": (False, True), "adjacency": ("plain", "functionality"),
           "loss": ("alinet", "ranking"), "optimizer": ("adam", "sgd")}


def train_baseline(inputs: AlignInputs, *, layers: str, input_norm: bool, adjacency: str, loss: str, optimizer: str,
                   epochs: int = 150, dim: int = 64, seed: int = 0) -> dict[str, float]:
    """Train a two-layer GCN baseline with the given switches on ``inputs.seeds``; test Hits@1/10 and MRR.

    ``layers``: ``"full"`` (d x d matrices, Glorot) or ``"diagonal"`` (vectors of ones); ``input_norm``:
    L2-normalised truncated-normal inputs (else free Xavier ones); ``adjacency``: ``"plain"`` (AliNet's
    enhanced :math:`\\hat A`) or ``"functionality"``; ``loss``: ``"alinet"`` (margin 3 on squared distances of
    normalised outputs, weight 0.1, 10 negatives, uniform then truncated every 10 epochs, cosine ranking) or
    ``"ranking"`` (GCN-Align's, L1); ``optimizer``: ``"adam"`` (0.01) or ``"sgd"`` (25).
    """
    for key, value in dict(layers=layers, input_norm=input_norm, adjacency=adjacency, loss=loss,
                           optimizer=optimizer).items():
        if value not in CHOICES[key]:
            raise ValueError(f"{key} must be one of {CHOICES[key]}, got {value!r}")
    gen = seed_everything(seed)
    n = inputs.n1 + inputs.n2
    adj = inputs.adj if adjacency == "plain" else inputs.gcn_align_adj
    emb = torch.empty(n, dim)
    if input_norm:
        nn.init.trunc_normal_(emb, std=1 / math.sqrt(n), a=-2 / math.sqrt(n), b=2 / math.sqrt(n))
    else:
        nn.init.xavier_uniform_(emb)
    bound = math.sqrt(3.0 / dim)
    weights = [torch.empty(dim, dim).uniform_(-bound, bound) if layers == "full" else torch.ones(dim)
               for _ in range(2)]
    params = [nn.Parameter(emb), *[nn.Parameter(w) for w in weights]]
    opt = torch.optim.Adam(params, lr=0.01) if optimizer == "adam" else torch.optim.SGD(params, lr=25.0)

    def forward() -> torch.Tensor:
        x = F.normalize(params[0], dim=1) if input_norm else params[0]
        for i, w in enumerate(params[1:]):
            x = torch.sparse.mm(adj, x @ w if layers == "full" else x * w)
            x = torch.relu(x) if i == 0 else x
        return x

    neg = None
    for epoch in range(epochs):
        out = forward()
        if loss == "alinet":
            if epoch % 10 == 0:
                with torch.no_grad():
                    e = F.normalize(out, dim=1) if epoch else torch.zeros(n, 1)
                neg = sample_negatives(e, inputs.seeds, inputs.n1, 10, "truncated" if epoch else "uniform", 0.9,
                                       generator=gen)
            value = alignment_loss(F.normalize(out, dim=1), inputs.seeds, neg, 3.0, 0.1)
        else:
            if epoch % 10 == 0:
                neg = sample_uniform_corruptions(inputs.seeds, n, 25, generator=gen)
            value = gcn_align_loss(out, inputs.seeds, neg[0], neg[1], 3.0)
        opt.zero_grad()
        value.backward()
        opt.step()
    with torch.no_grad():
        out = forward()
    return evaluate_alignment(out[inputs.test[:, 0]], out[inputs.test[:, 1]],
                              metric="cosine" if loss == "alinet" else "l1")


def effective_rank(h: torch.Tensor) -> float:
    r"""Effective rank (Roy & Vetterli, 2007) of the centred rows of ``h`` (N, d): :math:`\exp(-\sum_k p_k \log p_k)`.

    :math:`p_k = s_k / \sum s` over the singular values of :math:`h - \bar h`; d for isotropic rows, 1 when
    they vary along one direction only, 0 when all rows are equal.
    """
    s = torch.linalg.svdvals((h - h.mean(0)).detach().double())
    if s.sum() <= 1e-12 * max(1.0, float(h.detach().abs().max())):
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def _part_row(h: torch.Tensor, pairs: torch.Tensor) -> dict[str, float]:
    h = h.detach()
    mean_dir = F.normalize(h, dim=1).mean(0)
    return {"mean norm": float(h.norm(dim=1).mean()),
            # |mean of the unit vectors|^2 = the mean cosine over all (ordered) entity pairs, self-pairs included:
            # 1 when every entity points the same way (collapse), about 1/N for isotropic vectors
            "mean cosine": float(mean_dir.pow(2).sum()),
            "effective rank": effective_rank(h), "dim": h.shape[1],
            "hits@1": evaluate_alignment(h[pairs[:, 0]], h[pairs[:, 1]], ks=(1,))["hits@1"]}


def diagnose(model: AliNet, inputs: AlignInputs, pairs: torch.Tensor, adj: torch.Tensor | None = None,
             neg_multi: int = 10, margin: float = 1.5, neg_param: float = 0.1, seed: int = 0) -> dict:
    """Look inside a trained AliNet in evaluation mode: its parts, gates, attention and loss gradient.

    ``pairs`` (P, 2) joint ids are the pairs each part is scored on (Hits@1 among the P counterparts, cosine):
    pass validation pairs when the result guides a choice. ``adj`` defaults to ``inputs.adj``. Returns a dict:

    * ``"parts"``: a DataFrame, one row per part (``"input"``, ``"layer l one-hop"``, ``"layer l distant"``,
      ``"layer l"`` (the gated or last output) and ``"concatenation"``, the representation AliNet ranks by)
      with the mean norm, the mean cosine between entities (1: all point one way, so the part adds almost
      nothing that tells entities apart to the concatenation), the effective rank, the dimension and Hits@1;
      a last row, ``"concatenation without input"``, ranks by the layers' outputs alone, normalised and
      concatenated as AliNet does, i.e. without the free input embeddings;
    * ``"gates"``: per gated layer, the mean gate value and the shares of closed (0) and mostly open (> 0.5) gates;
    * ``"attention"``: per distant layer, the mean entropy of an entity's attention weights divided by that of
      uniform weights over the same neighbours (1: attention does not discriminate), the mean largest weight
      and the largest absolute score before the softmax;
    * ``"gradients"``: the mean norm of the alignment loss's gradient on an input embedding, over the entities
      of the training seeds and over those of ``pairs`` (uniform negatives, ``neg_multi`` per side, ``seed``ed).
    """
    if not isinstance(model, AliNet):
        raise TypeError(f"diagnose needs an AliNet model, got {type(model).__name__}")
    pairs = torch.as_tensor(pairs, dtype=torch.long)
    n = inputs.n1 + inputs.n2
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) < 2:
        raise ValueError(f"pairs must be (P, 2) joint ids with P >= 2, got {tuple(pairs.shape)}")
    if int(pairs.min()) < 0 or int(pairs.max()) >= n:
        raise ValueError(f"pairs must be joint ids in 0..{n - 1}")
    if model.embedding.shape[0] != n:
        raise ValueError(f"the model embeds {model.embedding.shape[0]} entities, the inputs have {n}")
    adj = inputs.adj if adj is None else adj
    two_hop, weight = inputs.two_hop, inputs.two_hop_weight
    was_training = model.training
    model.eval()
    parts, gates, attention = {}, {}, {}
    with torch.no_grad():
        x = model.embedding
        parts["input"] = _part_row(x, pairs)
        for i, layer in enumerate(model.layers, start=1):
            h1 = layer.gcn(x, adj)
            if layer.use_distant:
                parts[f"layer {i} one-hop"] = _part_row(h1, pairs)
                xn = batch_standardize(x, layer.distant.batch_norm, False)
                h2 = layer.distant(x, two_hop, weight)
                parts[f"layer {i} distant"] = _part_row(h2, pairs)
                alpha = layer.distant.alpha(xn, two_hop, weight)
                rows = two_hop[0]
                ent = torch.zeros(n, dtype=alpha.dtype).index_add_(0, rows, -alpha * alpha.clamp_min(1e-30).log())
                deg = torch.zeros(n, dtype=alpha.dtype).index_add_(0, rows, torch.ones_like(alpha))
                top = torch.zeros(n, dtype=alpha.dtype).scatter_reduce(0, rows, alpha, "amax", include_self=False)
                many = deg > 1
                # the official layer multiplies the scores by the normalised two-hop matrix (about 1/|N_2(i)|),
                # so on large distant neighbourhoods they are all near 0 and the softmax is near uniform
                scores = attention_scores(xn, layer.distant.w1, layer.distant.w2, two_hop, 0.0, False, weight) \
                    if layer.distant.use_attention else torch.zeros_like(alpha)
                attention[f"layer {i}"] = {"relative entropy": float((ent[many] / deg[many].log()).mean()),
                                           "mean largest weight": float(top[deg > 0].mean()),
                                           "largest |score|": float(scores.abs().max())}
                if layer.use_gate:
                    g = torch.relu(torch.tanh(h2 @ layer.gate.kernel + layer.gate.bias))
                    gates[f"layer {i}"] = {"mean gate": float(g.mean()), "closed (g = 0)": float((g == 0).float().mean()),
                                           "open (g > 0.5)": float((g > 0.5).float().mean())}
            x = layer(x, adj, two_hop, weight)
            parts[f"layer {i}"] = _part_row(x, pairs)
        outs = model.layer_outputs(adj, two_hop, weight)
        parts["concatenation"] = _part_row(model(adj, two_hop, weight), pairs)
        parts["concatenation without input"] = _part_row(
            F.normalize(torch.cat([F.normalize(h, dim=1) for h in outs[1:]], dim=1), dim=1), pairs)
    # gradient of the alignment loss on the input embeddings (evaluation mode: no dropout, no batch statistics)
    gen = torch.Generator().manual_seed(seed)
    neg = sample_negatives(torch.zeros(n, 1), inputs.seeds, inputs.n1, neg_multi, "uniform", generator=gen)
    model.zero_grad()
    loss = alignment_loss(model(adj, two_hop, weight), inputs.seeds, neg, margin, neg_param)
    grad = torch.autograd.grad(loss, model.embedding)[0].norm(dim=1)
    model.train(was_training)
    gradients = {"seed entities": float(grad[inputs.seeds.flatten().unique()].mean()),
                 "entities of pairs": float(grad[pairs.flatten().unique()].mean()), "loss": loss.item()}
    return {"parts": pd.DataFrame(parts).T, "gates": pd.DataFrame(gates).T, "attention": pd.DataFrame(attention).T,
            "gradients": gradients}
