"""Companion package of the course book: one subpackage per method, shared parts at the top.

Shared parts: :mod:`companion.utils` (seeding, device, training loop, timing, paths, threads),
:mod:`companion.results` (results files written by chapter CLIs), :mod:`companion.plotting`,
:mod:`companion.data` (the offline dataset registry) and :mod:`companion.exercises`.

Threads: importing the package applies one policy, ``COMPANION_THREADS`` threads (default 1) for
torch, OpenMP and BLAS (see :func:`companion.set_threads`). OpenMP and OpenBLAS workers spin on
busy cores: with their default of one thread per core, a notebook ran 19 times slower beside two
background processes (359 s instead of 19 s).
"""

# Before anything imports numpy or torch: their thread pools read these when they load. setdefault,
# so a value the user exported wins. Only the standard library here (setuptools reads __version__
# from this file without importing torch).
import os as _os
import sys as _sys


def _default_threads() -> int:
    """``COMPANION_THREADS`` as an int >= 1 (1 when unset)."""
    raw = _os.environ.get("COMPANION_THREADS", "1")
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"COMPANION_THREADS must be an integer >= 1, got {raw!r}")
    return n


for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, str(_default_threads()))
del _name
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP workers sleep instead of spinning

__version__ = "0.1.0"

# numpy or torch loaded before us (a notebook's first cell): their pools already exist, so the
# policy is applied at run time, by importing companion.utils (it limits the live pools once).
if "torch" in _sys.modules or "numpy" in _sys.modules:
    from companion import utils  # noqa: E402,F401


def __getattr__(name: str):
    # `companion.set_threads` without importing torch when `companion` alone is imported
    if name == "set_threads":
        from companion.utils import set_threads

        return set_threads
    raise AttributeError(f"module 'companion' has no attribute {name!r}")
