"""SubgraphX end to end, and as a ``torch_geometric.explain`` algorithm.

:func:`subgraphx` explains one prediction: it builds the reward (``mc_l_shapley`` with zero
filling) from the model, runs :func:`~companion.subgraphx.mcts.mcts` and returns the best
coalition within ``max_nodes``. Defaults are DIG's ``SubgraphX(...)`` defaults (rollout 20,
min_atoms 5, c_puct 10, expand_atoms 14, high2low False, local_radius 4, sample_num 100).
:class:`SubgraphXExplainer` wraps it as a PyG ``ExplainerAlgorithm`` so it runs through
``Explainer`` beside PyG's GNNExplainer and PGExplainer and is scored by the same metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from companion.subgraphx.mcts import MCTSResult, adjacency_list, find_closest_node_result, mcts
from companion.subgraphx.shapley import graph_value_function, mc_l_shapley_batch, node_value_function
from companion.utils import Timer


@dataclass
class SubgraphXExplanation:
    """The chosen coalition (node ids of the input graph), its Shapley reward, and the search."""

    coalition: list[int]
    reward: float
    target: int
    search: MCTSResult
    seconds: float  # wall clock
    cpu_seconds: float  # time.process_time of this process
    subset: torch.Tensor  # node ids of the searched graph in the input graph (identity for graphs)

    def coalition_at(self, max_nodes: int) -> list[int]:
        """The best explored coalition with at most ``max_nodes`` nodes (same search, other size limit)."""
        best = find_closest_node_result(self.search.nodes, max_nodes)
        return sorted(self.subset[list(best.coalition)].tolist())


def num_message_passing_layers(model: torch.nn.Module) -> int:
    """How many PyG ``MessagePassing`` layers ``model`` has (its receptive field in hops)."""
    from torch_geometric.nn.conv import MessagePassing

    return sum(isinstance(m, MessagePassing) for m in model.modules())


@torch.no_grad()
def subgraphx(model: torch.nn.Module, x: torch.Tensor, edge_index: torch.Tensor, *, target: int | None = None,
              node_idx: int | None = None, max_nodes: int = 5, rollout: int = 20, c_puct: float = 10.0,
              min_atoms: int = 5, expand_atoms: int = 14, high2low: bool = False, local_radius: int = 4,
              sample_num: int = 100, seed: int = 0, num_hops: int | None = None,
              progress_bar=None) -> SubgraphXExplanation:
    """Explain a graph prediction (``node_idx=None``) or the prediction at node ``node_idx``.

    ``x`` (N, F), ``edge_index`` (2, E). ``target`` is the class to explain (default: the
    predicted class). For a node, the search runs on its ``num_hops``-hop computation graph
    (default: the number of message-passing layers) and never prunes the node itself.
    Raises ``ValueError`` when ``max_nodes`` is not in ``[1, N]``. (A node's computation graph may
    be smaller than ``max_nodes``; then it is its own explanation.)
    """
    from torch_geometric.utils import k_hop_subgraph

    with Timer() as clock:  # the whole explanation, input checks included
        n = x.shape[0]
        if x.ndim != 2 or edge_index.ndim != 2 or edge_index.shape[0] != 2:
            raise ValueError(f"expected x (N, F) and edge_index (2, E), got {tuple(x.shape)} and {tuple(edge_index.shape)}")
        model.eval()
        if node_idx is None:
            subset, sub_ei, keep = torch.arange(n), edge_index, None
            logits = model(x, edge_index)
            predicted = int(logits.argmax(-1).view(-1)[0])
        else:
            if not 0 <= node_idx < n:
                raise ValueError(f"node_idx must be in [0, {n}), got {node_idx}")
            hops = num_hops if num_hops is not None else num_message_passing_layers(model)
            subset, sub_ei, mapping, _ = k_hop_subgraph(int(node_idx), hops, edge_index, relabel_nodes=True, num_nodes=n)
            subset = subset.cpu()
            keep = int(mapping[0])
            predicted = int(model(x, edge_index)[node_idx].argmax())
        target = predicted if target is None else int(target)
        m = subset.numel()
        if not 1 <= max_nodes <= n:
            raise ValueError(f"max_nodes must be in [1, {n}] (the graph has {n} nodes), got {max_nodes}")
        sub_x = x[subset]
        value_fn = (graph_value_function(model, sub_x, sub_ei, target) if keep is None
                    else node_value_function(model, sub_x, sub_ei, keep, target))
        gen = torch.Generator().manual_seed(seed)
        host_ei = sub_ei.cpu()  # the search and its samples on the CPU; value_fn runs the model where it is

        def score_fn(coalitions):
            return mc_l_shapley_batch(value_fn, coalitions, host_ei, m, local_radius, sample_num, gen)

        adj = adjacency_list(sub_ei, m)
        result = mcts(score_fn, adj, range(m), rollout=rollout, c_puct=c_puct, min_atoms=min_atoms,
                      expand_atoms=expand_atoms, high2low=high2low, keep=keep, max_nodes=max_nodes,
                      progress_bar=progress_bar)
        best = find_closest_node_result(result.nodes, max_nodes)
    return SubgraphXExplanation(sorted(subset[list(best.coalition)].tolist()), best.P, target, result,
                                clock.seconds, clock.cpu_seconds, subset)


def coalition_masks(coalition, edge_index: torch.Tensor, num_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Hard masks of a node set: node mask ``(N, 1)`` float and edge mask ``(E,)`` float (edges inside it)."""
    node = torch.zeros(num_nodes, dtype=torch.bool, device=edge_index.device)
    node[list(coalition)] = True
    edge = node[edge_index[0]] & node[edge_index[1]]
    return node.float().unsqueeze(1), edge.float()


