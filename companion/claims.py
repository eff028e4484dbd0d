"""Paper claims, declared next to a chapter's results, and their verdicts computed from the results.

Each chapter has ``book/NN_topic/claims.yml``::

    paper: ying2018diffpool                 # citation key of the chapter's paper
    claims:
      - id: beats-flat
        claim: DiffPool classifies graphs more accurately than flat (global) pooling.
        paper_value: 0.057                  # optional: the paper's number (here: mean gain)
        paper_setting: TU benchmarks, 10-fold CV, average gain over GraphSAGE with global pooling
        citation: ying2018diffpool
        comparable: false                   # is our setting the paper's (same data and protocol)?
        comparable_why: generated hierarchical graphs, not the TU benchmarks
        section: what-we-measured           # label of the chapter section that explains the verdict
        paper_quantity: gap                 # optional: which of our numbers paper_value is compared with
        paper_command: enzymes              # optional: the run of course.yml's paper_setting that
                                            # tests it in the paper's own setting (companion.paper)
        rule:
          kind: greater                     # greater | less | at_least | at_most | match
          a: {file: cv_hier_graphs_diffpool.json, method: diffpool, metric: accuracy}
          b: {file: cv_hier_graphs_flat-mean.json, method: flat-mean, metric: accuracy}

``a`` and ``b`` name summary rows (``setting`` optional, default ``""``) of results files in the
chapter's ``results/``. The rules, with ``A`` and ``B`` the rows' means and ``sA``, ``sB`` their stds
(sample standard deviations over the seeds, see :mod:`companion.results`):

- ``greater``: the *gap* is ``A - B``, read against the *spread* ``sA + sB``: *reproduced* when
  ``gap > spread`` (a gap larger than both spreads), *within noise* when ``|gap| <= spread``, *not
  reproduced* when ``gap < -spread`` (the other way, beyond the noise). ``less`` mirrors it
  (gap ``B - A``).
- ``no_worse`` with ``margin`` (``a`` and ``b``): "A keeps B's level", e.g. accuracy preserved:
  the same three-way reading of the gap ``A - B + margin`` (the margin is the claim's, stated in
  its text).
- ``at_least`` / ``at_most`` with ``value`` (``a`` only): the gap is the margin ``A - value``
  (``value - A``), read against ``sA``: *reproduced* when ``margin >= sA`` (the value holds one
  spread away from the mean; with ``sA = 0``, a mean exactly on the value holds), *within noise*
  when ``-sA <= margin < sA``, *not reproduced* when ``margin < -sA``.
- ``match`` with ``tolerance`` (``a`` and ``paper_value``): *reproduced* when
  ``|A - paper_value| <= tolerance``, else *not reproduced*; a match on a setting that is not
  comparable to the paper's is *not comparable* (a number from other data says nothing).

*Within noise* is shown with the sign of the gap (:attr:`Judgement.text`, and the count labels
``within noise (+)`` / ``within noise (−)`` of :func:`verdict_counts`): ``+`` means the means lean
the claimed way, ``−`` that they do not (a gap of exactly 0 included); either way a few more seeds
could reverse it. There is no "reproduced in direction": a gap in the claimed direction is either
beyond the spread (*reproduced*) or within it (*within noise*, ``+``).

A spread needs seeds: a row measured over fewer than ``MIN_SEEDS`` (3) seeds has none to read a
gap against (one seed has no std at all), so every rule but ``match`` gives it *too few seeds*,
whose text names the fewest seeds and the gap with its sign ("too few seeds (n=1; gap +0.47)").

``paper_quantity`` says which of our numbers is the counterpart of ``paper_value`` in the
report's paper-vs-ours plot: ``a`` (the mean ``A``), ``gap`` (``A - B``) or ``change_pct``
(``100 (A - B) / B``). Without it, a ``match`` claim compares ``A`` and a ``greater`` claim the
gap; other claims with a ``paper_value`` are left out of the plot (their number may be in other
units, e.g. a % change beside a rate).

``paper_command`` names a run declared under ``paper_setting`` in the chapter's ``course.yml``
(see :mod:`companion.paper`): the ``make paper`` line that tests the claim in the paper's own
setting, or, where the CLI cannot run that setting yet, the text saying what it lacks. The report
shows it beside the verdict.

The verdict is computed, never written, so a chapter and the report cannot disagree.
The reproduction report (``book/report.md``) reads :func:`report_rows`, which also checks that
each claim's ``section`` is a ``(label)=`` before a heading in its chapter and that its
``citation`` is a key of the book's ``.bib`` files (``bibtex_bibfiles`` of ``_config.yml``), so a broken link or citation fails the build too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from companion.results import MIN_SEEDS, has_spread, load_results, summary_lookup
from companion.utils import repo_path

__all__ = ["VERDICTS", "COUNT_LABELS", "MIN_SEEDS", "PAPER_QUANTITIES", "Claim", "Judgement", "judge", "verdict",
           "load_claims", "chapter_claims", "claims_table", "book_claims", "claim_chapters", "claims_coverage",
           "chapter_document", "verdict_counts", "verdict_matrix", "report_rows", "report_markdown"]

REPRODUCED = "reproduced"
WITHIN_NOISE = "within noise"
NOT_REPRODUCED = "not reproduced"
TOO_FEW_SEEDS = "too few seeds"
NOT_COMPARABLE = "not comparable"
VERDICTS = (REPRODUCED, WITHIN_NOISE, NOT_REPRODUCED, TOO_FEW_SEEDS, NOT_COMPARABLE)
# what the counts tell apart: within noise by the sign of the gap
NOISE_LEANS, NOISE_AGAINST = "within noise (+)", "within noise (−)"
COUNT_LABELS = (REPRODUCED, NOISE_LEANS, NOISE_AGAINST, NOT_REPRODUCED, TOO_FEW_SEEDS, NOT_COMPARABLE)
RULES = ("greater", "less", "no_worse", "at_least", "at_most", "match")
PAPER_QUANTITIES = ("a", "gap", "change_pct")


@dataclass(frozen=True)
class Claim:
    """One claim of a chapter's paper with the summary rows that measure it."""

    chapter: str
    id: str
    claim: str
    rule: Mapping[str, Any]
    comparable: bool
    comparable_why: str = ""
    paper_value: float | None = None
    paper_setting: str = ""
    citation: str = ""
    section: str = ""
    paper_quantity: str | None = None
    paper_command: str = ""

    @property
    def compared_quantity(self) -> str | None:
        """Which of our numbers ``paper_value`` is compared with (``None``: not comparable as a number)."""
        if self.paper_value is None:
            return None
        if self.paper_quantity is not None:
            return self.paper_quantity
        return {"match": "a", "greater": "gap"}.get(self.rule["kind"])


