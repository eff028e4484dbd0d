import json

import pytest

import companion.snn.__main__ as cli
from companion.reproduce import reproduce_file
from companion.snn.__main__ import main
from companion.utils import REPO_ROOT

TINY = ["--data", "digits", "--n-train", "200", "--n-test", "100", "--epochs", "2", "--teacher-epochs", "1"]


def book_files() -> set:
    return set((REPO_ROOT / "book" / "01_snn").rglob("*"))


def test_cli_end_to_end_writes_per_seed_rows_under_cwd(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    before = book_files()
    path = main([*TINY, "--loss", "plain", "kd+logits", "--seeds", "0", "1"])
    assert path == tmp_path / "results" / "digits_table.json"
    payload = json.loads(path.read_text())
    assert payload["seeds"] == [0, 1] and payload["command"].startswith("python -m companion.snn --data digits")
    assert [(r["method"], r["seed"]) for r in payload["rows"]] == [
        (m, s) for s in (0, 1) for m in ("teacher (ANN)", "plain", "kd+logits")]
    acc = {r["method"]: r for r in payload["summary"] if r["metric"] == "accuracy"}
    assert set(acc) == {"teacher (ANN)", "plain", "kd+logits"} and all(r["n"] == 2 for r in acc.values())
    assert {r["metric"] for r in payload["summary"] if r["method"] == "plain"} >= {"rate", "spikes_per_sample",
                                                                                  "rate/lifs.0"}
    assert "kd+logits" in capsys.readouterr().out and book_files() == before


def test_sweep_rows_carry_the_swept_value_and_file_name(tmp_path):
    path = main([*TINY, "--sweep", "act", "--values", "0.1", "1", "--seeds", "0", "--out", str(tmp_path)])
    assert path.name == "digits_sweep_act.json"
    rows = json.loads(path.read_text())["rows"]
    # a regularizer sweep trains the plain reference too, and every student is scored on validation
    assert [(r["method"], r["setting"]) for r in rows] == [
        ("teacher (ANN)", ""), ("plain", ""), ("act", {"act_lambda": 0.1}), ("act", {"act_lambda": 1.0})]
    assert [r.get("act_lambda") for r in rows] == [None, None, 0.1, 1.0]
    assert all(r["split"] == "val" for r in rows[1:])
    payload = json.loads(path.read_text())
    assert payload["scored_on"] == "validation"
    choice = payload["choice"]
    assert choice["field"] == "act_lambda" and choice["value"] in (0.1, 1.0)
    assert [g["value"] for g in choice["grid"]] == [0.1, 1.0]


def test_spike_readout_ablation_has_its_own_file_and_fewer_hidden_layers(tmp_path):
    path = main([*TINY, "--loss", "plain", "--readout", "spike", "--seeds", "0", "--out", str(tmp_path)])
    assert path.name == "digits_table_spike_readout.json"
    row = json.loads(path.read_text())["rows"][1]
    # the LIF output layer is monitored too: three LIF layers, against two with the mean readout
    assert {k for k in row if k.startswith("rate/")} == {"rate/lifs.0", "rate/lifs.1", "rate/lifs.2"}
    assert row["split"] == "test"


def test_results_file_reproduces_in_a_fresh_process(tmp_path):
    # every row kind: the teacher, a plain student and one with all three terms (KD, act., logits)
    path = main([*TINY, "--loss", "plain", "kd+act+logits", "--seeds", "0", "--out", str(tmp_path / "a")])
    assert reproduce_file(path, tmp_path / "b") == []


def test_a_rerun_resumes_after_the_finished_seeds(tmp_path, monkeypatch, capsys):
    # a sweep: its choice is made from every seed's rows, the teacher's accuracy is a row
    argv = [*TINY, "--sweep", "act", "--values", "0.1", "1", "--seeds", "0", "1"]
    full = json.loads(main([*argv, "--out", str(tmp_path / "full.json")]).read_text())
    out = tmp_path / "r.json"
    computed = []
    real = cli._seed_rows

    def spy(args, split, jobs, seed, eval_on, *display):
        computed.append(seed)
        if seed == 1 and len(computed) == 2:
            raise KeyboardInterrupt  # killed during seed 1
        return real(args, split, jobs, seed, eval_on, *display)

    monkeypatch.setattr(cli, "_seed_rows", spy)
    with pytest.raises(KeyboardInterrupt):
        main([*argv, "--out", str(out)])
    partial = tmp_path / "r.json.partial"
    assert list(json.loads(partial.read_text())["seeds"]) == ["0"] and not out.exists()
    capsys.readouterr()
    main([*argv, "--out", str(out)])
    assert computed == [0, 1, 1]  # seed 0 was kept, not recomputed
    err = capsys.readouterr().err
    assert "resuming: reusing finished seed(s) 0" in err
    # a log, not a terminal: one line per unit (a student of a seed), the kept seed's three at once
    assert "[3/6] seed 0: reused from an earlier run" in err and "[6/6] seed 1, act act_lambda=1: done in" in err
    assert not partial.exists()
    resumed = json.loads(out.read_text())
    assert resumed["summary"] == full["summary"] and resumed["rows"] == full["rows"]
    assert resumed["choice"] == full["choice"]


@pytest.mark.parametrize("argv, flag", [
    (["--epochs", "1"], "--epochs"),                       # the default losses regularize after a warm-up epoch
    (["--loss", "act", "--epochs", "2", "--reg-warmup", "2"], "--reg-warmup"),
    (["--epochs", "0"], "--epochs"),
    (["--teacher-epochs", "0"], "--teacher-epochs"),
    (["--reg-warmup", "-1"], "--reg-warmup"),
    (["--threads", "0"], "--threads"),
    (["--seeds", "-1"], "--seeds"),
    (["--seeds", "0", "0"], "--seeds"),
    (["--n-train", "0"], "--n-train"),
    (["--n-train", "-5"], "--n-train"),
    (["--n-train", "5000"], "--n-train"),
    (["--data", "digits", "--n-test", "361"], "--n-test"),
    (["--num-steps", "0"], "--num-steps"),
    (["--temperature", "0"], "--temperature"),
    (["--temperature", "nan"], "--temperature"),
    (["--alpha", "1.5"], "--alpha"),
    (["--act-lambda", "0"], "--act-lambda"),
    (["--logits-lambda", "inf"], "--logits-lambda"),
    (["--loss", "plain", "dropout"], "--loss"),
    (["--loss", "plain", "plain"], "--loss"),
    (["--loss", "plain,plain"], "--loss"),                # the old comma form is checked alike
    (["--sweep", "act"], "--values"),
    (["--values", "0.1"], "--sweep"),
    (["--sweep", "temperature", "--values", "0"], "--values"),
    (["--sweep", "act", "--values", "0.1", "0.1"], "--values"),
    (["--sweep", "act", "--values", "0.1", "--loss", "kd"], "--loss"),
    (["--data", "imagenet"], "--data"),
    (["--data", "cifar10"], "--root"),
    (["--data", "cifar10", "--root", "/no/such/folder"], "--root"),
    (["--root", "/tmp"], "--root"),
    (["--arch", "resnet"], "--arch"),
    (["--readout", "softmax"], "--readout"),
    (["--teacher-arch", "vgg"], "--teacher-arch"),
    (["--val-fraction", "0"], "--val-fraction"),
    (["--val-fraction", "0.9"], "--val-fraction"),
    (["--tolerance", "-0.1"], "--tolerance"),
    (["--encoding", "latency"], "--encoding"),
    (["--out", "/proc/no-such-dir/x.json"], "--out"),
    (["--publish", "--out", "x.json"], "--publish"),
])
def test_bad_flags_fail_fast_naming_the_flag(argv, flag, rejects_before_work):
    rejects_before_work(main, argv, flag, forbid=((cli, "load_split"), (cli, "train_teacher")))


def test_cifar10_size_errors_name_the_flag(tmp_path, capsys, monkeypatch):
    # cifar10's sizes are known only from its files: checked on load, before any training
    import pickle

    import numpy as np
    for name in ("data_batch_1", "test_batch"):
        (tmp_path / name).write_bytes(pickle.dumps({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1, 2]}))
    monkeypatch.setattr(cli, "train_teacher", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained")))
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", "cifar10", "--root", str(tmp_path), "--n-train", "5", "--out", str(tmp_path / "r")])
    assert exit_info.value.code == 2 and "--n-train must be in 1..3" in capsys.readouterr().err


def test_old_comma_lists_still_parse_with_a_note(capsys):
    # committed results files record `--loss plain,kd+logits`: they must still rerun
    args = cli.build_parser().parse_args(["--loss", "plain,kd+logits", "--sweep", "act", "--values", "0.1,1", "3"])
    assert args.loss == ["plain", "kd+logits"] and args.values == [0.1, 1.0, 3.0]
    err = capsys.readouterr().err
    assert "--loss read as '--loss plain kd+logits'" in err and "--values read as '--values 0.1 1.0 3.0'" in err


def test_missing_snntorch_exits_2_with_the_install_command(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(__import__("sys").modules, "snntorch", None)  # as if not installed
    monkeypatch.setattr(cli, "load_split", lambda *a, **k: (_ for _ in ()).throw(AssertionError("loaded")))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(TINY)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and 'pip install "mlbook-companion[chapters]"' in err and "snntorch" in err
    assert not (tmp_path / "results").exists()
