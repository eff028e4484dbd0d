"""The papers' own settings (companion.paper, ``make paper``): every declared command parses with its
CLI's own parser, every claim's paper_command names a declared run, and the Makefile target refuses
an unknown chapter and prints its steps in a dry run, all without network or long work."""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from companion import claims, course, paper
from companion.utils import repo_path


_spec = importlib.util.spec_from_file_location("cli_parsers", Path(__file__).with_name("cli_parsers.py"))
_parsers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_parsers)
cli_module, capture_parser = _parsers.cli_module, _parsers.capture_parser

CHAPTERS = course.chapters()
DECLARED = [(ch, r["id"]) for ch in CHAPTERS if ch != "00_getting_started" for r in paper.paper_runs(ch)]
COMMANDS = [(ch, rid) for ch, rid in DECLARED
            if "command" in next(r for r in paper.paper_runs(ch) if r["id"] == rid)]
REPO = repo_path()


def test_every_chapter_with_claims_declares_its_paper_setting():
    for chapter in claims.claim_chapters():
        block = paper.load_paper_setting(chapter)
        assert block["runs"], chapter


def test_the_chapters_that_read_the_papers_data_declare_commands():
    # the CLIs that already read the papers' data: LDS on Cora, DiffPool on the TU benchmarks, KGCN-LS
    # on the authors' files; each has its command, not a "missing" text
    runnable = {(ch, rid) for ch, rid in COMMANDS}
    for expected in [("07_lds", "cora"), ("08_diffpool", "enzymes"), ("08_diffpool", "proteins"),
                     ("08_diffpool", "dd"), ("06_kgcn", "music"), ("06_kgcn", "movie")]:
        assert expected in runnable


@pytest.mark.parametrize("chapter,run_id", COMMANDS, ids=lambda x: str(x))
def test_declared_command_parses_with_its_clis_own_parser(chapter, run_id):
    [step] = paper.steps(chapter, run_id)
    command = [a.replace("$COMPANION_DATA", "/data") for a in step["command"]]
    assert command[:2] == ["python", "-m"]
    parser = capture_parser(command[2])
    args = parser.parse_args(command[3:])  # SystemExit (a failed test) on any unknown or bad flag
    assert not getattr(args, "publish", False), "a paper run writes ./results, never the book's folder"
    assert "--out" not in command
    if step["fetch"] is not None:
        from companion.data.__main__ import _parser as fetch_parser

        fetch_parser().parse_args(step["fetch"][3:])


@pytest.mark.parametrize("chapter,run_id", COMMANDS, ids=lambda x: str(x))
def test_timed_fractions_are_fractions_of_the_declared_command(chapter, run_id):
    run = next(r for r in paper.paper_runs(chapter) if r["id"] == run_id)
    est = run["estimate"]
    if isinstance(est, str):
        assert est.startswith("not "), "an estimate without timings says why there is none"
        return
    declared = paper.steps(chapter, run_id)[0]["command"]
    parser = capture_parser(declared[2])
    full = vars(parser.parse_args([a.replace("$COMPANION_DATA", "/data") for a in declared[3:]]))
    for t in est["timed"]:
        timed = t["command"].split()
        assert timed[:3] == declared[:3]
        part = vars(parser.parse_args(timed[3:]))
        # the fraction differs from the declared command only in size (seeds, folds, epochs, the data it ran on)
        allowed = {"seeds", "max_folds", "epochs", "max_outer_iterations", "out", "root", "dataset", "sbm_nodes",
                   "missing", "data", "n_users", "n_items", "density", "fractions", "models", "threads"}
        differs = {k for k in full if full[k] != part[k]}
        assert differs <= allowed, f"{chapter} {run_id}: the timed fraction also changes {differs - allowed}"
    e = paper.estimate_hours(est)
    assert e["hours"] > 0 and e["per_unit_s"] > 0


