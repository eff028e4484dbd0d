"""AliNet's building blocks: the one-hop GCN layer, attention over distant neighbours and the gate.

Following the official code (``alinet_layer.py``, ``gnn/gcn/layers.py``):

* the GCN and attention layers are linear (the ``activations='tanh'`` keyword there never reaches
  the layers), and the only non-linearity is the ``tanh`` of the gate;
* every layer batch-normalises its inputs. The official code builds a fresh
  ``BatchNormalization`` inside each call, so its scale and shift are never learned and its moving
  statistics stay at mean 0, variance 1: in training each feature is standardised over the batch
  (here: all entities, the batch is the whole graph), in evaluation it is left as it is. That is
  ``batch_norm="train"`` below (the default); ``"always"`` standardises in evaluation too and
  ``"off"`` never does;
* dropout (0.5 in the official ``main.py``) acts on the attention's node scores and on the gate,
  not on the embeddings (the GCN layers are built with ``dropout_rate=0.0``).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch_geometric.utils import softmax

BATCH_NORM_MODES = ("train", "always", "off")


def _glorot(rows: int, cols: int) -> nn.Parameter:
    bound = math.sqrt(6.0 / (rows + cols))
    return nn.Parameter(torch.empty(rows, cols).uniform_(-bound, bound))


def _check_mode(batch_norm: str) -> str:
    if batch_norm not in BATCH_NORM_MODES:
        raise ValueError(f"batch_norm must be one of {BATCH_NORM_MODES}, got {batch_norm!r}")
    return batch_norm


def batch_standardize(x: torch.Tensor, mode: str = "train", training: bool = True, eps: float = 1e-3) -> torch.Tensor:
    r"""The official code's input batch normalisation: :math:`(x - \mu) / \sqrt{\sigma^2 + \epsilon}` per feature.

    ``x``: (N, d), the statistics are taken over the N rows (all entities). ``mode="train"`` does it only
    when ``training`` (a fresh Keras ``BatchNormalization`` per call: batch statistics in training,
    its untouched moving statistics, i.e. nothing, in evaluation); ``"always"`` in both; ``"off"`` never.
    No learned scale or shift (they are re-created at 1 and 0 on every call in the official code).
    """
    if mode == "off" or (mode == "train" and not training):
        return x
    return F.batch_norm(x, None, None, training=True, eps=eps)


class GCNLayer(nn.Module):
    r"""One-hop aggregation, AliNet Eq. (1) without activation: :math:`h^{(l)}_1 = \hat A\, \mathrm{BN}(h^{(l-1)}) W^{(l)}_1 + b`.

    ``x``: (N, d_in); ``adj``: sparse (N, N) normalised adjacency; returns (N, d_out). The bias starts
    at 0 (as in ``GraphConvolution``); ``batch_norm`` is a mode of :func:`batch_standardize`.
    """

    def __init__(self, d_in: int, d_out: int, batch_norm: str = "train"):
        super().__init__()
        self.weight = _glorot(d_in, d_out)
        self.bias = nn.Parameter(torch.zeros(d_out))
        self.batch_norm = _check_mode(batch_norm)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        x = batch_standardize(x, self.batch_norm, self.training)
        return torch.sparse.mm(adj, x @ self.weight) + self.bias


def attention_scores(x: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, two_hop: torch.Tensor,
                     dropout: float = 0.0, training: bool = False,
                     weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Unnormalised scores of distant neighbours (AliNet Eq. (3) as in ``AliNetGraphAttentionLayer``).

    :math:`c_1 = \tanh(\sum (x W_1) \odot x)`, :math:`c_2 = \tanh(\sum (x W_2) \odot x)` per node (each
    under ``dropout`` while ``training``, as in the official code), and
    :math:`e_{ij} = \mathrm{LeakyReLU}(a_{ij}(c_{1,i} + c_{2,j}))` per two-hop edge ``(i, j)``, where
    :math:`a_{ij}` is the edge's ``weight`` (the official code multiplies the scores by its normalised
    two-hop adjacency; 1 when ``weight`` is None). Returns (E2,).
    """
    c1 = F.dropout(torch.tanh(((x @ w1) * x).sum(-1)), dropout, training)
    c2 = F.dropout(torch.tanh(((x @ w2) * x).sum(-1)), dropout, training)
    s = c1[two_hop[0]] + c2[two_hop[1]]
    return F.leaky_relu(s if weight is None else weight * s, negative_slope=0.2)


