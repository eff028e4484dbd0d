"""AliNet and the GCN-Align baseline as entity encoders over the joint graph of two KGs."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from companion.alinet.layers import AliNetLayer


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
    shape (N, sum(dims)). ``dropout`` (official 0.5) acts on the attention scores and the gate;
    ``batch_norm`` is the layers' input normalisation (see :mod:`companion.alinet.layers`).
    """

    def __init__(self, num_entities: int, dims: tuple[int, ...] = (128, 128, 64), use_attention: bool = True,
                 use_gate: bool = True, use_distant: bool = True, dropout: float = 0.5, batch_norm: str = "train"):
        super().__init__()
        _check_dims(num_entities, dims)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.embedding = nn.Parameter(torch.empty(num_entities, dims[0]))
        nn.init.xavier_uniform_(self.embedding)
        n_layers = len(dims) - 1
        self.layers = nn.ModuleList(
            AliNetLayer(dims[i], dims[i + 1], use_distant=use_distant and i < n_layers - 1,
                        use_attention=use_attention, use_gate=use_gate, dropout=dropout, batch_norm=batch_norm)
            for i in range(n_layers))

    def layer_outputs(self, adj: torch.Tensor, two_hop: torch.Tensor | None,
                      two_hop_weight: torch.Tensor | None = None) -> list[torch.Tensor]:
        """``[h^(0), h^(1), ..., h^(L)]`` before normalisation; each (N, d_l). ``two_hop_weight``: (E2,) or None."""
        outs = [self.embedding]
        for layer in self.layers:
            outs.append(layer(outs[-1], adj, two_hop, two_hop_weight))
        return outs

    def forward(self, adj: torch.Tensor, two_hop: torch.Tensor | None,
                two_hop_weight: torch.Tensor | None = None) -> torch.Tensor:
        outs = self.layer_outputs(adj, two_hop, two_hop_weight)
        return F.normalize(torch.cat([F.normalize(h, dim=1) for h in outs], dim=1), dim=1)


class GCNAlign(nn.Module):
    r"""GCN-Align's structure encoder (Wang et al., 2018), as in its code (``include/Model.py``, ``build_SE``).

    Input vectors drawn from a truncated normal with std :math:`1/\sqrt N` and L2-normalised, then
    ``num_layers`` *diagonal* GCN layers :math:`H^{(l+1)} = \hat A_f (H^{(l)} \odot w^{(l)})` with
    :math:`w^{(l)} \in \mathbb R^{d}` starting at ones, ReLU between layers, none after the last.
    :math:`\hat A_f` is the relation-functionality-weighted adjacency
    (:func:`companion.alinet.graph.gcn_align_adjacency`). The output (N, d) is not normalised: the
    loss and the evaluation use the L1 (city-block) distance. ``forward`` takes ``two_hop`` only to
    share AliNet's signature.
    """

    def __init__(self, num_entities: int, dim: int = 64, num_layers: int = 2):
        super().__init__()
        _check_dims(num_entities, (dim, dim))
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        emb = torch.empty(num_entities, dim)
        nn.init.trunc_normal_(emb, std=1.0 / math.sqrt(num_entities),
                              a=-2.0 / math.sqrt(num_entities), b=2.0 / math.sqrt(num_entities))
        self.embedding = nn.Parameter(emb)
        self.weights = nn.ParameterList(nn.Parameter(torch.ones(dim)) for _ in range(num_layers))

    def layer_outputs(self, adj: torch.Tensor, two_hop: torch.Tensor | None = None,
                      two_hop_weight: torch.Tensor | None = None) -> list[torch.Tensor]:
        """``[h^(0), ..., h^(L)]``, the input L2-normalised; each (N, d)."""
        outs = [F.normalize(self.embedding, dim=1)]
        for i, w in enumerate(self.weights):
            h = torch.sparse.mm(adj, outs[-1] * w)
            outs.append(torch.relu(h) if i < len(self.weights) - 1 else h)
        return outs

    def forward(self, adj: torch.Tensor, two_hop: torch.Tensor | None = None,
                two_hop_weight: torch.Tensor | None = None) -> torch.Tensor:
        return self.layer_outputs(adj)[-1]
