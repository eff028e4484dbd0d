"""The results schema: summaries over seeds, strict JSON, atomic writes, clear load errors."""

import json

import numpy as np
import pytest
import torch

from companion import results


def per_seed_rows():
    return [
        {"setting": "noise=0", "method": "a", "seed": 0, "acc": 0.5, "sec": 1.0},
        {"setting": "noise=0", "method": "a", "seed": 1, "acc": 0.7, "sec": 2.0},
        {"setting": "noise=0", "method": "b", "seed": 0, "acc": 0.1, "sec": None},
    ]


def test_summary_mean_std_n_over_seeds():
    s = results.summarize(per_seed_rows(), {"acc": True, "sec": False}, timing=["sec"])
    a_acc = next(r for r in s if r["method"] == "a" and r["metric"] == "acc")
    # the sample std (ddof=1): sqrt(0.02) over 0.5 and 0.7, not the population 0.1
    assert a_acc["mean"] == pytest.approx(0.6) and a_acc["std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert a_acc["std"] == pytest.approx(0.1 * np.sqrt(2)) and a_acc["n"] == 2
    assert a_acc["higher_is_better"] is True and a_acc["timing"] is False
    # one seed has no spread: None, which nothing may read as a std of 0
    b_acc = next(r for r in s if r["method"] == "b" and r["metric"] == "acc")
    assert b_acc["n"] == 1 and b_acc["std"] is None
    three = [{"method": "m", "seed": i, "acc": v} for i, v in enumerate([0.90, 0.92, 0.97])]
    assert results.summarize(three, {"acc": True})[0]["std"] == pytest.approx(np.std([0.90, 0.92, 0.97], ddof=1))
    # b has no timing value: no summary row for it rather than a NaN
    assert [r["metric"] for r in s if r["method"] == "b"] == ["acc"]
    assert next(r for r in s if r["metric"] == "sec")["timing"] is True


def test_summary_errors_name_the_problem():
    with pytest.raises(ValueError, match="no 'method'"):
        results.summarize([{"acc": 1.0}], {"acc": True})
    with pytest.raises(ValueError, match="nothing to summarize"):
        results.summarize([{"method": "a"}], {"acc": True})
    with pytest.raises(ValueError, match="not among metrics"):
        results.summarize(per_seed_rows(), {"acc": True}, timing=["sec"])


def test_roundtrip_keeps_types_and_provenance(tmp_path):
    rows = [{"method": "a", "seed": np.int64(3), "acc": np.float32(0.5), "curve": torch.tensor([1, 2]),
             "flag": np.bool_(True)}]
    path = results.save_results(tmp_path / "sub" / "r.json", rows, seeds=[np.int64(3)], command="python -m x",
                                metrics={"acc": True}, settings={"lr": 0.1})
    payload = results.load_results(path)
    row = payload["rows"][0]
    assert row["seed"] == 3 and isinstance(row["seed"], int)
    assert row["curve"] == [1, 2] and row["flag"] is True
    assert payload["schema"] == results.SCHEMA_VERSION and payload["seeds"] == [3]
    assert payload["packages"]["torch"].startswith("2.") and payload["settings"] == {"lr": 0.1}
    assert payload["summary"][0]["n"] == 1 and payload["summary"][0]["std"] is None  # null in the file
    assert not list(tmp_path.glob("sub/.*.tmp")), "the temporary file must be renamed away"
    assert path.stat().st_mode & 0o777 == 0o644


def test_nan_is_refused_with_its_path_and_nothing_is_written(tmp_path):
    rows = [{"method": "a", "acc": 0.5, "extra": [1.0, float("nan")]}]
    with pytest.raises(ValueError, match=r"rows\[0\]\.extra\[1\] is nan"):
        results.save_results(tmp_path / "r.json", rows, seeds=[0], command="c", metrics={"acc": True})
    assert not (tmp_path / "r.json").exists()
    with pytest.raises(ValueError, match="nan"):
        results.save_results(tmp_path / "r.json", [{"method": "a", "acc": np.float64("nan")}],
                             seeds=[0], command="c", metrics={"acc": True})


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = results.save_results(tmp_path / "r.json", [{"method": "a", "acc": 0.5}], seeds=[0], command="c",
                                metrics={"acc": True})
    before = path.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(results.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        results.save_results(path, [{"method": "a", "acc": 0.9}], seeds=[0], command="c", metrics={"acc": True})
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_save_requires_command_and_summary_source(tmp_path):
    with pytest.raises(ValueError, match="command"):
        results.save_results(tmp_path / "r.json", [], seeds=[0], command="", metrics={"acc": True})
    with pytest.raises(ValueError, match="give metrics"):
        results.save_results(tmp_path / "r.json", [{"method": "a"}], seeds=[0], command="c")
    with pytest.raises(ValueError, match="reserved"):
        results.save_results(tmp_path / "r.json", [{"method": "a", "acc": 1.0}], seeds=[0], command="c",
                             metrics={"acc": True}, machine="mine")


def test_load_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the chapter's CLI"):
        results.load_results(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"command": "c", "acc": NaN}')
    with pytest.raises(ValueError, match=r"bad\.json is not a strict-JSON"):
        results.load_results(bad)
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"command": "c", "seeds": [0], "rows": []}))
    with pytest.raises(ValueError, match=r"old\.json lacks \['summary'\]"):
        results.load_results(old)
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"command": "c", "seeds": [0], "rows": [], "summary": []}))
    with pytest.raises(ValueError, match=r"empty\.json: summary must be a non-empty"):
        results.load_results(empty)