def _row(rows: Mapping[tuple[str, str, str], Mapping[str, Any]], ref: Mapping[str, Any], where: str):
    key = (str(ref.get("setting", "")), str(ref["method"]), str(ref["metric"]))
    if key not in rows:
        near = sorted({f"{m}/{t}" for (s, m, t) in rows if s == key[0]})
        raise ValueError(f"{where}: no summary row setting={key[0]!r} method={key[1]!r} metric={key[2]!r}; "
                         f"that setting has {near[:12]}")
    return rows[key]


@dataclass(frozen=True)
class Judgement:
    """A rule's verdict with the numbers it read.

    ``gap`` is signed so that a positive gap is the claimed way (``A - B``; ``B - A`` for ``less``;
    ``+ margin`` for ``no_worse``; the margin to the value for ``at_least``/``at_most``), ``spread``
    what it was read against (``sA + sB`` or ``sA``; ``None`` without a spread) and ``n`` the fewest
    seeds of the rows read. A ``match`` has none of the three.
    """

    verdict: str
    gap: float | None = None
    spread: float | None = None
    n: int | None = None
    threshold: bool = False  # an at_least/at_most rule: its gap is a margin to a value

    @property
    def label(self) -> str:
        """The verdict as :func:`verdict_counts` counts it: within noise split by the gap's sign."""
        if self.verdict != WITHIN_NOISE:
            return self.verdict
        return NOISE_LEANS if self.gap is not None and self.gap > 0 else NOISE_AGAINST

    @property
    def text(self) -> str:
        """The verdict as a table shows it: within noise with its signed gap and spread, too few seeds with n."""
        word = "margin" if self.threshold else "gap"
        if self.verdict == WITHIN_NOISE:
            return f"{WITHIN_NOISE} ({word} {self.gap:+.2g}, spread {self.spread:.2g})"
        if self.verdict == TOO_FEW_SEEDS:
            return f"{TOO_FEW_SEEDS} (n={self.n}; {word} {self.gap:+.2g})"
        return self.verdict