def aggregate(values: torch.Tensor, weights: torch.Tensor, edges: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """``out[i] = sum_j weights[ij] * values[j]`` over the edges ``(i, j)``; (N, d)."""
    out = values.new_zeros(num_nodes, values.shape[1])
    return out.index_add_(0, edges[0], weights[:, None] * values[edges[1]])


class DistantAttention(nn.Module):
    r"""Attention over two-hop neighbours, AliNet Eq. (2)–(4): :math:`h^{(l)}_2 = \sum_{j} \alpha_{ij} x_j W_2`.

    :math:`\alpha_{ij}` is the softmax of :func:`attention_scores` over the row ``i`` (computed on the
    batch-normalised input ``x``). With ``use_attention=False`` every distant neighbour gets the same
    weight :math:`1/|N_2(i)|` (the "w/o attention" ablation). ``x``: (N, d_in), ``two_hop``: (2, E2);
    returns (N, d_out).
    """

    def __init__(self, d_in: int, d_out: int, use_attention: bool = True, dropout: float = 0.0,
                 batch_norm: str = "train"):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.weight = _glorot(d_in, d_out)
        self.use_attention, self.dropout = use_attention, dropout
        self.batch_norm = _check_mode(batch_norm)
        if use_attention:
            self.w1 = _glorot(d_in, d_in)
            self.w2 = _glorot(d_in, d_in)

    def alpha(self, x: torch.Tensor, two_hop: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """Attention weight of each two-hop edge (rows sum to 1); (E2,). ``x`` is already normalised."""
        n = x.shape[0]
        if self.use_attention:
            scores = attention_scores(x, self.w1, self.w2, two_hop, self.dropout, self.training, weight)
            return softmax(scores, two_hop[0], num_nodes=n)
        deg = torch.zeros(n, device=x.device).index_add_(0, two_hop[0], torch.ones(two_hop.shape[1], device=x.device))
        return 1.0 / deg[two_hop[0]]

    def forward(self, x: torch.Tensor, two_hop: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        x = batch_standardize(x, self.batch_norm, self.training)
        return aggregate(x @ self.weight, self.alpha(x, two_hop, weight), two_hop, x.shape[0])


def gate(h1: torch.Tensor, h2: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    r"""AliNet's gate (Eq. (5), ``HighwayLayer`` in the official code), without normalisation or dropout.

    :math:`g = \mathrm{ReLU}(\tanh(h_2 K + b))`, :math:`h = \tanh(g \odot h_2 + (1 - g) \odot h_1)`.
    ``h1``, ``h2``: (N, d); ``kernel``: (d, d); ``bias``: (d,). Returns (N, d).
    """
    if h1.shape != h2.shape:
        raise ValueError(f"h1 and h2 must have the same shape, got {tuple(h1.shape)} and {tuple(h2.shape)}")
    g = torch.relu(torch.tanh(h2 @ kernel + bias))
    return torch.tanh(g * h2 + (1.0 - g) * h1)


class Gate(nn.Module):
    r"""The gate as a module (parameters ``kernel`` (d, d) and ``bias`` (d,)); see :func:`gate`.

    As ``HighwayLayer``: both inputs are batch-normalised first, and while training the gate's
    :math:`\tanh(\cdot)` goes through inverted ``dropout`` before the ReLU (so a gate value can exceed 1
    then, as in the official code). In evaluation (``batch_norm="train"``) it equals :func:`gate`.
    """

    def __init__(self, dim: int, dropout: float = 0.0, batch_norm: str = "train"):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.kernel = _glorot(dim, dim)
        self.bias = nn.Parameter(torch.zeros(dim))
        self.dropout = dropout
        self.batch_norm = _check_mode(batch_norm)

    def forward(self, h1: torch.Tensor, h2: torch.Tensor) -> torch.Tensor:
        if h1.shape != h2.shape:
            raise ValueError(f"h1 and h2 must have the same shape, got {tuple(h1.shape)} and {tuple(h2.shape)}")
        h1 = batch_standardize(h1, self.batch_norm, self.training)
        h2 = batch_standardize(h2, self.batch_norm, self.training)
        g = torch.relu(F.dropout(torch.tanh(h2 @ self.kernel + self.bias), self.dropout, self.training))
        return torch.tanh(g * h2 + (1.0 - g) * h1)


class AliNetLayer(nn.Module):
    """One AliNet layer: one-hop GCN, distant-neighbour attention and their gated combination.

    ``use_distant=False`` leaves only the GCN (AliNet's last layer). ``use_gate=False`` replaces the
    gate by ``tanh(h1 + h2)`` (the "w/o gate" ablation). ``dropout`` and ``batch_norm`` as in
    :class:`DistantAttention` and :class:`Gate`. Returns (N, d_out).
    """

    def __init__(self, d_in: int, d_out: int, use_distant: bool = True, use_attention: bool = True,
                 use_gate: bool = True, dropout: float = 0.0, batch_norm: str = "train"):
        super().__init__()
        self.gcn = GCNLayer(d_in, d_out, batch_norm)
        self.use_distant, self.use_gate = use_distant, use_gate
        self.batch_norm = batch_norm
        if use_distant:
            self.distant = DistantAttention(d_in, d_out, use_attention, dropout, batch_norm)
            if use_gate:
                self.gate = Gate(d_out, dropout, batch_norm)

    def forward(self, x: torch.Tensor, adj: torch.Tensor, two_hop: torch.Tensor | None,
                two_hop_weight: torch.Tensor | None = None) -> torch.Tensor:
        h1 = self.gcn(x, adj)
        if not self.use_distant:
            return h1
        h2 = self.distant(x, two_hop, two_hop_weight)
        if self.use_gate:
            return self.gate(h1, h2)
        return torch.tanh(batch_standardize(h1, self.batch_norm, self.training)
                          + batch_standardize(h2, self.batch_norm, self.training))
