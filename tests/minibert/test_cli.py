import json
import math
from pathlib import Path

import pytest

from companion.minibert import __main__ as cli
from companion.reproduce import reproduce_file

REPO = Path(__file__).resolve().parents[2]
# every row kind of the CLI (teacher, ours, scratch, teacher-vocab KD, both ablations, a sweep size), tiny
TINY = ["--student-vocab", "300", "--hidden", "32", "--layers", "1", "--max-per-library", "30", "--head-epochs", "1",
        "--dual-steps", "2", "--student-steps", "3", "--label-per-library", "3", "--finetune-epochs", "1",
        "--coverage-sizes", "200", "--sweep-hidden", "16", "--eval-sentences", "40", "--test-per-library", "3",
        "--cache-sentences", "64", "--no-progress"]


def _book_results() -> set[Path]:
    return set((REPO / "book" / "05_minibert" / "results").glob("*"))


def test_cli_writes_results_under_cwd_and_reproduces(tmp_path, monkeypatch, no_network):
    before = _book_results()
    monkeypatch.chdir(tmp_path)
    cli.main(TINY)
    path = tmp_path / "results" / "minibert.json"
    payload = json.loads(path.read_text())
    assert _book_results() == before  # nothing written into the book
    assert payload["schema"] == 1 and payload["seeds"] == [0]
    assert payload["command"].startswith("python -m companion.minibert --student-vocab 300")
    assert [(r["method"], r["setting"]["hidden"]) for r in payload["rows"]] == [
        ("teacher", 384), ("ours", 32), ("scratch", 32), ("teacher-vocab KD", 32), ("ablation: no projection loss", 32),
        ("ablation: no dual training", 32), ("ours", 16), ("scratch", 16)]
    teacher, ours = payload["rows"][0], payload["rows"][1]
    assert teacher["parameters"] == 22_713_216 and ours["compression"] > 10
    assert teacher["dual_training"]["after"]["student_vocab"]["perplexity"] > 0 and "dual" in teacher["curve"]
    assert all(0 <= r["mlm_accuracy"] <= 1 for r in payload["rows"]) and "mlm" in ours["curve"]
    # every teacher-derived student starts below uniform (ln V); probe and fine-tuning are compared
    assert all(r["start_loss"] < math.log(300) for r in payload["rows"] if r.get("kind") == "mixed")
    assert all(0 <= r["probe_finetune_agreement"] <= 1 for r in payload["rows"])
    summary = {(s["method"], s["metric"]): s for s in payload["summary"] if s["setting"] == {"hidden": 32}}
    assert summary[("ours", "disk_mb")]["higher_is_better"] is None
    assert summary[("ours", "train_seconds")]["timing"] and summary[("ours", "perplexity")]["higher_is_better"] is False
    assert {c["vocab"] for c in payload["coverage"]} == {"teacher (MiniLM)", "student 200"}
    # the recorded command, rerun in a fresh process, gives the same summary (tolerance 0)
    assert payload["reproduce_tolerance"] == 0.0
    assert reproduce_file(path, tmp_path / "rerun") == []


@pytest.mark.parametrize("flag, value", [
    ("--hidden", "100"),             # not divisible by its heads
    ("--hidden", "512"),             # above the teacher's hidden size
    ("--sweep-hidden", "0"),
    ("--student-vocab", "10"),
    ("--coverage-sizes", "5"),
    ("--p-student", "1.5"),
    ("--kd-weight", "-0.1"),
    ("--lr", "0"),
    ("--temperature", "nan"),
    ("--student-steps", "0"),
    ("--tuned-layers", "7"),
    ("--max-length", "200"),
    ("--max-per-library", "5"),
    ("--direction", "sideways"),
    ("--ablations", "maybe"),
    ("--seeds", "-1"),
    ("--threads", "0"),
])
def test_bad_flag_fails_fast_naming_it(flag, value, rejects_before_work):
    rejects_before_work(cli.main, [flag, value], flag, forbid=((cli, "run"),))


def test_duplicate_seeds_and_too_large_vocab_are_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--seeds", "0", "0"])
    assert exit_info.value.code == 2 and "--seeds" in capsys.readouterr().err
    # the vocabulary size is checked against the corpus right after the vocabulary (seconds), before the teacher
    monkeypatch.setattr(cli, "save_results", lambda *a, **k: pytest.fail("nothing may be written"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--student-vocab", "50000", "--max-per-library", "10", "--no-progress"])
    assert exit_info.value.code == 2 and "--student-vocab" in capsys.readouterr().err
