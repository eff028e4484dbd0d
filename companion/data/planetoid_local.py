"""``planetoid``: PyG's ``Planetoid`` (Cora, CiteSeer, PubMed) read from a folder the reader filled.

Nothing is downloaded. Put Kipf's raw files (``ind.cora.x``, ``.tx``, ``.allx``, ``.y``, ``.ty``,
``.ally``, ``.graph``, ``.test.index``; from https://github.com/kimiyoung/planetoid, folder
``data/``) into ``<root>/Cora/raw/`` and call ``load("planetoid", dataset="Cora", root=<root>)``, or
set ``COMPANION_DATA`` so that the root is ``$COMPANION_DATA/planetoid``. PyG writes its
processed file next to them (``<root>/Cora/processed/``).

Each raw file is checked before PyG reads it, so a truncated, empty or foreign file is a
``ValueError`` that names the file and the format it should have, not a pickle traceback.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from companion.data._registry import local_root, register

NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
RAW_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


FORMATS = {
    "x": "a pickled 2-D feature matrix (scipy.sparse or numpy) of the labelled training nodes",
    "tx": "a pickled 2-D feature matrix (scipy.sparse or numpy) of the test nodes",
    "allx": "a pickled 2-D feature matrix (scipy.sparse or numpy) of all non-test nodes",
    "y": "a pickled 2-D numpy one-hot label array, one row per row of ind.NAME.x",
    "ty": "a pickled 2-D numpy one-hot label array, one row per row of ind.NAME.tx",
    "ally": "a pickled 2-D numpy one-hot label array, one row per row of ind.NAME.allx",
    "graph": "a pickled dict {node id: [neighbour ids]}",
    "test.index": "a text file with one integer node id per line, one line per row of ind.NAME.tx",
}


def raw_file_names(name: str) -> list[str]:
    """The eight raw files PyG's ``Planetoid`` reads for ``name``."""
    return [f"ind.{name.lower()}.{s}" for s in RAW_SUFFIXES]


def _expected(suffix: str, name: str) -> str:
    return f"expected {FORMATS[suffix].replace('NAME', name.lower())} (Kipf's Planetoid format)"


def _unpickle(path: Path, suffix: str, name: str) -> Any:
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file; {_expected(suffix, name)}")
    try:
        with open(path, "rb") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's notice about old pickled sparse classes
            return pickle.load(f, encoding="latin1")  # Kipf's files are Python 2 pickles, as PyG reads them
    except Exception as e:  # a damaged pickle can raise almost anything (EOFError, UnpicklingError, ...)
        raise ValueError(f"{path}: not a readable pickle ({type(e).__name__}: {e}); "
                         f"{_expected(suffix, name)}") from None


def _shape(obj: Any, path: Path, suffix: str, name: str) -> tuple[int, int]:
    shape = getattr(obj, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] < 1 or shape[1] < 1:
        got = f"shape {tuple(shape)}" if shape is not None else f"a {type(obj).__name__}"
        raise ValueError(f"{path}: holds {got}; {_expected(suffix, name)}")
    return int(shape[0]), int(shape[1])


def check_raw_files(raw: Path, name: str) -> None:
    """Check Kipf's eight files in ``raw`` for ``name``: readable, non-empty, shapes that agree.

    Raises ``ValueError`` naming the first bad file and the format it should have.
    """
    path = {s: raw / f"ind.{name.lower()}.{s}" for s in RAW_SUFFIXES}
    shapes = {s: _shape(_unpickle(path[s], s, name), path[s], s, name)
              for s in ("x", "tx", "allx", "y", "ty", "ally")}
    for feats, labels in (("x", "y"), ("tx", "ty"), ("allx", "ally")):
        if shapes[feats][0] != shapes[labels][0]:
            raise ValueError(f"{path[labels]}: {shapes[labels][0]} label rows but {path[feats].name} has "
                             f"{shapes[feats][0]} feature rows; {_expected(labels, name)}")
    for group in (("x", "tx", "allx"), ("y", "ty", "ally")):
        widths = {s: shapes[s][1] for s in group}
        if len(set(widths.values())) > 1:
            raise ValueError(f"{path[group[1]]}: column counts differ between {', '.join(f'{path[s].name} ({w})' for s, w in widths.items())}; "
                             f"{_expected(group[1], name)}")
    graph = _unpickle(path["graph"], "graph", name)
    if not isinstance(graph, dict) or not graph or not all(
            isinstance(k, (int, np.integer)) and hasattr(v, "__iter__") for k, v in graph.items()):
        raise ValueError(f"{path['graph']}: holds {type(graph).__name__} "
                         f"{'(empty)' if isinstance(graph, dict) and not graph else 'of the wrong kind'}; "
                         f"{_expected('graph', name)}")
    test = path["test.index"]
    try:
        text = test.read_text()
    except UnicodeDecodeError:
        raise ValueError(f"{test}: not a text file; {_expected('test.index', name)}") from None
    lines = text.split("\n")[:-1]  # PyG drops the text after the last newline, so do we
    if not lines:
        raise ValueError(f"{test}: empty file (or no newline); {_expected('test.index', name)}")
    for i, line in enumerate(lines, 1):
        try:
            if int(line) < 0:
                raise ValueError
        except ValueError:
            raise ValueError(f"{test}, line {i}: {line!r} is not a node id; {_expected('test.index', name)}") from None
    if len(lines) != shapes["tx"][0]:
        raise ValueError(f"{test}: {len(lines)} complete lines but {path['tx'].name} has {shapes['tx'][0]} rows "
                         f"(a truncated file?); {_expected('test.index', name)}")


@register("planetoid", "local", "PyG Planetoid (Cora/CiteSeer/PubMed) from local raw files; never downloaded")
def load_planetoid(dataset: str = "Cora", root: str | Path | None = None):
    """The Planetoid graph ``dataset`` as a PyG ``Data`` with the public split masks.

    Raises ``ValueError`` for an unknown dataset name or a corrupt, truncated or empty raw file
    (naming it and its expected format), and ``FileNotFoundError`` (naming the missing files and
    where they go) when the raw files are not there, before PyG could try a download.
    """
    key = str(dataset).lower()
    if key not in NAMES:
        raise ValueError(f"dataset must be one of {sorted(NAMES.values())}, got {dataset!r}")
    name = NAMES[key]
    hint = (f"Download Kipf's Planetoid files {', '.join(raw_file_names(name))} "
            f"(https://github.com/kimiyoung/planetoid, folder data/) into <root>/{name}/raw/ "
            "and pass root=<root> (or set COMPANION_DATA to the parent of a 'planetoid' folder).")
    root = local_root(root, "planetoid", hint)
    raw = root / name / "raw"
    missing = [f for f in raw_file_names(name) if not (raw / f).is_file()]
    if missing:
        raise FileNotFoundError(f"planetoid: missing {', '.join(missing)} in {raw}. {hint}")
    check_raw_files(raw, name)
    from torch_geometric.datasets import Planetoid

    try:
        return Planetoid(str(root), name)[0]
    except Exception as e:  # what the checks above cannot see, e.g. node ids beyond the feature rows
        raise ValueError(f"{raw}: PyG could not build {name} from these files ({type(e).__name__}: {e}); "
                         f"expected Kipf's eight ind.{name.lower()}.* files of one data set") from None
