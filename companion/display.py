"""How the chapters show tables and figures: one call in each chapter's first cell.

pandas cuts long cells with "..." at 50 characters by default, which truncated method and
setting labels in the book's tables; the book shows them whole.
"""

from __future__ import annotations

__all__ = ["setup"]


def setup() -> None:
    """Show whole table cells and all columns; figures at a size that reads on the page."""
    import matplotlib as mpl
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_columns", None)
    pd.set_option("display.width", 120)
    mpl.rcParams["figure.dpi"] = 100
