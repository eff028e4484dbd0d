"""AliNet and the GCN-Align baseline as entity encoders over the joint graph of two KGs."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from companion.alinet.layers import AliNetLayer, GCNLayer


def _check_dims(num_entities: int, dims: tuple[int, ...] | list[int]) -> None:
    if num_entities < 2:
        raise ValueError(f"num_entities must be >= 2, got {num_entities}")
    if len(dims) < 2 or any(int(d) < 1 for d in dims):
        raise ValueError(f"dims must list >= 2 positive sizes (input, then one per layer), got {list(dims)}")


class AliNet(nn.Module):
    r"""AliNet (Sun et al., 2020): gated one-hop + distant-neighbour layers, outputs concatenated.

    ``dims = (d_0, d_1, ..., d_L)``: free input embeddings of size ``d_0`` for every entity of the
    joint graph, then ``L`` layers. All layers but the last aggregate distant neighbours (as in the
    official code, the last is a GCN only). The representation (Eq. (7)) is
    :math:`\mathrm{norm}([\mathrm{norm}(h^{(0)}); \mathrm{norm}(h^{(1)}); \dots; \mathrm{norm}(h^{(L)})])`,
    shape (N, sum(dims)).
    """

    def __init__(self, num_entities: int, dims: tuple[int, ...] = (128, 128, 64), use_attention: bool = True,
                 use_gate: bool = True, use_distant: bool = True, dropout: float = 0.0):
        super().__init__()
        _check_dims(num_entities, dims)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.embedding = nn.Parameter(torch.empty(num_entities, dims[0]))
        nn.init.xavier_uniform_(self.embedding)
        n_layers = len(dims) - 1
        self.layers = nn.ModuleList(
            AliNetLayer(dims[i], dims[i + 1], use_distant=use_distant and i < n_layers - 1,
                        use_attention=use_attention, use_gate=use_gate)
            for i in range(n_layers))
        self.dropout = dropout

    def forward(self, adj: torch.Tensor, two_hop: torch.Tensor | None) -> torch.Tensor:
        h = self.embedding
        outs = [F.normalize(h, dim=1)]
        for layer in self.layers:
            h = layer(F.dropout(h, self.dropout, self.training), adj, two_hop)
            outs.append(F.normalize(h, dim=1))
        return F.normalize(torch.cat(outs, dim=1), dim=1)


class GCNAlign(nn.Module):
    r"""GCN-Align's structure encoder (Wang et al., 2018): stacked GCN layers with ReLU in between.

    Only the last layer's output is used (L2-normalised), shape (N, d_L); no distant neighbours,
    no gate, no concatenation. ``forward`` takes ``two_hop`` only to share AliNet's signature.
    """

    def __init__(self, num_entities: int, dims: tuple[int, ...] = (128, 128, 64), dropout: float = 0.0):
        super().__init__()
        _check_dims(num_entities, dims)
        self.embedding = nn.Parameter(torch.empty(num_entities, dims[0]))
        nn.init.xavier_uniform_(self.embedding)
        self.layers = nn.ModuleList(GCNLayer(dims[i], dims[i + 1]) for i in range(len(dims) - 1))
        self.dropout = dropout

    def forward(self, adj: torch.Tensor, two_hop: torch.Tensor | None = None) -> torch.Tensor:
        h = self.embedding
        for i, layer in enumerate(self.layers):
            h = layer(F.dropout(h, self.dropout, self.training), adj)
            if i < len(self.layers) - 1:
                h = torch.relu(h)
        return F.normalize(h, dim=1)
