"""Claim verdicts are computed from summary rows: one test per verdict and per broken claims file."""

import numpy as np
import pytest

from companion import claims, results


def row(mean, std=0.0, n=3):
    return {"mean": mean, "std": std, "n": n}


def test_greater_reads_the_gap_against_both_spreads():
    rule = {"kind": "greater"}
    assert claims.verdict(rule, row(0.80, 0.02), row(0.70, 0.03)) == "reproduced"
    assert claims.verdict(rule, row(0.74, 0.02), row(0.70, 0.03)) == "within noise"
    assert claims.verdict(rule, row(0.69, 0.02), row(0.70, 0.03)) == "within noise"  # against, but inside the noise
    assert claims.verdict(rule, row(0.60, 0.02), row(0.70, 0.03)) == "not reproduced"
    assert claims.verdict({"kind": "less"}, row(0.60, 0.01), row(0.70, 0.01)) == "reproduced"
    assert claims.verdict({"kind": "less"}, row(0.80, 0.01), row(0.70, 0.01)) == "not reproduced"
    with pytest.raises(ValueError, match="give b"):
        claims.verdict(rule, row(0.8))


def test_a_gap_in_direction_inside_the_spread_is_within_noise_with_its_sign():
    # the case that used to read "reproduced in direction": +0.0006 against a spread of 0.016
    ahead = claims.judge({"kind": "greater"}, row(0.2860, 0.008), row(0.2854, 0.008))
    assert ahead.verdict == "within noise" and ahead.label == "within noise (+)"
    assert ahead.gap == pytest.approx(0.0006) and ahead.spread == pytest.approx(0.016)
    assert ahead.text == "within noise (gap +0.0006, spread 0.016)"
    behind = claims.judge({"kind": "greater"}, row(0.2854, 0.008), row(0.2860, 0.008))
    assert behind.label == "within noise (−)" and behind.text == "within noise (gap -0.0006, spread 0.016)"
    tie = claims.judge({"kind": "greater"}, row(0.5, 0.0), row(0.5, 0.0))
    assert tie.verdict == "within noise" and tie.label == "within noise (−)"  # no lean the claimed way
    assert "reproduced in direction" not in claims.VERDICTS + claims.COUNT_LABELS


def test_fewer_than_three_seeds_say_so():
    # one seed has no std: any positive gap would otherwise count as beyond the spread
    one = claims.judge({"kind": "greater"}, row(0.9, None, n=1), row(0.5, None, n=1))
    assert one.verdict == "too few seeds" and one.text == "too few seeds (n=1; gap +0.4)"
    two = claims.judge({"kind": "greater"}, row(0.9, 0.01, n=3), row(0.5, 0.0, n=2))
    assert two.verdict == "too few seeds" and two.n == 2 and two.label == "too few seeds"
    against = claims.judge({"kind": "greater"}, row(0.4, None, n=1), row(0.5, None, n=1))
    assert against.verdict == "too few seeds" and against.text == "too few seeds (n=1; gap -0.1)"
    assert claims.judge({"kind": "at_least", "value": 0.5}, row(0.9, 0.0, n=2)).text == \
        "too few seeds (n=2; margin +0.4)"
    # a match reads no spread, so it needs no seeds
    assert claims.verdict({"kind": "match", "tolerance": 0.02}, row(0.85, None, n=1), paper_value=0.855) == "reproduced"


def test_no_worse_keeps_the_level_within_the_margin():
    rule = {"kind": "no_worse", "margin": 0.01}
    assert claims.verdict(rule, row(0.890, 0.002), row(0.893, 0.002)) == "reproduced"
    assert claims.verdict(rule, row(0.886, 0.002), row(0.893, 0.002)) == "within noise"
    assert claims.verdict(rule, row(0.880, 0.002), row(0.893, 0.002)) == "within noise"
    assert claims.verdict(rule, row(0.870, 0.002), row(0.893, 0.002)) == "not reproduced"
    with pytest.raises(ValueError, match="needs a margin"):
        claims.verdict({"kind": "no_worse"}, row(0.9), row(0.9))


