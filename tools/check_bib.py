"""Check the book's one bibliography, references.bib, against the chapters' citations.

    python tools/check_bib.py            # fails on a cited key that is missing, or one paper twice
    python tools/check_bib.py --strict   # also fails while a chapter cites a duplicate key

Fails (exit 1) when a {cite} key of a page under book/ is not in references.bib, when two entries
have the same title without one naming the other in a field ``duplicateof = {key}``, or when a
chapter folder has a references.bib of its own (the book reads only the root file). Lists the
duplicate keys still cited, with the key to cite instead.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parent.parent
CITE = re.compile(r"\{cite[a-z:]*\}`([^`]+)`")


def cited_keys(book: Path) -> dict[str, list[str]]:
    """key -> the pages (relative paths) that cite it."""
    out: dict[str, list[str]] = defaultdict(list)
    for md in sorted(book.rglob("*.md")):
        for m in CITE.finditer(md.read_text()):
            for key in m.group(1).split(","):
                out[key.strip()].append(str(md.relative_to(book.parent)))
    return out


def title_key(fields) -> str:
    return re.sub(r"[^a-z0-9]", "", re.sub(r"\\.|[{}]", "", fields.get("title", "").lower()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strict", action="store_true", help="fail while a duplicate key is cited")
    args = parser.parse_args(argv)
    entries = parse_file(str(ROOT / "references.bib")).entries
    keys = {k.lower(): k for k in entries}
    cited = cited_keys(ROOT / "book")
    errors, notes = [], []
    for key, pages in sorted(cited.items()):
        if key.lower() not in keys:
            errors.append(f"{key}: cited in {', '.join(sorted(set(pages)))}, not in references.bib")
    by_title = defaultdict(list)
    for key, entry in entries.items():
        if "duplicateof" in entry.fields:
            target = entry.fields["duplicateof"]
            if target.lower() not in keys:
                errors.append(f"{key}: duplicateof names {target}, which is not in references.bib")
            if key in cited:
                notes.append(f"{key} -> {target}: cited in {', '.join(sorted(set(cited[key])))}")
        else:
            by_title[title_key(entry.fields)].append(key)
    for same in by_title.values():
        if len(same) > 1:
            errors.append(f"one paper under {len(same)} keys: {', '.join(same)} (keep one)")
    for extra in sorted(ROOT.glob("book/*/references.bib")):
        errors.append(f"{extra.relative_to(ROOT)}: chapter bibliographies are merged into references.bib")
    unused = sorted(k for k, e in entries.items() if k not in cited and "duplicateof" not in e.fields)
    print(f"references.bib: {len(entries)} entries, {len(cited)} keys cited, "
          f"{len(unused)} never cited{': ' + ', '.join(unused) if unused else ''}")
    if notes:
        print("duplicate keys still cited (replace them, then delete their entries):")
        print("\n".join(f"  {n}" for n in notes))
    if errors:
        print("\n".join(errors))
    return 1 if errors or (args.strict and notes) else 0


if __name__ == "__main__":
    sys.exit(main())
