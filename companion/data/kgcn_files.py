"""``kgcn_files``: the KGNN-LS paper's preprocessed files, read from a folder you downloaded.

The official repository (hwwang55/KGNN-LS) ships raw files and a ``src/preprocess.py`` that writes,
for each dataset (``movie``, ``music``, ``book``, ``restaurant``), two files:

* ``ratings_final.txt``: ``user_index \\t item_index \\t label`` per line, label 1 for a positive
  (MovieLens rating >= 4; any Last.FM listen) and 0 for an unwatched item drawn as a negative
  (as many negatives as positives per user);
* ``kg_final.txt``: ``head \\t relation \\t tail`` integer ids, items keeping ids ``0..n_items-1``.

Nothing is downloaded here: run the official preprocessing, then put the two files in
``<root>/<dataset>/`` (or pass ``root=`` pointing at the folder that holds them).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from companion.data._registry import local_root, register
from companion.data.kg_recsys import KGRecData

HINT = ("Clone https://github.com/hwwang55/KGNN-LS, run `python src/preprocess.py -d movie` (or music) "
        "as its README says, and copy data/<dataset>/ratings_final.txt and kg_final.txt into this "
        "folder (or set COMPANION_DATA so that $COMPANION_DATA/kgcn_<dataset>/ holds them).")


def _read_int_table(path: Path, columns: str) -> np.ndarray:
    """The ``(N, 3)`` integer table of ``path``; every failure names the file and the expected format."""
    expected = f"expected lines of 3 tab-separated non-negative integers ({columns}), as written by preprocess.py"
    if not path.is_file():
        raise FileNotFoundError(f"kgcn_files: {path} is missing. {HINT}")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty; {expected}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy only warns about a file without data lines
            table = np.loadtxt(path, dtype=np.int64, ndmin=2)
    except UserWarning:
        raise ValueError(f"{path}: no data lines; {expected}") from None
    except ValueError as e:  # UnicodeDecodeError is a ValueError too
        reason = " ".join(str(e).split())[:200]
        raise ValueError(f"{path}: {expected}; got unreadable content ({type(e).__name__}: {reason})") from None
    if table.shape[0] == 0:
        raise ValueError(f"{path}: no data lines; {expected}")
    if table.shape[1] != 3:
        raise ValueError(f"{path}: {expected}; got {table.shape[1]} columns")
    if table.min() < 0:
        row = int(np.argwhere(table < 0)[0, 0])
        raise ValueError(f"{path}: {expected}; got a negative id on data line {row + 1}: {table[row].tolist()}")
    return table


@register("kgcn_files", "local", "KGNN-LS preprocessed ratings_final.txt / kg_final.txt from a local folder")
def load_kgcn_files(root: str | Path | None = None, dataset: str = "movie") -> KGRecData:
    """Read ``ratings_final.txt`` and ``kg_final.txt`` from ``root`` (else ``$COMPANION_DATA/kgcn_<dataset>``).

    Counts follow the official ``data_loader.py``: ``n_users`` / ``n_items`` from the largest ids
    in the ratings, ``n_entities`` from the KG's heads and tails (and the items),
    ``n_relations`` from its relation ids.
    """
    folder = local_root(root, f"kgcn_{dataset}", HINT)
    ratings = _read_int_table(folder / "ratings_final.txt", "user, item, label")
    kg = _read_int_table(folder / "kg_final.txt", "head, relation, tail")
    bad = np.flatnonzero(~np.isin(ratings[:, 2], (0, 1)))
    if len(bad):
        raise ValueError(f"{folder / 'ratings_final.txt'}: labels (third column) must be 0 or 1; "
                         f"data line {bad[0] + 1} is {ratings[bad[0]].tolist()}")
    n_items = int(ratings[:, 1].max()) + 1
    n_entities = max(int(kg[:, [0, 2]].max()) + 1, n_items)
    n_relations = int(kg[:, 1].max()) + 1
    return KGRecData(ratings=ratings, kg=kg, n_users=int(ratings[:, 0].max()) + 1, n_items=n_items,
                     n_entities=n_entities, n_relations=n_relations,
                     relation_names=[f"relation:{r}" for r in range(n_relations)],
                     extra={"root": str(folder), "dataset": dataset})
