import json
import math
import shlex
from pathlib import Path

import pytest

from companion.minibert import __main__ as cli
from companion.reproduce import reproduce_file

REPO = Path(__file__).resolve().parents[2]
# every row kind of the CLI (teacher, ours, scratch, teacher-vocab KD, both ablations, a sweep size), tiny
TINY = ["--student-vocab", "300", "--hidden", "32", "--layers", "1", "--max-per-library", "30", "--teacher-steps", "2",
        "--teacher-head-steps", "1", "--val-sentences", "20", "--eval-every", "2", "--projection-grid", "1", "0.1",
        "--grid-steps", "2",
        "--dual-steps", "2", "--student-steps", "3", "--label-per-library", "3", "--finetune-epochs", "1",
        "--coverage-sizes", "200", "--sweep-hidden", "16", "--eval-sentences", "40", "--test-per-library", "3",
        "--cache-sentences", "64", "--no-progress"]


def _book_results() -> set[Path]:
    return set((REPO / "book" / "05_minibert" / "results").glob("*"))


def test_cli_writes_results_under_cwd_and_reproduces(tmp_path, monkeypatch, no_network):
    before = _book_results()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / "cache"))  # the 2-step teacher is trained here
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
    # the teacher is the masked-LM model (MiniLM body + MLM head, no pooler), pre-trained in the cache
    assert teacher["parameters"] == 22_744_506 and ours["compression"] > 10
    assert teacher["teacher_pretraining"]["steps"] == 2 and teacher["teacher_pretraining"]["loaded_from_cache"] is False
    assert (tmp_path / "cache" / "minibert" / teacher["teacher_pretraining"]["key"] / "model").is_dir()
    # the projection weight was chosen on validation, and the no-dual ablation uses the same one
    grid = ours["projection_grid"]
    assert [g["projection_weight"] for g in grid] == [1.0, 0.1] and ours["grid_steps"] == 2
    assert ours["projection_weight"] == min(grid, key=lambda g: g["val_loss"])["projection_weight"]
    assert payload["rows"][5]["projection_weight"] == ours["projection_weight"]
    # BERT-base (109,482,240 parameters) over each model's count
    assert ours["compression_bert_base"] == pytest.approx(109_482_240 / ours["parameters"])
    # validation curves on the held-back training sentences: before training and after the last step
    assert all(r["curve"]["val_step"] == [0, 2, 3] for r in payload["rows"][1:])
    assert all(len(r["curve"]["val_loss"]) == 3 for r in payload["rows"][1:])
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
    ("--teacher-steps", "0"),
    ("--teacher-head-steps", "5000"),  # more than --teacher-steps
    ("--val-sentences", "-1"),
    ("--val-sentences", "0"),        # the projection grid needs validation sentences
    ("--grid-steps", "0"),
    ("--projection-grid", "-1"),
    ("--tuned-layers", "7"),
    ("--max-length", "200"),
    ("--max-per-library", "5"),
    ("--direction", "sideways"),
    ("--ablations", "maybe"),
    ("--seeds", "-1"),
    ("--threads", "0"),
    ("--kd-init", "projected"),
    ("--dedup-threshold", "1.5"),
    ("--finetune-patience", "-1"),
    ("--probe-c-grid", "0"),
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
        cli.main(["--student-vocab", "50000", "--max-per-library", "10", "--val-sentences", "10", "--no-progress"])
    assert exit_info.value.code == 2 and "--student-vocab" in capsys.readouterr().err


def test_killed_run_resumes_after_its_finished_seed(tmp_path, monkeypatch, no_network):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / "cache"))
    argv = [a for a in TINY if a not in ("--sweep-hidden", "16")] + ["--ablations", "false", "--seeds", "0", "1"]
    real, seen = cli.run, []

    def dies_at_seed_1(cfg, **kw):
        seen.append(cfg.seed)
        if cfg.seed == 1:
            raise KeyboardInterrupt  # the session ends while seed 1 trains
        return real(cfg, **kw)

    monkeypatch.setattr(cli, "run", dies_at_seed_1)
    with pytest.raises(KeyboardInterrupt):
        cli.main(argv)
    assert (tmp_path / "results" / "minibert.json.partial").is_file()
    monkeypatch.setattr(cli, "run", lambda cfg, **kw: seen.append(cfg.seed) or real(cfg, **kw))
    out = cli.main(argv)
    assert seen == [0, 1, 1]  # seed 0 came from the checkpoint
    assert sorted({r["seed"] for r in out["rows"]}) == [0, 1]
    assert not (tmp_path / "results" / "minibert.json.partial").exists()


