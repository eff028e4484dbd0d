"""Why a GCN-Align built from AliNet's parts sits at chance: switch its differences from GCN-Align's code one at a time.

A GCN-Align assembled from AliNet's parts (``OLD_BASELINE``) differs from GCN-Align's code (``include/Model.py``) in five
ways: full weight matrices instead of diagonal ones, free Xavier inputs instead of L2-normalised
truncated-normal ones, the plain :math:`\\hat A` instead of the functionality-weighted adjacency, AliNet's
loss (squared distances of L2-normalised outputs, margin 3, 10 hard negatives, cosine ranking) instead
of GCN-Align's L1 margin ranking with 25 uniform negatives, and Adam at 0.01 instead of SGD at 25.
:func:`train_baseline` trains one combination of them (fixed epochs, no validation).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from companion.alinet.losses import alignment_loss, gcn_align_loss, sample_negatives, sample_uniform_corruptions
from companion.alinet.metrics import evaluate_alignment
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