def _std(row: Mapping[str, Any]) -> float:
    """A row's std for a spread sum; ``None`` (one seed) adds nothing, and such a row never gets that far."""
    std = row.get("std")
    return float(std) if has_spread(std) else 0.0


def _three_way(gap: float, spread: float, n: int, threshold: bool = False) -> Judgement:
    if n < MIN_SEEDS:
        return Judgement(TOO_FEW_SEEDS, gap, spread, n, threshold)
    if threshold:  # at least (most) a value: a mean exactly one spread away still holds it
        result = (REPRODUCED if gap >= spread else NOT_REPRODUCED if gap < -spread else WITHIN_NOISE)
    else:
        result = REPRODUCED if gap > spread else NOT_REPRODUCED if gap < -spread else WITHIN_NOISE
    return Judgement(result, gap, spread, n, threshold)


def judge(rule: Mapping[str, Any], a: Mapping[str, Any], b: Mapping[str, Any] | None = None,
          *, paper_value: float | None = None, comparable: bool = True) -> Judgement:
    """The verdict of one rule on summary rows ``a`` (and ``b``), with its gap; see the module docstring."""
    kind = rule.get("kind")
    if kind not in RULES:
        raise ValueError(f"rule kind must be one of {RULES}, got {kind!r}")
    mean_a, n_a = float(a["mean"]), int(a.get("n", 1))
    if kind in ("greater", "less", "no_worse"):
        if b is None:
            raise ValueError(f"rule {kind!r} compares two rows: give b")
        if kind == "no_worse" and "margin" not in rule:
            raise ValueError("rule 'no_worse' needs a margin (how far below B still counts as B's level)")
        gap = mean_a - float(b["mean"]) if kind != "less" else float(b["mean"]) - mean_a
        gap += float(rule.get("margin", 0.0)) if kind == "no_worse" else 0.0
        return _three_way(gap, _std(a) + _std(b), min(n_a, int(b.get("n", 1))))
    if kind in ("at_least", "at_most"):
        if "value" not in rule:
            raise ValueError(f"rule {kind!r} needs a value")
        sign = 1.0 if kind == "at_least" else -1.0
        return _three_way(sign * (mean_a - float(rule["value"])), _std(a), n_a, threshold=True)
    if paper_value is None or "tolerance" not in rule:
        raise ValueError("rule 'match' needs the claim's paper_value and the rule's tolerance")
    if not comparable:
        return Judgement(NOT_COMPARABLE)
    return Judgement(REPRODUCED if abs(mean_a - float(paper_value)) <= float(rule["tolerance"]) else NOT_REPRODUCED)


def verdict(rule: Mapping[str, Any], a: Mapping[str, Any], b: Mapping[str, Any] | None = None,
            *, paper_value: float | None = None, comparable: bool = True) -> str:
    """The verdict (one of :data:`VERDICTS`) of one rule on summary rows ``a`` (and ``b``); see :func:`judge`."""
    return judge(rule, a, b, paper_value=paper_value, comparable=comparable).verdict