def test_thresholds_and_match():
    assert claims.verdict({"kind": "at_least", "value": 0.9}, row(0.95, 0.01)) == "reproduced"
    assert claims.verdict({"kind": "at_least", "value": 0.9}, row(0.91, 0.01)) == "reproduced"  # one spread away
    near = claims.judge({"kind": "at_least", "value": 0.9}, row(0.905, 0.01))
    assert near.verdict == "within noise" and near.text == "within noise (margin +0.005, spread 0.01)"
    assert claims.verdict({"kind": "at_least", "value": 0.9}, row(0.895, 0.01)) == "within noise"
    assert claims.verdict({"kind": "at_least", "value": 0.9}, row(0.88, 0.01)) == "not reproduced"
    assert claims.verdict({"kind": "at_most", "value": 7.0}, row(6.97, 0.0)) == "reproduced"
    assert claims.verdict({"kind": "at_most", "value": 7.0}, row(7.0, 0.0)) == "reproduced"  # exactly on it
    assert claims.verdict({"kind": "at_most", "value": 0.1}, row(0.2, 0.01)) == "not reproduced"
    match = {"kind": "match", "tolerance": 0.02}
    assert claims.verdict(match, row(0.85), paper_value=0.855) == "reproduced"
    assert claims.verdict(match, row(0.80), paper_value=0.855) == "not reproduced"
    assert claims.verdict(match, row(0.85), paper_value=0.855, comparable=False) == "not comparable"
    with pytest.raises(ValueError, match="paper_value"):
        claims.verdict(match, row(0.85))
    with pytest.raises(ValueError, match="rule kind"):
        claims.verdict({"kind": "bigger"}, row(0.85))


@pytest.fixture
def chapter(tmp_path, monkeypatch):
    book = tmp_path / "book" / "99_toy"
    rows = [{"method": m, "seed": s, "acc": v} for m, vals in {"new": [0.9, 0.92, 0.91], "old": [0.7, 0.72, 0.71]}.items()
            for s, v in enumerate(vals)]
    results.save_results(book / "results" / "t.json", rows, seeds=[0, 1, 2], command="python -m companion.toy",
                         metrics={"acc": True})
    monkeypatch.setattr(claims, "repo_path", lambda *parts: tmp_path.joinpath(*parts))
    return book


def write_claims(book, a_method="new"):
    (book / "claims.yml").write_text(f"""
paper: toy2026
claims:
  - id: beats
    claim: new beats old
    comparable: false
    comparable_why: toy data
    rule:
      kind: greater
      a: {{file: t.json, method: {a_method}, metric: acc}}
      b: {{file: t.json, method: old, metric: acc}}
""")


def test_chapter_claims_reads_the_results(chapter):
    write_claims(chapter)
    [item] = claims.chapter_claims("99_toy")
    assert item["verdict"] == "reproduced" and item["a"]["mean"] == pytest.approx(0.91)
    table = claims.claims_table("99_toy")
    assert table.loc["beats", "verdict"] == "reproduced" and table.loc["beats", "comparable"] == "no: toy data"


def test_a_claim_naming_a_missing_row_fails(chapter):
    write_claims(chapter, a_method="newer")
    with pytest.raises(ValueError, match=r"claims.yml: beats \(t.json\): no summary row .*'newer'"):
        claims.chapter_claims("99_toy")


def test_malformed_claims_file_is_named(chapter):
    (chapter / "claims.yml").write_text("claims: []\n")
    with pytest.raises(ValueError, match="non-empty 'claims' list"):
        claims.load_claims("99_toy")
    (chapter / "claims.yml").write_text("claims:\n  - id: x\n    claim: y\n")
    with pytest.raises(ValueError, match=r"lacks \['rule', 'comparable'\]"):
        claims.load_claims("99_toy")


# ---- the reproduction report's helpers -------------------------------------------------------

CHAPTER_MD = """---
kernelspec:
  name: python3
---
(toy)=
# Toy chapter

(toy-table)=

## The table

(toy-figure)=
```{figure} x.png
```
"""