def test_claims_name_declared_runs():
    for chapter in claims.claim_chapters():
        ids = set(paper.run_ids(chapter))
        for claim in claims.load_claims(chapter)[1]:
            assert claim.paper_command, f"{chapter} {claim.id} has no paper_command"
            assert claim.paper_command in ids


def test_report_rows_show_the_run_beside_the_verdict():
    rows = claims.report_rows(claims.chapter_claims("07_lds"))
    cora = [r for r in rows if r["paper_run"] == "cora"]
    assert cora and all(r["paper_make"] == "make paper CH=lds RUN=cora" and not r["paper_missing"] for r in cora)
    no_graph = [r for r in rows if r["paper_run"] == "no-graph"]
    assert no_graph and all(r["paper_make"] == "" and "grid" in r["paper_missing"] for r in no_graph)
    assert all(r["paper_link"] == "#lds-paper-setting" for r in rows)
    text = claims.report_markdown(rows)
    assert "[`make paper CH=lds RUN=cora`](#lds-paper-setting)" in text
    assert "[not runnable yet: The CLI runs Table 1" in text


def _course(tmp_path, monkeypatch, block: str) -> str:
    ch = tmp_path / "book" / "99_toy"
    ch.mkdir(parents=True, exist_ok=True)
    (ch / "course.yml").write_text("objectives: [x]\n" + block)
    monkeypatch.setattr(paper, "repo_path", lambda *p: tmp_path.joinpath(*p))
    monkeypatch.setattr(course, "repo_path", lambda *p: tmp_path.joinpath(*p))  # course.yml is read there
    return "99_toy"


GOOD_RUN = """paper_setting:
  setting: the toy's data
  reported: Table 1, 0.9
  runs:
    - id: toy
      fetch: [cora]
      command: python -m companion.lds --dataset planetoid --root $COMPANION_DATA/planetoid --seeds 0 1 2
      sources: the toy paper
      estimate:
        stand_in: a toy
        timed:
          - {units: 1, seconds: 12, max_rss_mb: 100, command: python -m companion.lds --dataset karate}
          - {units: 3, seconds: 32, max_rss_mb: 300, command: python -m companion.lds --dataset karate}
        full_units: 100
        fixed_repeats: 4
        unit: outer iteration
        gpu: not estimated
    - id: other
      missing: the CLI has no toy reader
"""


def test_estimate_is_the_line_through_the_timed_fractions(tmp_path, monkeypatch):
    chapter = _course(tmp_path, monkeypatch, GOOD_RUN)
    est = paper.paper_runs(chapter)[0]["estimate"]
    e = paper.estimate_hours(est)
    # 10 s per unit, 2 s fixed: (2 * 4 + 10 * 100) / 3600 h
    assert e["per_unit_s"] == pytest.approx(10) and e["fixed_s"] == pytest.approx(2)
    assert e["hours"] == pytest.approx(1008 / 3600) and e["max_rss_mb"] == 300
    text = paper.section_markdown(chapter)
    assert "make paper CH=toy RUN=toy" in text and "0.28 h" in text and "not runnable with this CLI yet" in text


@pytest.mark.parametrize("change,message", [
    (("      missing: the CLI has no toy reader\n", ""), "exactly one of 'command'"),
    (("fetch: [cora]", "fetch: [nowhere]"), "not in companion.data's catalogue"),
    (("command: python -m companion.lds", "command: bash -c companion.lds"), "python -m companion"),
    (("    - id: other\n", "    - id: toy\n"), "declared twice"),
    (("units: 3, seconds: 32", "units: 1, seconds: 32"), "more units"),
    (("full_units: 100", "full_units: -1"), "positive number"),
    (("  reported: Table 1, 0.9\n", ""), "paper_setting.reported"),
])
def test_bad_declarations_are_named(tmp_path, monkeypatch, change, message):
    chapter = _course(tmp_path, monkeypatch, GOOD_RUN.replace(*change))
    with pytest.raises(ValueError, match=message):
        paper.load_paper_setting(chapter)