def load_claims(chapter: str) -> tuple[str, list[Claim]]:
    """The paper key and the claims of ``book/<chapter>/claims.yml``, checked for their fields."""
    import yaml  # a dependency of the book build, needed only here

    path = repo_path("book", chapter, "claims.yml")
    if not path.is_file():
        raise FileNotFoundError(f"no claims file at {path}")
    doc = yaml.safe_load(path.read_text()) or {}
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list) or not doc["claims"]:
        raise ValueError(f"{path}: expected a mapping with a non-empty 'claims' list")
    claims = []
    runs: list[str] | None = None  # the chapter's declared paper-setting runs, read once if named
    for i, c in enumerate(doc["claims"]):
        where = f"{path}: claims[{i}]"
        missing = [k for k in ("id", "claim", "rule", "comparable") if k not in c]
        if missing:
            raise ValueError(f"{where} lacks {missing}")
        rule = c["rule"]
        if rule.get("kind") not in RULES or "a" not in rule:
            raise ValueError(f"{where}: rule needs kind in {RULES} and a row 'a'")
        quantity = c.get("paper_quantity")
        if quantity is not None:
            if quantity not in PAPER_QUANTITIES:
                raise ValueError(f"{where}: paper_quantity must be one of {PAPER_QUANTITIES}, got {quantity!r}")
            if quantity != "a" and "b" not in rule:
                raise ValueError(f"{where}: paper_quantity {quantity!r} needs a row 'b' in the rule")
        run = c.get("paper_command")
        if run is not None:
            from companion import paper

            if runs is None:
                runs = paper.run_ids(chapter)
            if run not in runs:
                raise ValueError(f"{where}: paper_command {run!r} is not a run of book/{chapter}/course.yml's "
                                 f"paper_setting; its runs are {runs}")
        claims.append(Claim(chapter=chapter, id=str(c["id"]), claim=str(c["claim"]), rule=rule,
                            comparable=bool(c["comparable"]), comparable_why=str(c.get("comparable_why", "")),
                            paper_value=c.get("paper_value"), paper_setting=str(c.get("paper_setting", "")),
                            citation=str(c.get("citation", doc.get("paper", ""))),
                            section=str(c.get("section", "")), paper_quantity=quantity,
                            paper_command="" if run is None else str(run)))
    return str(doc.get("paper", "")), claims


def _measure(claim: Claim, cache: dict[Path, dict]) -> dict[str, Any]:
    where = f"book/{claim.chapter}/claims.yml: {claim.id}"
    rows = {}
    for side in ("a", "b"):
        ref = claim.rule.get(side)
        if ref is None:
            continue
        for key in ("file", "method", "metric"):
            if key not in ref:
                raise ValueError(f"{where}: row {side} lacks {key!r}")
        path = repo_path("book", claim.chapter, "results", str(ref["file"]))
        if path not in cache:
            cache[path] = summary_lookup(load_results(path))
        rows[side] = _row(cache[path], ref, f"{where} ({ref['file']})")
    result = judge(claim.rule, rows["a"], rows.get("b"), paper_value=claim.paper_value,
                   comparable=claim.comparable)
    return {"a": rows["a"], "b": rows.get("b"), "verdict": result.verdict, "judgement": result}


def chapter_claims(chapter: str) -> list[dict[str, Any]]:
    """Every claim of a chapter with its measured rows and computed verdict.

    Each record holds ``claim``, rows ``a`` and ``b`` (``None`` for a one-row rule), ``verdict``
    (one of :data:`VERDICTS`) and ``judgement`` (its :class:`Judgement`: gap, spread, n, text).

    Raises ``ValueError`` naming the claims file and the claim when a row does not exist, so a
    build that reads this fails rather than showing a stale verdict.
    """
    _, claims = load_claims(chapter)
    cache: dict[Path, dict] = {}
    out = []
    for claim in claims:
        measured = _measure(claim, cache)
        out.append({"claim": claim, **measured})
    return out


def _fmt(row: Mapping[str, Any] | None) -> str:
    if row is None:
        return ""
    std = row.get("std")
    return (f"{row['mean']:.3g} ± {std:.2g} (n={row['n']})" if has_spread(std)
            else f"{row['mean']:.3g} (n={row['n']})")


def _ours(item: Mapping[str, Any]) -> str:
    """Row A (vs row B), each named by its method, with the threshold of an at_least/at_most rule:
    what the verdict read."""
    rule = item["claim"].rule
    ours = f"{rule['a']['method']} {_fmt(item['a'])}"
    if item["b"] is not None:
        ours += f" vs {rule['b']['method']} {_fmt(item['b'])}"
    if rule["kind"] in ("at_least", "at_most"):
        ours += f" ({'≥' if rule['kind'] == 'at_least' else '≤'} {rule['value']})"
    if rule["kind"] == "no_worse":
        ours += f" (margin {rule['margin']})"
    return ours


def claims_table(chapter: str):
    """A pandas table of a chapter's claims, indexed by claim id: claim, paper, ours (A vs B),
    comparable, verdict (its :attr:`Judgement.text`: within noise with the gap's sign, too few
    seeds with n)."""
    import pandas as pd

    records = []
    for item in chapter_claims(chapter):
        c: Claim = item["claim"]
        records.append({"id": c.id, "claim": c.claim,
                        "paper": "" if c.paper_value is None else f"{c.paper_value:g}",
                        "paper setting": c.paper_setting,
                        "ours": _ours(item),
                        "comparable": "yes" if c.comparable else f"no: {c.comparable_why}",
                        "verdict": item["judgement"].text})
    return pd.DataFrame.from_records(records).set_index("id")  # the id the report page links by