@pytest.fixture
def report_chapter(chapter):
    (chapter / "toy.md").write_text(CHAPTER_MD)
    (chapter / "references.bib").write_text("@article{toy2026,\n  title={Toy},\n}\n")
    return chapter


def write_report_claims(book, section="toy-table", citation="toy2026", extra=""):
    (book / "claims.yml").write_text(f"""
paper: toy2026
claims:
  - id: beats
    claim: new beats old | by a <lot>
    paper_value: 0.15
    paper_setting: "ToyNet, Table 2"
    comparable: false
    comparable_why: toy data
    section: {section}
    citation: {citation}
    rule:
      kind: greater
      a: {{file: t.json, method: new, metric: acc}}
      b: {{file: t.json, method: old, metric: acc}}
  - id: close-to-paper
    claim: new reaches 0.9
    paper_value: 0.9
    comparable: true
    section: toy-table
    rule:
      kind: match
      tolerance: 0.02
      a: {{file: t.json, method: new, metric: acc}}
  - id: above
    claim: old is above 0.8
    paper_value: -12.5
    comparable: false
    section: toy
    {extra}
    rule:
      kind: at_least
      value: 0.8
      a: {{file: t.json, method: old, metric: acc}}
""")


def test_report_rows_and_counts(report_chapter):
    write_report_claims(report_chapter)
    items = claims.chapter_claims("99_toy")
    rows = claims.report_rows(items)
    assert [r["id"] for r in rows] == ["beats", "close-to-paper", "above"]
    beats, close, above = rows
    assert beats["document"] == "99_toy/toy" and beats["link"] == "#toy-table"
    # greater: the paper's number is a gain, compared with our gap A - B and its spread sA + sB
    assert beats["quantity"] == "gap" and beats["ours_value"] == pytest.approx(0.2)
    assert beats["ours_spread"] == pytest.approx(2 * np.std([0.9, 0.92, 0.91], ddof=1))
    assert close["quantity"] == "a" and close["ours_value"] == pytest.approx(0.91)
    assert close["verdict"] == "reproduced"
    # a threshold claim's paper number may be in other units: not plotted unless declared
    assert above["quantity"] is None and above["ours_value"] is None and above["verdict"] == "not reproduced"
    assert above["gap"] == pytest.approx(-0.09) and above["spread"] == pytest.approx(0.01) and above["n"] == 3
    assert claims.verdict_counts(items) == {"reproduced": 2, "within noise (+)": 0, "within noise (−)": 0,
                                            "not reproduced": 1, "too few seeds": 0, "not comparable": 0}
    matrix = claims.verdict_matrix(items)
    assert matrix.loc["99_toy", "reproduced"] == 2 and matrix.loc["total", "claims"] == 3


def test_counts_and_tables_show_the_sign_of_a_gap_within_noise(report_chapter):
    write_report_claims(report_chapter)
    # old above 0.705: 0.71 - 0.705 = +0.005 against a spread of 0.01 is within it, leaning the claimed way
    text = (report_chapter / "claims.yml").read_text().replace("value: 0.8", "value: 0.705")
    (report_chapter / "claims.yml").write_text(text)
    items = claims.chapter_claims("99_toy")
    counts = claims.verdict_counts(items)
    assert counts["within noise (+)"] == 1 and counts["within noise (−)"] == 0 and sum(counts.values()) == 3
    assert claims.verdict_matrix(items).loc["total", "within noise (+)"] == 1
    rows = claims.report_rows(items)
    assert rows[2]["verdict"] == "within noise" and rows[2]["verdict_label"] == "within noise (+)"
    assert rows[2]["verdict_text"] == "within noise (margin +0.005, spread 0.01)"
    assert claims.claims_table("99_toy").loc["above", "verdict"] == "within noise (margin +0.005, spread 0.01)"
    assert "| **within noise (margin +0.005, spread 0.01)** |" in claims.report_markdown(rows)


