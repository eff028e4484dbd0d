"""``planetoid``: PyG's ``Planetoid`` (Cora, CiteSeer, PubMed) read from a folder the reader filled.

Nothing is downloaded. Put Kipf's raw files (``ind.cora.x``, ``.tx``, ``.allx``, ``.y``, ``.ty``,
``.ally``, ``.graph``, ``.test.index``; from https://github.com/kimiyoung/planetoid, folder
``data/``) into ``<root>/Cora/raw/`` and call ``load("planetoid", dataset="Cora", root=<root>)``, or
set ``COMPANION_DATA`` so that the root is ``$COMPANION_DATA/planetoid``. PyG writes its
processed file next to them (``<root>/Cora/processed/``).
"""

from __future__ import annotations

from pathlib import Path

from companion.data._registry import local_root, register

NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
RAW_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def raw_file_names(name: str) -> list[str]:
    """The eight raw files PyG's ``Planetoid`` reads for ``name``."""
    return [f"ind.{name.lower()}.{s}" for s in RAW_SUFFIXES]


@register("planetoid", "local", "PyG Planetoid (Cora/CiteSeer/PubMed) from local raw files; never downloaded")
def load_planetoid(dataset: str = "Cora", root: str | Path | None = None):
    """The Planetoid graph ``dataset`` as a PyG ``Data`` with the public split masks.

    Raises ``ValueError`` for an unknown dataset name and ``FileNotFoundError`` (naming the missing
    files and where they go) when the raw files are not there, before PyG could try a download.
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
    from torch_geometric.datasets import Planetoid

    return Planetoid(str(root), name)[0]
