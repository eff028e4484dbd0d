"""Offline datasets: ``companion.data.load(name, **kwargs)``.

Three kinds of source, never the network unless asked (see ``../shared/DATA.md``):
real data inside a PyPI package, seeded generators in this folder, and loaders for the papers'
datasets in a local folder the reader downloaded (``root=`` or ``$COMPANION_DATA``), which
``python -m companion.data fetch NAME`` or ``load(NAME, download=True)`` fills on request
(:mod:`companion.data.fetch`).
Each module of this folder registers its loaders with :func:`register`; a new dataset is a new module.
"""

from companion.data._registry import (
    DatasetInfo,
    available,
    load,
    local_root,
    package_dir,
    register,
    require,
)

__all__ = ["DatasetInfo", "available", "load", "local_root", "package_dir", "register", "require"]
