"""The chapter's CLI: flags checked before any work, output under ./results, reruns reproduce."""

import json

import pytest

import companion.carried.__main__ as cli
from companion.reproduce import reproduce_file
from companion.utils import repo_path

TINY = ["--frames", "3", "--train-frames", "48", "--seeds", "2", "--no-progress"]
BOOK_RESULTS = repo_path("book", "10_carried", "results")


def _snapshot():
    return {p.name: p.stat().st_mtime_ns for p in BOOK_RESULTS.iterdir()}


def test_cli_writes_per_seed_rows_under_results_of_the_cwd(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    before = _snapshot()
    rows = cli.main(TINY)
    assert _snapshot() == before, "the CLI wrote into book/ without --publish"
    payload = json.loads((tmp_path / "results" / cli.FILENAME).read_text())
    methods = [r["method"] for r in payload["rows"]]
    assert len(rows) == len(methods) == 5 and cli.BASELINE in methods
    assert {r["seed"] for r in payload["rows"]} == {2} and payload["seeds"] == [2]
    assert payload["command"] == "python -m companion.carried " + " ".join(a for a in TINY if a != "--no-progress")
    f1 = [s for s in payload["summary"] if s["metric"] == "box_f1"]
    assert len(f1) == 5 and all(s["n"] == 1 and s["higher_is_better"] and 0 <= s["mean"] <= 1 for s in f1)
    assert payload["frames_per_seed"] == 3 and payload["train_frames"] == 48
    assert "baseline" in capsys.readouterr().out


def test_cli_rerun_reproduces_its_file(tmp_path):
    cli.main([*TINY, "--out", str(tmp_path / "a")])
    assert reproduce_file(tmp_path / "a" / cli.FILENAME, tmp_path / "b") == []


@pytest.mark.parametrize("flag, value", [
    ("--frames", "0"),
    ("--train-frames", "10"),   # fewer frames than the coarsest scale's 48 codewords need
    ("--train-frames", "many"),
    ("--seeds", "-1"),
    ("--threads", "0"),
    ("--data", "digits"),
])
def test_bad_flags_fail_fast_naming_the_flag(flag, value, rejects_before_work):
    rejects_before_work(cli.main, [*TINY, flag, value], flag, forbid=((cli, "run_seed"),))


def test_out_and_publish_are_exclusive(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_seed", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(SystemExit) as exit_:
        cli.main([*TINY, "--out", str(tmp_path), "--publish"])
    assert exit_.value.code == 2 and "--publish" in capsys.readouterr().err
