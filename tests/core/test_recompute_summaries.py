"""tools/recompute_summaries.py: summary stds recomputed from the rows, nothing else touched, nothing guessed."""

import importlib.util
import json
import math
import sys

import pytest

from companion import results
from companion.utils import repo_path

spec = importlib.util.spec_from_file_location("recompute_summaries", repo_path("tools", "recompute_summaries.py"))
tool = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = tool  # its dataclass looks itself up there
spec.loader.exec_module(tool)

ROWS = [{"setting": {"p": 0.5}, "method": m, "seed": s, "acc": v, "sec": 1.0 + s}
        for m, vals in (("a", [0.5, 0.7, 0.65]), ("b", [0.1, 0.3, 0.2])) for s, v in enumerate(vals)]
ROWS.append({"setting": {"p": 0.5}, "method": "once", "seed": 0, "acc": 0.4, "sec": 2.0})


def population_summary(rows):
    """The summary as the book wrote it before the sample std: ddof=0, and 0 for one seed."""
    summary = results.summarize(rows, {"acc": True, "sec": False}, timing=["sec"])
    for r in summary:
        values = [x["acc" if r["metric"] == "acc" else "sec"] for x in rows
                  if x["method"] == r["method"]]
        r["std"] = math.sqrt(sum((v - r["mean"]) ** 2 for v in values) / len(values))
    return summary


def old_file(tmp_path, rows=ROWS, tolerance=0.0, name="old.json"):
    return results.save_results(tmp_path / name, rows, seeds=[0, 1, 2], command="python -m companion.toy",
                                summary=population_summary(rows), reproduce_tolerance=tolerance,
                                settings={"lr": 0.1})


def test_stds_become_the_sample_ones_and_nothing_else_moves(tmp_path):
    path = old_file(tmp_path)
    before = results.load_results(path)
    outcome = tool.recompute_file(path, today="2026-12-06")
    assert not outcome.refused and outcome.changed == 6  # every row: 3 seeds grow, 1 seed becomes null
    after = results.load_results(path)
    # the very bits summarize (what a rerun writes) gives for these rows
    assert after["summary"] == results.summarize(ROWS, {"acc": True, "sec": False}, timing=["sec"])
    once = [r for r in after["summary"] if r["method"] == "once"]
    assert [r["std"] for r in once] == [None, None]  # one seed: no spread, not 0
    assert "2026-12-06" in after[tool.NOTE_KEY] and "ddof=1" in after[tool.NOTE_KEY]
    assert list(after).index(tool.NOTE_KEY) == list(after).index("summary") - 1
    assert {k: v for k, v in after.items() if k not in ("summary", tool.NOTE_KEY)} == \
           {k: v for k, v in before.items() if k != "summary"}
    assert [{**r, "std": 0} for r in after["summary"]] == [{**r, "std": 0} for r in before["summary"]]
    assert path.read_text() == json.dumps(after, indent=1, allow_nan=False) + "\n"


def test_a_second_run_changes_nothing(tmp_path):
    path = old_file(tmp_path)
    assert tool.main([str(path)]) == 0
    text = path.read_text()
    outcome = tool.recompute_file(path, today="2099-01-01")
    assert outcome.changed == 0 and not outcome.refused
    assert path.read_text() == text  # not even the note's date
    assert tool.main(["--check", str(path)]) == 0


def test_a_file_written_with_sample_stds_is_left_alone(tmp_path):
    path = results.save_results(tmp_path / "new.json", ROWS, seeds=[0, 1, 2], command="python -m companion.toy",
                                metrics={"acc": True, "sec": False}, timing=["sec"])
    text = path.read_text()
    assert tool.recompute_file(path).changed == 0
    assert path.read_text() == text and tool.NOTE_KEY not in results.load_results(path)


def test_a_mean_the_rows_do_not_give_is_refused_and_the_file_untouched(tmp_path, capsys):
    path = old_file(tmp_path)
    payload = results.load_results(path)
    payload["rows"][0]["acc"] = 0.51  # the summary no longer comes out of the rows
    results._write_json(path, payload)
    text = path.read_text()
    outcome = tool.recompute_file(path)
    assert outcome.refused and any("is not the stored mean" in p for p in outcome.problems)
    assert path.read_text() == text
    good = old_file(tmp_path, name="good.json")
    assert tool.main([str(path), str(good)]) == 1
    out = capsys.readouterr().out
    assert f"REFUSED {path}" in out and f"recomputed {good}" in out  # the good file is still done


@pytest.mark.parametrize("damage, message", [
    (lambda p: p["summary"][0].update(std=0.5), "neither the population"),
    (lambda p: p["summary"][0].update(n=2), "the summary says n=2"),
    (lambda p: p["summary"][0].update(method="c"), "no rows of this setting and method"),
    (lambda p: p["summary"][0].update(std=None), "stored std is null over 3 values"),
])
def test_a_summary_the_rows_cannot_give_is_refused(tmp_path, damage, message):
    path = old_file(tmp_path)
    payload = results.load_results(path)
    damage(payload)
    results._write_json(path, payload)
    text = path.read_text()
    outcome = tool.recompute_file(path)
    assert outcome.refused and any(message in p for p in outcome.problems), outcome.problems
    assert path.read_text() == text


def test_another_json_layout_is_refused(tmp_path):
    path = old_file(tmp_path)
    path.write_text(json.dumps(results.load_results(path), indent=2))
    outcome = tool.recompute_file(path)
    assert outcome.refused and "layout" in outcome.problems[0]


def test_a_measured_tolerance_grows_with_the_stds(tmp_path):
    path = old_file(tmp_path, tolerance=0.01)
    outcome = tool.recompute_file(path)
    assert outcome.tolerance == (0.01, pytest.approx(0.01 * math.sqrt(3 / 2)))
    after = results.load_results(path)
    assert after["reproduce_tolerance"] == pytest.approx(0.01 * math.sqrt(3 / 2))
    assert "reproduce_tolerance 0.01 scaled" in after[tool.NOTE_KEY]
    # a tolerance that covers only one-seed rows has no std to widen
    single = [r for r in ROWS if r["method"] == "once"]
    path = old_file(tmp_path, rows=single, tolerance=0.01, name="single.json")
    tool.recompute_file(path)
    assert results.load_results(path)["reproduce_tolerance"] == 0.01


def test_check_writes_nothing(tmp_path):
    path = old_file(tmp_path)
    text = path.read_text()
    assert tool.main(["--check", str(path)]) == 1
    assert path.read_text() == text
