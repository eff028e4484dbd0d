"""Getting started: a two-layer GCN from scratch, used by the first end-to-end example."""

from companion.intro.gcn import GCN, normalized_adjacency

__all__ = ["GCN", "normalized_adjacency"]
