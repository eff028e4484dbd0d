"""Full-graph distributed training: the local graph of a worker and the halo exchange.

Worker :math:`p` owns the nodes :math:`V_p`. To compute layer :math:`l+1` for them it needs
:math:`h^{(l)}_u` for every in-neighbour :math:`u`, some of which live elsewhere: the *halo*.
Each layer therefore starts with an all-to-all in which every worker sends the rows its
neighbours need and receives its halo (forward), and the backward pass sends the gradients of
those rows back to their owners, who add them to their own (the adjoint of a gather is a
scatter-add). With the halo in place the layer is an ordinary sparse product on the local
graph ``[owned ; halo]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from companion.distgnn.comm import CommMeter

__all__ = ["HaloPlan", "build_halo_plan", "halo_exchange", "gcn_edge_weight"]


@dataclass
class HaloPlan:
    """Everything worker ``rank`` needs for full-graph training on its partition.

    Attributes:
        rank, world_size: this worker and the number of workers.
        owned: (n_own,) sorted global ids of the nodes this worker owns; local ids ``0..n_own-1``.
        halo: (n_halo,) global ids of the remote in-neighbours, grouped by owner rank (ascending)
            and sorted within a group; local ids ``n_own..n_own+n_halo-1``.
        recv_counts: (P,) how many halo rows come from each worker (0 for ``rank`` itself).
        send_index: list of P tensors: local ids of the owned rows worker r needs (empty for self).
        edge_index: (2, E_local) local ids, every edge into an owned node plus one self-loop each.
        edge_weight: (E_local,) symmetric GCN normalisation with *global* degrees,
            :math:`1/\\sqrt{\\tilde d_u \\tilde d_v}`, :math:`\\tilde d = d + 1`.
    """

    rank: int
    world_size: int
    owned: torch.Tensor
    halo: torch.Tensor
    recv_counts: torch.Tensor
    send_index: list[torch.Tensor]
    edge_index: torch.Tensor
    edge_weight: torch.Tensor

    @property
    def num_owned(self) -> int:
        return self.owned.numel()

    def halo_rows_per_layer(self) -> int:
        """Rows this worker receives per exchange (= its halo size)."""
        return self.halo.numel()

    def rows_sent_per_layer(self) -> int:
        """Rows this worker sends per exchange (sum of what the others need from it)."""
        return sum(int(s.numel()) for s in self.send_index)

    def data_bytes(self, num_features: int) -> int:
        """Bytes this worker stores for one layer of width ``num_features``: owned + halo rows (float32)
        plus its local graph (int64 indices, float32 weights)."""
        rows = (self.num_owned + self.halo.numel()) * num_features * 4
        return rows + self.edge_index.numel() * 8 + self.edge_weight.numel() * 4


def gcn_edge_weight(edge_index: torch.Tensor, num_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Global degrees with self-loops, :math:`\\tilde d = d_{in} + 1`, and the weight of every edge."""
    deg = torch.bincount(edge_index[1], minlength=num_nodes).float() + 1.0
    return deg, (deg[edge_index[0]] * deg[edge_index[1]]).rsqrt()


def build_halo_plan(edge_index: torch.Tensor, parts: torch.Tensor, rank: int, world_size: int) -> HaloPlan:
    """The local graph, halo and send lists of worker ``rank`` under partition ``parts``.

    ``edge_index`` (2, E) is the global graph with both directions of every edge and no self-loops
    (PyG convention, messages flow ``edge_index[0] -> edge_index[1]``).
    """
    n = parts.numel()
    if not 0 <= rank < world_size:
        raise ValueError(f"need 0 <= rank < world_size, got {rank}, {world_size}")
    if world_size > n:
        raise ValueError(f"more workers ({world_size}) than nodes ({n})")
    if int(parts.max()) >= world_size or int(parts.min()) < 0:
        raise ValueError(f"parts must hold ids in [0, {world_size}), got range "
                         f"[{int(parts.min())}, {int(parts.max())}]")
    src, dst = edge_index
    keep = src != dst
    src, dst = src[keep], dst[keep]
    deg = torch.bincount(dst, minlength=n).float() + 1.0

    owned = torch.nonzero(parts == rank).flatten()
    mine = parts[dst] == rank
    e_src, e_dst = src[mine], dst[mine]
    remote = torch.unique(e_src[parts[e_src] != rank])
    halo = remote[torch.argsort(parts[remote] * n + remote)]  # grouped by owner, then by id
    recv_counts = torch.bincount(parts[halo], minlength=world_size)

    local = torch.full((n,), -1, dtype=torch.long)
    local[owned] = torch.arange(owned.numel())
    local[halo] = owned.numel() + torch.arange(halo.numel())
    loops = torch.arange(owned.numel())
    ei = torch.cat([torch.stack([local[e_src], local[e_dst]]), torch.stack([loops, loops])], dim=1)
    g_src = torch.cat([e_src, owned])
    g_dst = torch.cat([e_dst, owned])
    weight = (deg[g_src] * deg[g_dst]).rsqrt()

    # what worker r needs from me: my nodes that are in-neighbours of r's nodes
    send_index = []
    for r in range(world_size):
        if r == rank:
            send_index.append(torch.empty(0, dtype=torch.long))
            continue
        into_r = (parts[dst] == r) & (parts[src] == rank)
        need = torch.unique(src[into_r])  # sorted by global id, matching r's halo order
        send_index.append(local[need])
    return HaloPlan(rank, world_size, owned, halo, recv_counts, send_index, ei, weight)


class _HaloExchange(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h_owned: torch.Tensor, plan: HaloPlan, meter: CommMeter, kind: str) -> torch.Tensor:
        d = h_owned.shape[1]
        send = [h_owned[idx] for idx in plan.send_index]
        recv = [h_owned.new_empty(int(c), d) for c in plan.recv_counts]
        meter.all_to_all(recv, send, kind=f"{kind}_fwd")
        ctx.plan, ctx.meter, ctx.kind, ctx.n = plan, meter, kind, h_owned.shape[0]
        return torch.cat(recv) if recv else h_owned.new_empty(0, d)

    @staticmethod
    def backward(ctx, grad_halo: torch.Tensor):
        plan, d = ctx.plan, grad_halo.shape[1]
        chunks = list(grad_halo.contiguous().split(plan.recv_counts.tolist()))
        back = [grad_halo.new_empty(idx.numel(), d) for idx in plan.send_index]
        ctx.meter.all_to_all(back, chunks, kind=f"{ctx.kind}_bwd")
        grad = grad_halo.new_zeros(ctx.n, d)
        for idx, g in zip(plan.send_index, back):
            grad.index_add_(0, idx, g)  # adjoint of the gather h_owned[idx]
        return grad, None, None, None


def halo_exchange(h_owned: torch.Tensor, plan: HaloPlan, meter: CommMeter, kind: str = "halo") -> torch.Tensor:
    """Rows of the halo, (n_halo, d), in ``plan.halo`` order; differentiable (gradients go home).

    Forward: one all-to-all of ``h_owned[send_index[r]]``; backward: the reverse all-to-all of the
    halo gradients, scatter-added into the owners' rows. Both are counted by ``meter``.
    """
    if h_owned.ndim != 2 or h_owned.shape[0] != plan.num_owned:
        raise ValueError(f"h_owned must be ({plan.num_owned}, d), got {tuple(h_owned.shape)}")
    return _HaloExchange.apply(h_owned, plan, meter, kind)
