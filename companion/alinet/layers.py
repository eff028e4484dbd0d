"""AliNet's building blocks: the one-hop GCN layer, attention over distant neighbours and the gate.

Following the official code (``alinet_layer.py``, ``gnn/gcn/layers.py``), the GCN and attention
layers are linear (the ``activations='tanh'`` keyword there never reaches the layers), and the
only non-linearity is the ``tanh`` of the gate.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch_geometric.utils import softmax


def _glorot(rows: int, cols: int) -> nn.Parameter:
    bound = math.sqrt(6.0 / (rows + cols))
    return nn.Parameter(torch.empty(rows, cols).uniform_(-bound, bound))


class GCNLayer(nn.Module):
    r"""One-hop aggregation, AliNet Eq. (1) without activation: :math:`h^{(l)}_1 = \hat A\, h^{(l-1)} W^{(l)}_1`.

    ``x``: (N, d_in); ``adj``: sparse (N, N) normalised adjacency; returns (N, d_out).
    """

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.weight = _glorot(d_in, d_out)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return torch.sparse.mm(adj, x @ self.weight)


def attention_scores(x: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, two_hop: torch.Tensor) -> torch.Tensor:
    r"""Unnormalised scores of distant neighbours (AliNet Eq. (3) as in ``AliNetGraphAttentionLayer``).

    :math:`c_1 = \tanh(\sum (x W_1) \odot x)`, :math:`c_2 = \tanh(\sum (x W_2) \odot x)` per node,
    :math:`e_{ij} = \mathrm{LeakyReLU}(c_{1,i} + c_{2,j})` per two-hop edge ``(i, j)``. Returns (E2,).
    """
    c1 = torch.tanh(((x @ w1) * x).sum(-1))
    c2 = torch.tanh(((x @ w2) * x).sum(-1))
    return nn.functional.leaky_relu(c1[two_hop[0]] + c2[two_hop[1]], negative_slope=0.2)


def aggregate(values: torch.Tensor, weights: torch.Tensor, edges: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """``out[i] = sum_j weights[ij] * values[j]`` over the edges ``(i, j)``; (N, d)."""
    out = values.new_zeros(num_nodes, values.shape[1])
    return out.index_add_(0, edges[0], weights[:, None] * values[edges[1]])


class DistantAttention(nn.Module):
    r"""Attention over two-hop neighbours, AliNet Eq. (2)–(4): :math:`h^{(l)}_2 = \sum_{j} \alpha_{ij} h_j W_2`.

    :math:`\alpha_{ij}` is the softmax of :func:`attention_scores` over the row ``i``. With
    ``use_attention=False`` every distant neighbour gets the same weight :math:`1/|N_2(i)|`
    (the "w/o attention" ablation). ``x``: (N, d_in), ``two_hop``: (2, E2); returns (N, d_out).
    """

    def __init__(self, d_in: int, d_out: int, use_attention: bool = True):
        super().__init__()
        self.weight = _glorot(d_in, d_out)
        self.use_attention = use_attention
        if use_attention:
            self.w1 = _glorot(d_in, d_in)
            self.w2 = _glorot(d_in, d_in)

    def alpha(self, x: torch.Tensor, two_hop: torch.Tensor) -> torch.Tensor:
        """Attention weight of each two-hop edge (rows sum to 1); (E2,)."""
        n = x.shape[0]
        if self.use_attention:
            return softmax(attention_scores(x, self.w1, self.w2, two_hop), two_hop[0], num_nodes=n)
        deg = torch.zeros(n, device=x.device).index_add_(0, two_hop[0], torch.ones(two_hop.shape[1], device=x.device))
        return 1.0 / deg[two_hop[0]]

    def forward(self, x: torch.Tensor, two_hop: torch.Tensor) -> torch.Tensor:
        return aggregate(x @ self.weight, self.alpha(x, two_hop), two_hop, x.shape[0])


def gate(h1: torch.Tensor, h2: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    r"""AliNet's gate (Eq. (5), ``HighwayLayer`` in the official code).

    :math:`g = \mathrm{ReLU}(\tanh(h_2 K + b))`, :math:`h = \tanh(g \odot h_2 + (1 - g) \odot h_1)`.
    ``h1``, ``h2``: (N, d); ``kernel``: (d, d); ``bias``: (d,). Returns (N, d).
    """
    if h1.shape != h2.shape:
        raise ValueError(f"h1 and h2 must have the same shape, got {tuple(h1.shape)} and {tuple(h2.shape)}")
    g = torch.relu(torch.tanh(h2 @ kernel + bias))
    return torch.tanh(g * h2 + (1.0 - g) * h1)


class Gate(nn.Module):
    """The gate as a module (parameters ``kernel`` (d, d) and ``bias`` (d,)); see :func:`gate`."""

    def __init__(self, dim: int):
        super().__init__()
        self.kernel = _glorot(dim, dim)
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, h1: torch.Tensor, h2: torch.Tensor) -> torch.Tensor:
        return gate(h1, h2, self.kernel, self.bias)


class AliNetLayer(nn.Module):
    """One AliNet layer: one-hop GCN, distant-neighbour attention and their gated combination.

    ``use_distant=False`` leaves only the GCN (AliNet's last layer). ``use_gate=False`` replaces the
    gate by ``tanh(h1 + h2)`` (the "w/o gate" ablation). Returns (N, d_out).
    """

    def __init__(self, d_in: int, d_out: int, use_distant: bool = True, use_attention: bool = True,
                 use_gate: bool = True):
        super().__init__()
        self.gcn = GCNLayer(d_in, d_out)
        self.use_distant, self.use_gate = use_distant, use_gate
        if use_distant:
            self.distant = DistantAttention(d_in, d_out, use_attention)
            if use_gate:
                self.gate = Gate(d_out)

    def forward(self, x: torch.Tensor, adj: torch.Tensor, two_hop: torch.Tensor | None) -> torch.Tensor:
        h1 = self.gcn(x, adj)
        if not self.use_distant:
            return h1
        h2 = self.distant(x, two_hop)
        return self.gate(h1, h2) if self.use_gate else torch.tanh(h1 + h2)
