"""TU graph-classification benchmarks (ENZYMES, PROTEINS, DD, COLLAB, ...) from a local folder.

The DiffPool paper evaluates on these datasets. They are not shipped with any package, and the
book never downloads, so this loader reads the files a reader downloaded from
https://chrsmrrs.github.io/datasets/ (one zip per dataset). Unzip ``NAME.zip`` so that the folder
``<root>/NAME/raw/`` holds the TU text files::

    NAME_A.txt                 one "i, j" line per directed edge (1-based node ids)
    NAME_graph_indicator.txt   graph id (1-based) of each node
    NAME_graph_labels.txt      label of each graph
    NAME_node_labels.txt       optional: integer label of each node (one-hot encoded by PyG)
    NAME_node_attributes.txt   optional: comma-separated attributes of each node

``root`` defaults to ``$COMPANION_DATA/tu``. PyG's ``TUDataset`` parses the files (and caches a
``processed/`` folder beside ``raw/``); it downloads only when ``raw/`` is missing, so this loader
checks the files first and raises ``FileNotFoundError`` instead.
Graphs without node features get a constant feature (the DiffPool code's choice for COLLAB and
REDDIT, which have none).
"""

from __future__ import annotations

from pathlib import Path

import torch

from companion.data._registry import local_root, register

REQUIRED = ("A", "graph_indicator", "graph_labels")
HINT = ("Download NAME.zip from https://chrsmrrs.github.io/datasets/ and unzip it so that "
        "<root>/NAME/raw/NAME_A.txt exists (root defaults to $COMPANION_DATA/tu).")


@register("tu_local", "local", "TU graph-classification datasets (ENZYMES, PROTEINS, DD, ...) from a local folder")
def load_tu_local(dataset: str = "ENZYMES", root: str | Path | None = None, use_node_attr: bool = False) -> list:
    """The graphs of the TU dataset ``dataset`` (e.g. ``"ENZYMES"``) as a list of PyG ``Data`` (``x``, ``edge_index``, ``y``).

    ``root`` is the folder holding ``NAME/raw/``; ``use_node_attr`` adds the continuous node
    attributes to the one-hot node labels.
    """
    if not isinstance(dataset, str) or not dataset or "/" in dataset:
        raise ValueError(f"dataset must be a TU dataset name such as 'ENZYMES', got {dataset!r}")
    name = dataset
    base = local_root(root, "tu", HINT.replace("NAME", name))
    raw = base / name / "raw"
    missing = [f"{name}_{part}.txt" for part in REQUIRED if not (raw / f"{name}_{part}.txt").is_file()]
    if missing:
        raise FileNotFoundError(f"{name}: missing {', '.join(missing)} in {raw}. {HINT.replace('NAME', name)}")
    from torch_geometric.datasets import TUDataset

    dataset = TUDataset(str(base), name, use_node_attr=use_node_attr)
    graphs = []
    for data in dataset:
        if data.x is None or data.x.shape[1] == 0:
            data.x = torch.ones(data.num_nodes, 1)
        graphs.append(data)
    return graphs