def test_one_seed_rows_show_no_spread(chapter):
    rows = [{"method": m, "seed": 0, "acc": v} for m, v in (("new", 0.9), ("old", 0.7))]
    results.save_results(chapter / "results" / "t.json", rows, seeds=[0], command="python -m companion.toy",
                         metrics={"acc": True})
    write_claims(chapter)
    [item] = claims.chapter_claims("99_toy")
    assert item["a"]["std"] is None and item["verdict"] == "too few seeds"
    assert claims.claims_table("99_toy").loc["beats", "verdict"] == "too few seeds (n=1; gap +0.2)"
    assert claims.claims_table("99_toy").loc["beats", "ours"] == "new 0.9 (n=1) vs old 0.7 (n=1)"


def test_report_markdown_escapes_and_links(report_chapter):
    write_report_claims(report_chapter)
    text = claims.report_markdown(claims.report_rows(claims.chapter_claims("99_toy")))
    lines = text.strip().splitlines()
    assert len(lines) == 2 + 3 and all(line.count(" | ") == 6 for line in lines[2:])
    assert "| new 0.91 ± 0.01 (n=3) vs old 0.71 ± 0.01 (n=3); gap **+0.2** | +0.2 (0.02) |" in lines[2]
    assert r"[new beats old \| by a \<lot\>](#toy-table)" in lines[2]
    assert "**0.15**: ToyNet, Table 2 {cite:p}`toy2026`" in lines[2] and "gap **+0.2**" in lines[2]
    assert "no: toy data" in lines[2] and lines[3].endswith("| yes | **reproduced** |  |")  # no paper run declared
    with pytest.raises(ValueError, match="at least one"):
        claims.report_markdown([])


def test_paper_quantity_change_pct(report_chapter):
    write_report_claims(report_chapter, extra="paper_quantity: a")
    assert claims.report_rows(claims.chapter_claims("99_toy"))[2]["ours_value"] == pytest.approx(0.71)
    write_report_claims(report_chapter, extra="paper_quantity: gap")
    with pytest.raises(ValueError, match="needs a row 'b'"):
        claims.load_claims("99_toy")
    write_report_claims(report_chapter, extra="paper_quantity: ratio")
    with pytest.raises(ValueError, match="paper_quantity must be one of"):
        claims.load_claims("99_toy")


@pytest.mark.parametrize("section, citation, message", [
    ("toy-missing", "toy2026", r"beats: section 'toy-missing' is not a '\(toy-missing\)=' label before a heading"),
    ("toy-figure", "toy2026", r"section 'toy-figure' is not a"),
    ("''", "toy2026", r"beats lacks 'section'"),
    ("toy-table", "nobody2026", r"beats: citation 'nobody2026' is not a key"),
])
def test_report_rows_reject_broken_links(report_chapter, section, citation, message):
    write_report_claims(report_chapter, section=section, citation=citation)
    with pytest.raises(ValueError, match=message):
        claims.report_rows(claims.chapter_claims("99_toy"))


def test_claims_coverage_counts_every_chapter_folder(report_chapter, tmp_path):
    write_report_claims(report_chapter)
    (tmp_path / "book" / "00_getting_started").mkdir()
    (tmp_path / "book" / "12_empty").mkdir()
    assert claims.claim_chapters() == ["12_empty", "99_toy"]
    assert claims.claims_coverage() == {"12_empty": 0, "99_toy": 3}
    with pytest.raises(ValueError, match="exactly one notebook"):
        claims.chapter_document("12_empty")


def test_citations_are_checked_against_the_configured_bib_files(report_chapter, tmp_path):
    write_report_claims(report_chapter)
    (tmp_path / "_config.yml").write_text("bibtex_bibfiles:\n  - references.bib\n")
    (tmp_path / "references.bib").write_text("@book{other2020,\n  title={Other},\n}\n")
    with pytest.raises(ValueError, match=r"citation 'toy2026' is not a key of the book's .bib files \['references.bib'\]"):
        claims.report_rows(claims.chapter_claims("99_toy"))
    (tmp_path / "references.bib").write_text("@article{toy2026,\n  title={Toy},\n}\n")
    assert len(claims.report_rows(claims.chapter_claims("99_toy"))) == 3