try:
    from torch_geometric.explain import Explanation
    from torch_geometric.explain.algorithm import ExplainerAlgorithm
    from torch_geometric.explain.config import MaskType, ModelMode, ModelTaskLevel
except ImportError:  # pragma: no cover - torch_geometric is a hard dependency of the package
    ExplainerAlgorithm = object


class SubgraphXExplainer(ExplainerAlgorithm):
    """SubgraphX as a PyG ``ExplainerAlgorithm``: ``Explainer(model, algorithm=SubgraphXExplainer(max_nodes=5), ...)``.

    Use ``node_mask_type="object"`` (the explanation is a node set; its mask is 1 on the chosen
    nodes, 0 elsewhere: zero filling of the rest, as the paper masks) and ``edge_mask_type=None``
    or ``"object"`` (1 on edges inside the set). Keyword arguments go to :func:`subgraphx`; the
    last search is kept on ``self.last`` for plots.
    """

    def __init__(self, max_nodes: int = 5, **kwargs):
        super().__init__()
        if max_nodes < 1:
            raise ValueError(f"max_nodes must be >= 1, got {max_nodes}")
        self.max_nodes = max_nodes
        self.kwargs = kwargs
        self.last: SubgraphXExplanation | None = None

    def forward(self, model, x, edge_index, *, target, index=None, **kwargs):
        if self.model_config.task_level == ModelTaskLevel.node:
            if index is None or torch.as_tensor(index).numel() != 1:
                raise ValueError("node-level SubgraphX explains one node: pass index=<int>")
            node_idx = int(torch.as_tensor(index).view(-1)[0])
            tgt = int(target[node_idx])
        else:
            node_idx, tgt = None, int(target.view(-1)[0])
        self.last = subgraphx(model, x, edge_index, target=tgt, node_idx=node_idx, max_nodes=self.max_nodes,
                              **self.kwargs)
        node_mask, edge_mask = coalition_masks(self.last.coalition, edge_index, x.shape[0])
        if self.explainer_config.edge_mask_type is None:
            edge_mask = None
        return Explanation(node_mask=node_mask, edge_mask=edge_mask)

    def supports(self) -> bool:
        cfg = self.explainer_config
        if cfg.node_mask_type != MaskType.object:
            return False
        if cfg.edge_mask_type not in (None, MaskType.object):
            return False
        return self.model_config.mode != ModelMode.regression
