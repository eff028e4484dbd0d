"""Companion package of the course book: one subpackage per method, shared parts at the top.

Shared parts: :mod:`companion.utils` (seeding, device, training loop, timing, paths, threads),
:mod:`companion.results` (results files written by chapter CLIs), :mod:`companion.plotting`,
:mod:`companion.data` (the offline dataset registry) and :mod:`companion.exercises`.

Threads: importing the package applies one policy, ``COMPANION_THREADS`` threads (default 1) for
torch, OpenMP and BLAS (see :func:`companion.set_threads`). OpenMP and OpenBLAS workers spin on
busy cores: with their default of one thread per core, a notebook ran 19 times slower beside two
background processes (359 s instead of 19 s).

Numerics: importing the package also pins the CPU code paths of torch, oneDNN, MKL, OpenBLAS and
numpy to one common baseline (``COMPANION_NUMERICS=portable``, the default: x86-64 with AVX2 and
FMA), so that a run gives the same bits on every x86-64 machine of that level or newer, whatever
its vector width or vendor. ``COMPANION_NUMERICS=native`` leaves every library its own choice
(faster on some machines; results then match only on the same kind of CPU). See
:func:`companion.utils.numerics_info` for what is in force.
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

# The portable baseline. Each library picks its kernels from the CPU it finds, and the kernels round
# differently: measured on one AVX-512 machine, torch's softmax (ATen), convolutions (oneDNN), numpy's
# exp/log (its AVX-512 loops) and numpy's matrix products (OpenBLAS's core type) all change bits with
# the code path, and a trained network's accuracy then moves by up to a seed's spread. MKL's branch is
# COMPATIBLE because MKL's documentation names it for the same results on Intel and compatible CPUs
# (its AVX2 branch falls back to automatic dispatch on non-Intel CPUs). ATen's "default" level would
# reach pre-AVX2 CPUs too, but it draws different random normals (torch.randn has an AVX2 kernel),
# so AVX2 is the common level. These variables are read when
# each library first dispatches, so they must be set before numpy loads and before torch's first op.
PORTABLE_NUMERICS = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "COMPATIBLE",
    "OPENBLAS_CORETYPE": "Haswell",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
}
NUMERICS_MODES = ("portable", "native")


def _numerics_mode() -> str:
    """``COMPANION_NUMERICS`` (``portable`` when unset), checked."""
    mode = _os.environ.get("COMPANION_NUMERICS", "portable").strip().lower()
    if mode not in NUMERICS_MODES:
        raise ValueError(f"COMPANION_NUMERICS must be one of {NUMERICS_MODES}, "
                         f"got {_os.environ['COMPANION_NUMERICS']!r}")
    return mode


if _numerics_mode() == "portable":
    # overwritten, not setdefault: a value left in the shell (or a machine's image) would silently
    # move results off the baseline; COMPANION_NUMERICS=native is the way to choose your own
    _os.environ.update(PORTABLE_NUMERICS)

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