def book_claims() -> list[dict[str, Any]]:
    """The claims of every chapter that has a claims file, in folder order."""
    out = []
    for path in sorted(repo_path("book").glob("*/claims.yml")):
        out.extend(chapter_claims(path.parent.name))
    return out


# ---- the reproduction report -------------------------------------------------------------------

def claim_chapters() -> list[str]:
    """Chapter folders that must declare claims: ``book/NN_*/`` except ``00_getting_started``."""
    return sorted(p.name for p in repo_path("book").glob("[0-9][0-9]_*")
                  if p.is_dir() and p.name != "00_getting_started")


def claims_coverage() -> dict[str, int]:
    """The number of claims of every chapter of :func:`claim_chapters` (0 where it has no claims file)."""
    out = {}
    for chapter in claim_chapters():
        has_file = repo_path("book", chapter, "claims.yml").is_file()
        out[chapter] = len(load_claims(chapter)[1]) if has_file else 0
    return out


def _chapter_sources(chapter: str) -> list[Path]:
    return sorted(p for p in repo_path("book", chapter).glob("*.md") if "\nkernelspec:" in p.read_text())


def chapter_document(chapter: str) -> str:
    """The chapter's notebook as a document name relative to ``book/`` (``"08_diffpool/diffpool"``)."""
    sources = _chapter_sources(chapter)
    if len(sources) != 1:
        raise ValueError(f"book/{chapter}/ must hold exactly one notebook (.md with a kernelspec), "
                         f"found {[p.name for p in sources]}")
    return f"{chapter}/{sources[0].stem}"


def _section_labels(chapter: str) -> set[str]:
    """The ``(label)=`` targets of a chapter's notebook that stand before a heading."""
    labels = set()
    for source in _chapter_sources(chapter):
        lines = source.read_text().splitlines()
        for i, line in enumerate(lines):
            m = re.fullmatch(r"\(([^()\s]+)\)=\s*", line)
            if m is None:
                continue
            following = next((nxt for nxt in lines[i + 1:] if nxt.strip()), "")
            if following.startswith("#"):
                labels.add(m.group(1))
    return labels


def _bib_files() -> list[Path]:
    """The ``bibtex_bibfiles`` of ``_config.yml`` (where there is none: every ``references.bib``)."""
    config = repo_path("_config.yml")
    if config.is_file():
        import yaml

        files = (yaml.safe_load(config.read_text()) or {}).get("bibtex_bibfiles")
        if files:
            return [repo_path(f) for f in files]
    return [repo_path("references.bib"), *sorted(repo_path("book").glob("*/references.bib"))]


def _bib_keys() -> set[str]:
    keys = set()
    for bib in _bib_files():
        if bib.is_file():
            keys.update(re.findall(r"@\w+\s*\{\s*([^,\s]+)\s*,", bib.read_text()))
    return keys


