"""A helper for the tests (not a test module): the argparse parser that a chapter CLI's ``main``
builds, captured without running anything after ``parse_args``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util


class _Captured(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def cli_module(module: str):
    """The module whose ``main`` is ``python -m module``."""
    spec = importlib.util.find_spec(module)
    return importlib.import_module(f"{module}.__main__" if spec.submodule_search_locations else module)


def capture_parser(module: str) -> argparse.ArgumentParser:
    """The parser that ``module``'s ``main`` builds (nothing after ``parse_args`` runs)."""
    mod = cli_module(module)

    def grab(self, *args, **kwargs):
        raise _Captured(self)

    original = argparse.ArgumentParser.parse_args
    argparse.ArgumentParser.parse_args = grab
    try:
        mod.main([])
    except _Captured as c:
        return c.parser
    finally:
        argparse.ArgumentParser.parse_args = original
    raise AssertionError(f"{module}.main never parsed its arguments")
