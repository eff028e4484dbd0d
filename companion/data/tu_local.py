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
REDDIT, which have none). Every file is checked before PyG parses it, so a truncated, empty or
malformed file is a ``ValueError`` naming the file, the line and the expected format.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from companion.data._registry import local_root, register

REQUIRED = ("A", "graph_indicator", "graph_labels")
FORMATS = {
    "A": "one 'i, j' line of two node ids >= 1 per directed edge",
    "graph_indicator": "one graph id >= 1 per line and node, sorted, ids 1..G without gaps",
    "graph_labels": "one integer label per line and graph",
    "node_labels": "integer node labels (comma-separated if several), one line per node",
    "node_attributes": "comma-separated numbers, the same count on each line, one line per node",
    "edge_labels": "integer edge labels, one line per line of NAME_A.txt",
    "edge_attributes": "comma-separated numbers, one line per line of NAME_A.txt",
}
HINT = ("Download NAME.zip from https://chrsmrrs.github.io/datasets/ and unzip it so that "
        "<root>/NAME/raw/NAME_A.txt exists (root defaults to $COMPANION_DATA/tu).")


def _expected(part: str, name: str) -> str:
    return f"expected {FORMATS[part].replace('NAME', name)} (TU text format)"


def read_table(path: Path, part: str, name: str, dtype: type = np.int64) -> np.ndarray:
    """The numbers of one TU file as an (lines, columns) array; ``ValueError`` naming the file
    (and the line) when it is empty, truncated, ragged or holds something that is not a number."""
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file; {_expected(part, name)}") from None
    if not text.strip():
        raise ValueError(f"{path}: empty file; {_expected(part, name)}")
    if not text.endswith("\n"):  # PyG drops the text after the last newline without a word
        raise ValueError(f"{path}: the last line has no newline (a truncated file?); {_expected(part, name)}")
    lines = text.split("\n")[:-1]
    try:  # fast path: one C-level conversion of every number
        values = np.array(text.replace(",", " ").split(), dtype=dtype)
        cols = lines[0].count(",") + 1
        if values.size == cols * len(lines) and all(line.count(",") == cols - 1 for line in lines):
            return values.reshape(len(lines), cols)
    except ValueError:
        pass
    cols = None
    for i, line in enumerate(lines, 1):  # slow path: find the first bad line for the message
        try:
            row = [dtype(v) for v in line.split(",")]
        except ValueError:
            raise ValueError(f"{path}, line {i}: {line.strip()!r} is not {'integers' if dtype is np.int64 else 'numbers'}; "
                             f"{_expected(part, name)}") from None
        if cols is not None and len(row) != cols:
            raise ValueError(f"{path}, line {i}: {len(row)} values where line 1 has {cols}; {_expected(part, name)}")
        cols = len(row)
    raise ValueError(f"{path}: unreadable; {_expected(part, name)}")  # not reached: the slow path finds it


def check_raw_files(raw: Path, name: str) -> None:
    """Check the TU files of ``name`` in ``raw``: formats, and counts that agree with each other.

    Raises ``ValueError`` naming the first bad file and the format it should have.
    """
    path = {part: raw / f"{name}_{part}.txt" for part in FORMATS}
    a = read_table(path["A"], "A", name)
    batch = read_table(path["graph_indicator"], "graph_indicator", name)
    labels = read_table(path["graph_labels"], "graph_labels", name)
    if a.shape[1] != 2 or a.min() < 1:
        raise ValueError(f"{path['A']}: {a.shape[1]} values per line, smallest id {a.min()}; {_expected('A', name)}")
    if batch.shape[1] != 1 or batch.min() < 1 or (np.diff(batch[:, 0]) < 0).any() or \
            (np.diff(batch[:, 0]) > 1).any() or batch[0, 0] != 1:
        raise ValueError(f"{path['graph_indicator']}: ids are not 1..G in sorted order; "
                         f"{_expected('graph_indicator', name)}")
    n, g = len(batch), int(batch[-1, 0])
    if a.max() > n:
        raise ValueError(f"{path['A']}: node id {a.max()} but {path['graph_indicator'].name} lists {n} nodes "
                         f"(a truncated file?); {_expected('A', name)}")
    if (batch[a[:, 0] - 1, 0] != batch[a[:, 1] - 1, 0]).any():
        raise ValueError(f"{path['A']}: an edge joins two graphs of {path['graph_indicator'].name}; "
                         f"{_expected('A', name)}")
    if labels.shape != (g, 1):
        raise ValueError(f"{path['graph_labels']}: {labels.shape[0]} lines of {labels.shape[1]} values for {g} graphs "
                         f"(a truncated file?); {_expected('graph_labels', name)}")
    for part, rows, dtype in (("node_labels", n, np.int64), ("node_attributes", n, np.float64),
                              ("edge_labels", len(a), np.int64), ("edge_attributes", len(a), np.float64)):
        if path[part].is_file():
            table = read_table(path[part], part, name, dtype)
            if len(table) != rows:
                raise ValueError(f"{path[part]}: {len(table)} lines for {rows} "
                                 f"{'nodes' if part.startswith('node') else 'edges'} (a truncated file?); "
                                 f"{_expected(part, name)}")


@register("tu_local", "local", "TU graph-classification datasets (ENZYMES, PROTEINS, DD, ...) from a local folder")
def load_tu_local(dataset: str = "ENZYMES", root: str | Path | None = None, use_node_attr: bool = False) -> list:
    """The graphs of the TU dataset ``dataset`` (e.g. ``"ENZYMES"``) as a list of PyG ``Data`` (``x``, ``edge_index``, ``y``).

    ``root`` is the folder holding ``NAME/raw/``; ``use_node_attr`` adds the continuous node
    attributes to the one-hot node labels. Raises ``FileNotFoundError`` when a required file is
    missing and ``ValueError`` (naming the file and its expected format) when one is corrupt,
    truncated or empty.
    """
    if not isinstance(dataset, str) or not dataset or "/" in dataset:
        raise ValueError(f"dataset must be a TU dataset name such as 'ENZYMES', got {dataset!r}")
    name = dataset
    base = local_root(root, "tu", HINT.replace("NAME", name))
    raw = base / name / "raw"
    missing = [f"{name}_{part}.txt" for part in REQUIRED if not (raw / f"{name}_{part}.txt").is_file()]
    if missing:
        raise FileNotFoundError(f"{name}: missing {', '.join(missing)} in {raw}. {HINT.replace('NAME', name)}")
    check_raw_files(raw, name)
    from torch_geometric.datasets import TUDataset

    try:
        dataset = TUDataset(str(base), name, use_node_attr=use_node_attr)
    except Exception as e:  # what the checks above cannot see
        raise ValueError(f"{raw}: PyG could not build {name} from these files ({type(e).__name__}: {e}); "
                         f"expected the TU text files {name}_A.txt, {name}_graph_indicator.txt, ...") from None
    graphs = []
    for data in dataset:
        if data.x is None or data.x.shape[1] == 0:
            data.x = torch.ones(data.num_nodes, 1)
        graphs.append(data)
    return graphs