def _items(items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return book_claims() if items is None else items


def verdict_counts(items: list[dict[str, Any]] | None = None) -> dict[str, int]:
    """How many claims got each verdict, every label of :data:`COUNT_LABELS` present (0 if none).

    *Within noise* is counted by the sign of the gap (``within noise (+)``: the means lean the
    claimed way; ``within noise (−)``: they do not). ``items`` are records of :func:`chapter_claims`
    or :func:`book_claims` (the default).
    """
    counts = dict.fromkeys(COUNT_LABELS, 0)
    for item in _items(items):
        counts[item["judgement"].label] += 1
    return counts


def verdict_matrix(items: list[dict[str, Any]] | None = None):
    """A pandas table of claim counts, one row per chapter and a ``total`` row, one column per label
    of :data:`COUNT_LABELS` (within noise by the gap's sign, as in :func:`verdict_counts`) and ``claims``."""
    import pandas as pd

    items = _items(items)
    chapters = sorted({item["claim"].chapter for item in items})
    table = pd.DataFrame(0, index=pd.Index(chapters, name="chapter"), columns=list(COUNT_LABELS), dtype=int)
    for item in items:
        table.loc[item["claim"].chapter, item["judgement"].label] += 1
    table.loc["total"] = table.sum()
    table["claims"] = table.sum(axis=1)
    return table


def _counterpart(item: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """Our number that ``paper_value`` is compared with, and its spread (``None`` where a row has
    none, i.e. one seed), per ``compared_quantity``."""
    quantity = item["claim"].compared_quantity
    a, b = item["a"], item["b"]
    sa = float(a["std"]) if has_spread(a.get("std")) else None
    if quantity == "a":
        return float(a["mean"]), sa
    if quantity is None or b is None:
        return None, None
    sb = float(b["std"]) if has_spread(b.get("std")) else None
    gap = float(a["mean"]) - float(b["mean"])
    spread = None if sa is None or sb is None else sa + sb
    if quantity == "gap":
        return gap, spread
    if float(b["mean"]) == 0.0:
        raise ValueError(f"book/{item['claim'].chapter}/claims.yml: {item['claim'].id}: "
                         "paper_quantity 'change_pct' needs a nonzero B mean")
    return 100.0 * gap / abs(float(b["mean"])), None if spread is None else 100.0 * spread / abs(float(b["mean"]))


def report_rows(items: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One flat record per claim for the reproduction report, in chapter order.

    Each record has ``chapter``, ``document`` (the chapter's notebook, see :func:`chapter_document`),
    ``id``, ``claim``, ``section`` (its label) and ``link`` (``"#label"``, a MyST reference), the
    paper's ``paper_value``, ``paper_setting`` and ``citation``, our ``a_mean``, ``a_std``,
    ``b_mean``, ``b_std`` (a std is ``None`` for one seed) and ``ours`` (as text), ``quantity`` with
    ``ours_value`` and ``ours_spread`` (our counterpart of ``paper_value``; ``None`` where there is
    none), ``comparable``, ``comparable_why``, ``verdict`` (one of :data:`VERDICTS`),
    ``verdict_label`` (as counted, :data:`COUNT_LABELS`), ``verdict_text`` (as shown, with the gap's
    sign), ``gap``, ``spread``, ``n`` (what the rule read; ``None`` for a ``match``), and
    ``paper_run``, ``paper_make``, ``paper_missing``, ``paper_link`` (the claim's run in the paper's
    own setting: its id, its ``make paper`` line or what the CLI lacks, and the chapter section on
    that setting; ``""`` where there is none).

    Raises ``ValueError`` naming the claims file and the claim when the claim has no ``section``,
    when the section is not a ``(label)=`` before a heading in the chapter, or when the citation
    is not a key of the book's ``.bib`` files; and whatever :func:`chapter_claims` raises for a missing row.
    """
    items = _items(items)
    labels: dict[str, set[str]] = {}
    keys = _bib_keys()
    records = []
    for item in items:
        c: Claim = item["claim"]
        where = f"book/{c.chapter}/claims.yml: {c.id}"
        if c.chapter not in labels:
            labels[c.chapter] = _section_labels(c.chapter)
        if not c.section:
            raise ValueError(f"{where} lacks 'section': the label of the chapter section that explains it")
        if c.section not in labels[c.chapter]:
            raise ValueError(f"{where}: section {c.section!r} is not a '({c.section})=' label before a heading "
                             f"in book/{c.chapter}/; the chapter has {sorted(labels[c.chapter])}")
        if c.citation and c.citation not in keys:
            raise ValueError(f"{where}: citation {c.citation!r} is not a key of the book's .bib files "
                             f"{[str(p.relative_to(repo_path())) for p in _bib_files()]}")
        value, spread = _counterpart(item)
        a, b, judgement = item["a"], item["b"], item["judgement"]
        records.append({
            "chapter": c.chapter, "document": chapter_document(c.chapter), "id": c.id, "claim": c.claim,
            "section": c.section, "link": f"#{c.section}",
            "paper_value": None if c.paper_value is None else float(c.paper_value),
            "paper_setting": c.paper_setting, "citation": c.citation,
            "a_mean": float(a["mean"]), "a_std": float(a["std"]) if has_spread(a.get("std")) else None,
            "b_mean": None if b is None else float(b["mean"]),
            "b_std": float(b["std"]) if b is not None and has_spread(b.get("std")) else None,
            "ours": _ours(item), "quantity": c.compared_quantity if value is not None else None,
            "ours_value": value, "ours_spread": spread,
            "comparable": c.comparable, "comparable_why": c.comparable_why, "verdict": judgement.verdict,
            "verdict_label": judgement.label, "verdict_text": judgement.text,
            "gap": judgement.gap, "spread": judgement.spread, "n": judgement.n,
            **_paper_run(c, labels[c.chapter]),
        })
    return records


def _paper_run(c: Claim, labels: set[str]) -> dict[str, str]:
    """``paper_run`` (the run id, ``""`` without one), ``paper_make`` (its ``make paper`` line, ``""``
    where the run cannot be run yet), ``paper_missing`` (what the CLI lacks, ``""`` otherwise) and
    ``paper_link`` (``"#<topic>-paper-setting"``, the chapter's section on the paper's setting,
    which must be a ``(label)=`` before a heading of the chapter: ``labels``)."""
    if not c.paper_command:
        return {"paper_run": "", "paper_make": "", "paper_missing": "", "paper_link": ""}
    from companion import paper

    label = f"{c.chapter[3:]}-paper-setting"
    if label not in labels:
        raise ValueError(f"book/{c.chapter}/claims.yml: {c.id} names paper_command {c.paper_command!r}, but the "
                         f"chapter has no '({label})=' section on the paper's own setting")
    [run] = [r for r in paper.paper_runs(c.chapter) if r["id"] == c.paper_command]
    out = {"paper_run": run["id"], "paper_make": "", "paper_missing": "", "paper_link": f"#{label}"}
    if "missing" in run:
        return {**out, "paper_missing": " ".join(run["missing"].split())}
    return {**out, "paper_make": paper.make_command(c.chapter, run["id"])}


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|{}$&#~])")


def _md(text: str) -> str:
    """Plain text as Markdown that renders as itself (one line, special characters escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


QUANTITY_WORDS = {"a": "", "gap": "gap", "change_pct": "change"}


def report_markdown(rows: list[dict[str, Any]]) -> str:
    """A MyST Markdown table of report rows: the claim (linked to its section), the paper's number and
    setting (with a ``{cite:p}`` role), ours (each row named by its method), the gap or margin the
    rule read with its spread, comparable, verdict (its text, with the gap's sign), and the claim's
    test in the paper's own setting (its ``make paper`` line, or what the CLI lacks to run it).

    Needs MyST rendering of Markdown outputs (``mystnb: render_markdown_format: myst`` in the
    page's metadata) for the links and citations to resolve.
    """
    if not rows:
        raise ValueError("rows must hold at least one report row")
    lines = ["| claim | paper (number, setting) | ours | gap (spread) | comparable | verdict "
             "| in the paper's setting |",
             "|:--|:--|:--|:--|:--|:--|:--|"]
    for r in rows:
        paper = "" if r["paper_value"] is None else f"**{r['paper_value']:g}**"
        if r["paper_setting"]:
            paper += (": " if paper else "") + _md(r["paper_setting"])
        if r["citation"]:
            paper += f" {{cite:p}}`{r['citation']}`"
        ours = _md(r["ours"])
        if r["quantity"] in ("gap", "change_pct"):
            unit = " %" if r["quantity"] == "change_pct" else ""
            ours += f"; {QUANTITY_WORDS[r['quantity']]} **{r['ours_value']:+.3g}{unit}**"
        comparable = "yes" if r["comparable"] else "no: " + _md(r["comparable_why"])
        gap = "" if r["gap"] is None else f"{r['gap']:+.3g}" + (
            "" if r["spread"] is None else f" ({r['spread']:.2g})")
        setting = (f"`{r['paper_make']}`" if r.get("paper_make")
                   else f"not runnable yet: {_md(r['paper_missing'])}" if r.get("paper_missing") else "")
        if setting and r.get("paper_link"):
            setting = f"[{setting}]({r['paper_link']})"
        lines.append(f"| [{_md(r['claim'])}]({r['link']}) | {paper.strip()} | {ours} | {gap} | {comparable} "
                     f"| **{_md(r['verdict_text'])}** | {setting} |")
    return "\n".join(lines) + "\n"
