"""``python -m companion.data list`` and ``python -m companion.data fetch NAME [--root DIR]``.

``list`` shows every dataset that can be fetched: its size, the folder it goes to, whether it is
there, and the loader that reads it. ``fetch`` downloads one (or several) into the loader's layout
(see :mod:`companion.data.fetch`). Nothing else in the book downloads.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from companion.data import fetch as fetch_mod


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m companion.data",
                                description="Fetch the papers' datasets into $COMPANION_DATA (opt-in downloads).")
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="the datasets that can be fetched: size, folder, fetched or not")
    ls.add_argument("--root", type=Path, default=None,
                    help="the folder that holds the datasets' folders (default: $COMPANION_DATA)")
    f = sub.add_parser("fetch", help="download datasets into the folders their loaders read")
    f.add_argument("names", nargs="+", metavar="NAME", help=f"one or more of: {', '.join(fetch_mod.CATALOGUE)}")
    f.add_argument("--root", type=Path, default=None,
                   help="the dataset's own folder, i.e. the loader's root= (default: $COMPANION_DATA/<folder>; "
                        "with several NAMEs: the folder that holds their folders)")
    f.add_argument("--only", default=None, metavar="A,B",
                   help="otb100: the sequences to fetch, comma-separated (default: all 98 folders)")
    f.add_argument("--keep-archives", action="store_true", help="keep the zip/tar files in <root>/.download/")
    f.add_argument("--no-progress", action="store_true", help="no progress bar (as COMPANION_NO_PROGRESS=1)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (1 with a one-line reason when a fetch fails)."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        rows = fetch_mod.listing(args.root)
        cols = ("name", "size", "fetched", "where", "loader")
        width = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
        print("  ".join(c.ljust(width[c]) for c in cols))
        for r in rows:
            print("  ".join(r[c].ljust(width[c]) for c in cols))
        return 0
    unknown = [n for n in args.names if n.lower() not in fetch_mod.CATALOGUE]
    if unknown:
        _parser().error(f"NAME: unknown {', '.join(unknown)}; choose from {', '.join(fetch_mod.CATALOGUE)}")
    only = [s for s in args.only.split(",") if s] if args.only else None
    if only and any(n.lower() != "otb100" for n in args.names):
        _parser().error("--only: applies to otb100 alone")
    if args.no_progress:
        os.environ["COMPANION_NO_PROGRESS"] = "1"
    status = 0
    for name in args.names:
        e = fetch_mod.entry(name)
        root = None if args.root is None else (args.root if len(args.names) == 1 else args.root / e.folder)
        try:
            fetch_mod.fetch(name, root, only=only, keep_archives=args.keep_archives)
        except (fetch_mod.FetchError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
