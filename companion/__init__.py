"""Companion package of the course book: one subpackage per method, shared parts at the top.

Shared parts: :mod:`companion.utils` (seeding, device, training loop, timing, paths),
:mod:`companion.results` (results files written by chapter CLIs), :mod:`companion.plotting`,
:mod:`companion.data` (the offline dataset registry) and :mod:`companion.exercises`.
"""

__version__ = "0.1.0"