def test_a_claim_naming_an_undeclared_run_is_refused(tmp_path, monkeypatch):
    chapter = _course(tmp_path, monkeypatch, GOOD_RUN)
    (tmp_path / "book" / chapter / "claims.yml").write_text(
        "claims:\n  - id: c\n    claim: x\n    comparable: false\n    paper_command: nope\n"
        "    rule: {kind: at_least, value: 0.5, a: {file: t.json, method: m, metric: acc}}\n")
    monkeypatch.setattr(claims, "repo_path", lambda *p: tmp_path.joinpath(*p))
    with pytest.raises(ValueError, match=r"paper_command 'nope' is not a run .* its runs are \['toy', 'other'\]"):
        claims.load_claims(chapter)


def test_main_dry_run_prints_the_steps_and_runs_nothing(capsys, monkeypatch):
    monkeypatch.delenv("COMPANION_DATA", raising=False)
    assert paper.main(["lds", "--run", "cora", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[07_lds cora] fetch: python -m companion.data fetch cora"
    assert out[1].startswith("[07_lds cora] command: python -m companion.lds --dataset planetoid")
    # a chapter whose every run is missing says what is missing and exits 3; one with runnable runs
    # lists the others' gaps beside its steps and exits 0
    assert paper.main(["alinet", "--dry-run"]) == 3
    assert "not runnable yet: The CLI has no DBP15K reader" in capsys.readouterr().out
    assert paper.main(["lds", "--dry-run"]) == 0
    assert "[07_lds citeseer] not runnable yet: The CLI's planetoid reader loads Cora only" in capsys.readouterr().out
    assert paper.main(["lds", "--run", "citeseer", "--dry-run"]) == 3


def test_main_refuses_unknown_chapter_and_run_and_a_missing_data_folder(capsys, monkeypatch):
    assert paper.main(["nosuchchapter"]) == 2
    assert "unknown chapter 'nosuchchapter'; choose one of" in capsys.readouterr().err
    assert paper.main(["lds", "--run", "nosuchrun"]) == 2
    assert "declares no run 'nosuchrun'; its runs are ['cora', 'citeseer', 'no-graph']" in capsys.readouterr().err
    monkeypatch.delenv("COMPANION_DATA", raising=False)
    assert paper.main(["lds", "--run", "cora"]) == 2  # before any download
    assert "set COMPANION_DATA" in capsys.readouterr().err


def _make(*args: str) -> subprocess.CompletedProcess:
    # STAMP= skips the venv step (the test runs in an environment that has the packages); BIN names
    # this interpreter's folder
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("COMPANION_DATA", None)
    return subprocess.run(["make", "-s", "paper", "STAMP=", f"BIN={Path(sys.executable).parent}", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_paper_target():
    no_chapter = _make()
    assert no_chapter.returncode == 2 and "usage: make paper CH=" in no_chapter.stdout
    assert "downloads" in no_chapter.stdout
    unknown = _make("CH=nosuchchapter")
    assert unknown.returncode != 0 and "unknown chapter 'nosuchchapter'" in unknown.stderr
    dry = _make("CH=diffpool", "RUN=enzymes", "DRY=1")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert "[08_diffpool enzymes] fetch: python -m companion.data fetch enzymes" in lines
    assert any(line.startswith("[08_diffpool enzymes] command: python -m companion.diffpool") for line in lines)


def test_report_refuses_a_paper_command_without_the_chapters_section(monkeypatch):
    items = claims.chapter_claims("07_lds")
    labels = claims._section_labels("07_lds")
    assert "lds-paper-setting" in labels
    monkeypatch.setattr(claims, "_section_labels", lambda chapter: labels - {"lds-paper-setting"})
    with pytest.raises(ValueError, match=r"no '\(lds-paper-setting\)=' section on the paper's own setting"):
        claims.report_rows(items)
