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
        rule:
          kind: greater                     # greater | less | at_least | at_most | match
          a: {file: cv_hier_graphs_diffpool.json, method: diffpool, metric: accuracy}
          b: {file: cv_hier_graphs_flat-mean.json, method: flat-mean, metric: accuracy}

``a`` and ``b`` name summary rows (``setting`` optional, default ``""``) of results files in the
chapter's ``results/``. The rules, with ``A`` and ``B`` the rows' means and ``sA``, ``sB`` their stds:

- ``greater``: *reproduced* when ``A - B > sA + sB`` (a gap larger than both spreads),
  *reproduced in direction* when ``A > B`` only, else *not reproduced*. ``less`` mirrors it.
- ``at_least`` / ``at_most`` with ``value`` (``a`` only): *reproduced* when ``A - sA >= value``
  (``A + sA <= value``), *in direction* when the mean alone passes, else *not reproduced*.
- ``match`` with ``tolerance`` (``a`` and ``paper_value``): *reproduced* when
  ``|A - paper_value| <= tolerance``, else *not reproduced*; a match on a setting that is not
  comparable to the paper's is *not comparable* (a number from other data says nothing).

The verdict is computed, never written, so a chapter and the report cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from companion.results import load_results, summary_lookup
from companion.utils import repo_path

__all__ = ["VERDICTS", "Claim", "verdict", "load_claims", "chapter_claims", "claims_table", "book_claims"]

REPRODUCED = "reproduced"
IN_DIRECTION = "reproduced in direction"
NOT_REPRODUCED = "not reproduced"
NOT_COMPARABLE = "not comparable"
VERDICTS = (REPRODUCED, IN_DIRECTION, NOT_REPRODUCED, NOT_COMPARABLE)
RULES = ("greater", "less", "at_least", "at_most", "match")


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


def _row(rows: Mapping[tuple[str, str, str], Mapping[str, Any]], ref: Mapping[str, Any], where: str):
    key = (str(ref.get("setting", "")), str(ref["method"]), str(ref["metric"]))
    if key not in rows:
        near = sorted({f"{m}/{t}" for (s, m, t) in rows if s == key[0]})
        raise ValueError(f"{where}: no summary row setting={key[0]!r} method={key[1]!r} metric={key[2]!r}; "
                         f"that setting has {near[:12]}")
    return rows[key]


def verdict(rule: Mapping[str, Any], a: Mapping[str, Any], b: Mapping[str, Any] | None = None,
            *, paper_value: float | None = None, comparable: bool = True) -> str:
    """The verdict of one rule on summary rows ``a`` (and ``b``); see the module docstring."""
    kind = rule.get("kind")
    if kind not in RULES:
        raise ValueError(f"rule kind must be one of {RULES}, got {kind!r}")
    mean_a, std_a = float(a["mean"]), float(a.get("std") or 0.0)
    if kind in ("greater", "less"):
        if b is None:
            raise ValueError(f"rule {kind!r} compares two rows: give b")
        gap = mean_a - float(b["mean"]) if kind == "greater" else float(b["mean"]) - mean_a
        spread = std_a + float(b.get("std") or 0.0)
        return REPRODUCED if gap > spread else IN_DIRECTION if gap > 0 else NOT_REPRODUCED
    if kind in ("at_least", "at_most"):
        if "value" not in rule:
            raise ValueError(f"rule {kind!r} needs a value")
        sign = 1.0 if kind == "at_least" else -1.0
        margin = sign * (mean_a - float(rule["value"]))
        return REPRODUCED if margin - std_a >= 0 else IN_DIRECTION if margin >= 0 else NOT_REPRODUCED
    if paper_value is None or "tolerance" not in rule:
        raise ValueError("rule 'match' needs the claim's paper_value and the rule's tolerance")
    if not comparable:
        return NOT_COMPARABLE
    return REPRODUCED if abs(mean_a - float(paper_value)) <= float(rule["tolerance"]) else NOT_REPRODUCED


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
    for i, c in enumerate(doc["claims"]):
        where = f"{path}: claims[{i}]"
        missing = [k for k in ("id", "claim", "rule", "comparable") if k not in c]
        if missing:
            raise ValueError(f"{where} lacks {missing}")
        rule = c["rule"]
        if rule.get("kind") not in RULES or "a" not in rule:
            raise ValueError(f"{where}: rule needs kind in {RULES} and a row 'a'")
        claims.append(Claim(chapter=chapter, id=str(c["id"]), claim=str(c["claim"]), rule=rule,
                            comparable=bool(c["comparable"]), comparable_why=str(c.get("comparable_why", "")),
                            paper_value=c.get("paper_value"), paper_setting=str(c.get("paper_setting", "")),
                            citation=str(c.get("citation", doc.get("paper", ""))),
                            section=str(c.get("section", ""))))
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
    result = verdict(claim.rule, rows["a"], rows.get("b"), paper_value=claim.paper_value,
                     comparable=claim.comparable)
    return {"a": rows["a"], "b": rows.get("b"), "verdict": result}


def chapter_claims(chapter: str) -> list[dict[str, Any]]:
    """Every claim of a chapter with its measured rows and computed verdict.

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
    return f"{row['mean']:.3g} ± {std:.2g} (n={row['n']})" if std is not None else f"{row['mean']:.3g}"


def claims_table(chapter: str):
    """A pandas table of a chapter's claims: claim, paper, ours (A vs B), comparable, verdict."""
    import pandas as pd

    records = []
    for item in chapter_claims(chapter):
        c: Claim = item["claim"]
        ours = _fmt(item["a"]) + (f" vs {_fmt(item['b'])}" if item["b"] is not None else "")
        rule = c.rule
        if rule["kind"] in ("at_least", "at_most"):
            ours += f" ({'≥' if rule['kind'] == 'at_least' else '≤'} {rule['value']})"
        records.append({"claim": c.claim,
                        "paper": "" if c.paper_value is None else f"{c.paper_value:g}",
                        "paper setting": c.paper_setting,
                        "ours": ours,
                        "comparable": "yes" if c.comparable else f"no: {c.comparable_why}",
                        "verdict": item["verdict"]})
    return pd.DataFrame.from_records(records)


def book_claims() -> list[dict[str, Any]]:
    """The claims of every chapter that has a claims file, in folder order."""
    out = []
    for path in sorted(repo_path("book").glob("*/claims.yml")):
        out.extend(chapter_claims(path.parent.name))
    return out