def test_compare_summaries_skips_timing_and_reports_moves():
    rows = per_seed_rows()
    a = {"summary": results.summarize(rows, {"acc": True, "sec": False}, timing=["sec"])}
    moved = [dict(r, sec=r["sec"] and r["sec"] * 10) for r in rows]
    b = {"summary": results.summarize(moved, {"acc": True, "sec": False}, timing=["sec"])}
    assert results.compare_summaries(a, b) == []
    moved[0]["acc"] = 0.52
    c = {"summary": results.summarize(moved, {"acc": True, "sec": False}, timing=["sec"])}
    problems = results.compare_summaries(a, c)
    assert any("noise=0/a/acc: mean" in p for p in problems)
    assert results.compare_summaries(a, c, atol=0.05) == []
    d = {"summary": [r for r in a["summary"] if r["method"] != "b"]}
    assert results.compare_summaries(a, d) == ["noise=0/b/acc: only in the committed file"]


def test_summary_table_for_readers():
    payload = {"summary": results.summarize(per_seed_rows(), {"acc": True, "sec": False})}
    table = results.summary_table(payload, metrics=["acc"], digits=2, scale=100)
    assert list(table.columns) == ["acc"]
    assert table.loc[("noise=0", "a"), "acc"] == "60.00 ± 14.14 (2)"
    # b's one seed: no spread (its None is a NaN in the frame), not "± nan"
    assert table.loc[("noise=0", "b"), "acc"] == "10.00 (1)"
    assert results.mean_std_text(0.5, None) == "0.500 (one seed)"
    assert results.mean_std_text(0.5, float("nan")) == "0.500 (one seed)"
    assert results.mean_std_text(0.5, 0.25, digits=1, scale=100) == "50.0 ± 25.0"
    with pytest.raises(ValueError, match=r"\['f1'\] are not in"):
        results.summary_table(payload, metrics=["f1"])


def test_seed_checkpoint_resumes_only_the_same_command(tmp_path):
    final = tmp_path / "x.json"
    ck = results.SeedCheckpoint(final, "python -m companion.x --seeds 0 1")
    assert ck.done(0) is None
    ck.save(0, [{"method": "m", "seed": 0, "acc": np.float32(0.5)}])
    again = results.SeedCheckpoint(final, "python -m companion.x --seeds 0 1")
    assert again.done(0) == [{"method": "m", "seed": 0, "acc": 0.5}] and again.done(1) is None
    other = results.SeedCheckpoint(final, "python -m companion.x --seeds 0 1 --lr 2")
    assert other.done(0) is None  # another command: start afresh
    again.finish()
    assert not (tmp_path / "x.json.partial").exists()


def test_seed_checkpoint_refuses_nan_and_names_a_corrupt_file(tmp_path):
    ck = results.SeedCheckpoint(tmp_path / "x.json", "cmd")
    with pytest.raises(ValueError, match="seed 3"):
        ck.save(3, [{"method": "m", "acc": float("nan")}])
    (tmp_path / "y.json.partial").write_text("{not json")
    with pytest.raises(ValueError, match="y.json.partial"):
        results.SeedCheckpoint(tmp_path / "y.json", "cmd")


def test_gap_table_reads_gaps_against_the_spread_and_pairs_seeds():
    rows = [{"setting": {"d": "x"}, "method": m, "seed": s, "acc": v}
            for m, vals in (("A", [0.9, 0.8, 0.7]), ("B", [0.8, 0.7, 0.6]), ("C", [0.5, 0.5, 0.5]))
            for s, v in enumerate(vals)]
    payload = {"rows": rows, "summary": results.summarize(rows, {"acc": True})}
    t = results.gap_table(payload, [("A", "B"), ("A", "C")], "acc").set_index("B")
    # A - B = 0.1 on every seed: the paired view is certain, the unpaired spread is not
    assert t.loc["B", "gap"] == pytest.approx(0.1) and t.loc["B", "paired"] == pytest.approx(0.1)
    assert t.loc["B", "paired_sd"] == pytest.approx(0.0, abs=1e-12) and t.loc["B", "reads"] == "within noise"
    assert t.loc["C", "reads"] == "A ahead" and t.loc["C", "seeds"] == 3
    with pytest.raises(ValueError, match="method 'D'"):
        results.gap_table(payload, [("A", "D")], "acc")
    # two seeds of A: no gap is read against so unsteady a spread, whatever its size
    two = [r for r in rows if not (r["method"] == "A" and r["seed"] == 2)]
    payload = {"rows": two, "summary": results.summarize(two, {"acc": True})}
    assert results.gap_table(payload, [("A", "C")], "acc").loc[0, "reads"] == "too few seeds (n=2)"


def test_read_gap_is_the_three_way_rule_of_the_verdicts():
    assert results.read_gap(0.3, 0.2) == "ahead"
    assert results.read_gap(-0.3, 0.2, "up", "down") == "down"
    assert results.read_gap(0.2, 0.2) == "within noise"  # a gap of exactly the spread is noise
    assert results.read_gap(-0.2, 0.2, within="level") == "level"
    assert results.read_gap(float("nan"), 0.1) == "undefined"  # never a side ahead
    with pytest.raises(ValueError, match="never negative"):
        results.read_gap(0.1, -0.01)
