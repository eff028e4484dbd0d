"""Author-year labels for the bibliography list, so a citation reads the same in the text and in the list.

A Sphinx extension (``_config.yml``: ``sphinx.local_extensions``). It registers the pybtex
formatting style ``author_year`` (pybtex's ``plain`` style, sorted by author, year, title) whose
label style makes labels like "Kipf and Welling, 2017" and "Franceschi et al., 2019". With
``bibtex_reference_style: label`` a ``{cite}`` in the text prints that same label in brackets,
``[Kipf and Welling, 2017]``, and links to the entry of the page's own ``{bibliography}``, which
shows ``[Kipf and Welling, 2017]`` before the entry.

Labels are fixed for the whole book, not per list: two papers with the same author-year label
anywhere in ``bibtex_bibfiles`` become ``2019a`` and ``2019b`` (in author, year, title order), so
a paper has one label in every chapter and two chapters never show one label for two papers.
An entry with a field ``duplicateof = {key}`` (the same paper under a second key, kept only until
the chapters cite the first key) gets the label of ``key``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pybtex.plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle

_last_name = pybtex.plugin.find_plugin("pybtex.style.names", "last")()


def _plain(latex: str) -> str:
    """LaTeX of a bib field as the reader sees it: braces dropped, accents decoded."""
    return Text.from_latex(latex).render_as("text")


def author_year_label(entry) -> str:
    """'Last', 'Last1 and Last2' or 'Last1 et al.', then ', year' (the names of sphinxcontrib-bibtex's
    author_year style: the author list, else the editors, else the title)."""
    persons = entry.persons.get("author") or entry.persons.get("editor")
    if persons:
        names = [_plain(_last_name.format(p, True).format().render_as("latex")) for p in persons]
        who = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al."
    else:
        who = _plain(entry.fields.get("title", entry.key))
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


def unique_labels(entries) -> dict[str, str]:
    """key -> label for every entry, with a, b, ... after the year where two papers share a label."""
    entries = list(entries)
    papers = [e for e in entries if "duplicateof" not in e.fields]
    papers = pybtex.plugin.find_plugin("pybtex.style.sorting", "author_year_title")().sort(papers)
    plain = {e.key: author_year_label(e) for e in papers}
    count, seen, labels = Counter(plain.values()), Counter(), {}
    for e in papers:
        label = plain[e.key]
        if count[label] > 1:
            seen[label] += 1
            label += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
        labels[e.key] = label
    for e in entries:
        if "duplicateof" in e.fields:
            labels[e.key] = labels.get(e.fields["duplicateof"], author_year_label(e))
    return labels


_BIBFILES: list[Path] = []  # set when Sphinx starts (bibtex_bibfiles)
_LABELS: dict[str, str] | None = None


def book_labels() -> dict[str, str]:
    global _LABELS
    if _LABELS is None:
        from pybtex.database import BibliographyData, parse_file

        data = BibliographyData()
        for path in _BIBFILES:
            for key, entry in parse_file(str(path)).entries.items():
                data.entries.setdefault(key, entry)
        _LABELS = unique_labels(data.entries.values())
    return _LABELS


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        sorted_entries = list(sorted_entries)
        book = book_labels()
        local = unique_labels(e for e in sorted_entries if e.key not in book)  # not in the book's files
        for entry in sorted_entries:
            yield book.get(entry.key) or local[entry.key]


class AuthorYearStyle(PlainStyle):
    default_label_style = "author_year"
    default_sorting_style = "author_year_title"


pybtex.plugin.register_plugin("pybtex.style.labels", "author_year", AuthorYearLabelStyle)
pybtex.plugin.register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)


def _read_bibfiles(app, config):
    global _LABELS
    _BIBFILES[:] = [Path(app.confdir) / f for f in config.bibtex_bibfiles]
    _LABELS = None


def setup(app):
    app.connect("config-inited", _read_bibfiles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
