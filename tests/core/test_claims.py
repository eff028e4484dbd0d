"""Claim verdicts are computed from summary rows: one test per verdict and per broken claims file."""

import pytest

from companion import claims, results


def row(mean, std=0.0, n=3):
    return {"mean": mean, "std": std, "n": n}


def test_greater_reproduced_only_beyond_both_spreads():
    rule = {"kind": "greater"}
    assert claims.verdict(rule, row(0.80, 0.02), row(0.70, 0.03)) == "reproduced"
    assert claims.verdict(rule, row(0.74, 0.02), row(0.70, 0.03)) == "reproduced in direction"
    assert claims.verdict(rule, row(0.69, 0.02), row(0.70, 0.03)) == "not reproduced"
    assert claims.verdict({"kind": "less"}, row(0.60, 0.01), row(0.70, 0.01)) == "reproduced"
    with pytest.raises(ValueError, match="give b"):
        claims.verdict(rule, row(0.8))


def test_thresholds_and_match():
    assert claims.verdict({"kind": "at_least", "value": 0.9}, row(0.95, 0.01)) == "reproduced"
    assert claims.verdict({"kind": "at_least", "value": 0.9}, row(0.905, 0.01)) == "reproduced in direction"
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
    rows = [{"method": m, "seed": s, "acc": v} for m, vals in {"new": [0.9, 0.92], "old": [0.7, 0.72]}.items()
            for s, v in enumerate(vals)]
    results.save_results(book / "results" / "t.json", rows, seeds=[0, 1], command="python -m companion.toy",
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
    assert table.loc[0, "verdict"] == "reproduced" and table.loc[0, "comparable"] == "no: toy data"


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