def test_seeds_run_apart_are_assembled_with_reuse(tmp_path, monkeypatch, capsys, no_network):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / "cache"))
    argv = [a for a in TINY if a not in ("--sweep-hidden", "16")] + ["--ablations", "false"]
    for seed in (0, 1):
        cli.main(argv + ["--seeds", str(seed), "--out", f"seed{seed}.json"])
    parts = [json.loads((tmp_path / f"seed{seed}.json").read_text()) for seed in (0, 1)]
    assert parts[0]["settings"]["seeds"] == [0] and parts[0]["settings"]["student_vocab"] == 300

    def no_training(cfg, **kw):
        raise AssertionError(f"seed {cfg.seed} was recomputed")

    monkeypatch.setattr(cli, "run", no_training)
    out = cli.main(argv + ["--seeds", "0", "1", "--reuse", "seed0.json", "seed1.json", "--out", "all.json"])
    payload = json.loads((tmp_path / "all.json").read_text())
    assert payload["rows"] == parts[0]["rows"] + parts[1]["rows"] == out["rows"]
    assert payload["coverage"] == parts[0]["coverage"] + parts[1]["coverage"]
    assert payload["corpus"] == parts[1]["corpus"] and payload["config"] == parts[1]["config"]
    assert "--reuse" not in payload["command"] and payload["command"].endswith("--seeds 0 1")
    assert [s["file"] for s in payload["assembled_from"]] == ["seed0.json", "seed1.json"]
    assert payload["wall_seconds"] >= parts[0]["wall_seconds"] + parts[1]["wall_seconds"]
    # a file of other settings is refused, naming it, before any work
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv + ["--student-steps", "4", "--seeds", "0", "1", "--reuse", "seed0.json"])
    assert exit_info.value.code == 2 and "seed0.json" in capsys.readouterr().err


@pytest.mark.parametrize("path", sorted((REPO / "book" / "05_minibert" / "results").glob("*.json")),
                         ids=lambda p: p.name)
def test_committed_commands_still_parse(path):
    from companion.minibert import baselines, pretrain

    command = shlex.split(json.loads(path.read_text())["command"])
    parsers = {"companion.minibert": cli.build_parser, "companion.minibert.pretrain": pretrain.build_parser,
               "companion.minibert.baselines": baselines.build_parser}
    assert command[:2] == ["python", "-m"] and command[2] in parsers
    parsers[command[2]]().parse_args(command[3:])


def test_every_run_config_field_has_a_flag_with_help():
    from dataclasses import fields

    from companion.minibert.config import RUN_HELP, RunConfig

    assert set(RUN_HELP) == {f.name for f in fields(RunConfig)} - {"seed"}
    flags = {a.dest: a for a in cli.build_parser()._actions}
    assert all(flags[name].help == text for name, text in RUN_HELP.items())


@pytest.mark.parametrize("flag", ["--finetune-patience", "--probe-c-grid"])
def test_choices_on_validation_need_validation_sentences(flag, rejects_before_work):
    rejects_before_work(cli.main, [flag, "1", "--val-sentences", "0", "--projection-grid"], flag,
                        forbid=((cli, "run"),))


def test_cli_options_of_the_downstream_protocol(tmp_path, monkeypatch, no_network):
    """Early-stopped fine-tuning, probes' C on validation, the KD student started as ours, and
    the near-duplicates dropped: what each puts in the rows."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / "cache"))
    argv = [a for a in TINY if a not in ("--sweep-hidden", "16")] + [
        "--ablations", "false", "--finetune-epochs", "4", "--finetune-patience", "1", "--probe-c-grid", "0.1", "1",
        "--kd-init", "teacher", "--dedup-threshold", "0.5", "--test-per-library", "0", "--seeds", "0"]
    payload = json.loads(Path(cli.main(argv)["path"]).read_text())
    rows = {r["method"]: r for r in payload["rows"]}
    for r in rows.values():
        assert r["probe_c"] in (0.1, 1.0)
        assert 1 <= r["finetune_best_epoch"] <= r["finetune_epochs_run"] <= 4
        assert 0 <= r["finetune_val_accuracy"] <= 1
    assert payload["corpus"]["dropped_near_duplicates"]["downstream_test"] > 0
    kd = rows["teacher-vocab KD"]
    assert kd["kd_init"] == "teacher" and kd["head_scale"] > 0
    # started from the teacher's table and head with the unigram prior: far below the uniform loss ln V
    assert kd["curve"]["val_loss"][0] < math.log(kd["vocab_size"]) - 1
    # per-sentence predictions are kept (paired tests), and the split's digest names the sentences
    n_test = payload["corpus"]["downstream_test"]
    assert all(len(r["probe_predictions"]) == len(r["finetune_predictions"]) == n_test for r in rows.values())
    assert len(rows["teacher"]["downstream_digest"]) == 32
