"""The registry behind :func:`companion.data.load`."""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

SOURCES = ("package", "generator", "local")


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    source: str  # "package" (real data inside a PyPI package), "generator" (seeded), "local" (reader's files)
    description: str
    loader: Callable[..., Any]


_REGISTRY: dict[str, DatasetInfo] = {}
_DISCOVERED = False


def register(name: str, source: str, description: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that adds a loader to the registry under ``name``."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY and _REGISTRY[name].loader is not fn:
            raise ValueError(f"dataset {name!r} is registered twice")
        _REGISTRY[name] = DatasetInfo(name, source, description, fn)
        return fn

    return wrap


def _discover() -> None:
    """Import every module of ``companion.data`` once, so each registers its loaders.

    A chapter adds a dataset by adding a module; nothing central has to be edited.
    """
    global _DISCOVERED
    if _DISCOVERED:
        return
    import companion.data as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"companion.data.{mod.name}")
    _DISCOVERED = True


def available() -> dict[str, DatasetInfo]:
    """All registered datasets by name."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def load(name: str, download: bool = False, **kwargs: Any) -> Any:
    """Load the offline dataset ``name`` (see :func:`available`); keyword arguments go to its loader.

    ``download=True`` (off by default, never used by the book) first fetches the files a local
    loader reads when they are not in its folder yet (see :mod:`companion.data.fetch`).
    """
    _discover()
    if name not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    if download:
        from companion.data import fetch

        fetch.ensure(name, kwargs)
    return _REGISTRY[name].loader(**kwargs)


def require(package: str, pip_name: str | None = None) -> Any:
    """Import an optional data package, or raise an ImportError that names what to install."""
    try:
        return importlib.import_module(package)
    except ImportError as err:
        raise ImportError(
            f"this dataset needs the package {pip_name or package!r}: "
            'pip install "mlbook-companion[chapters]" (every chapter\'s packages) '
            f"or pip install {pip_name or package}"
        ) from err


def package_dir(package: str, pip_name: str | None = None) -> Path:
    """The installed folder of ``package`` without importing it (data files only)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ImportError(
            f"this dataset reads files shipped by {pip_name or package!r}: pip install {pip_name or package}"
        )
    return Path(spec.origin).parent


def local_root(root: str | Path | None, dataset: str, hint: str) -> Path:
    """Resolve the folder of a reader-downloaded dataset: ``root``, else ``$COMPANION_DATA/<dataset>``.

    ``hint`` says what to download and where to put it; it is part of the error when missing,
    with a pointer to the opt-in download (``python -m companion.data fetch``).
    """
    hint = f"{hint} (Or let the package fetch it: python -m companion.data list.)"
    if root is None:
        base = os.environ.get("COMPANION_DATA")
        if base is None:
            raise FileNotFoundError(
                f"{dataset}: no root= given and COMPANION_DATA is not set. {hint}"
            )
        root = Path(base) / dataset
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{dataset}: folder {root} does not exist. {hint}")
    return root


