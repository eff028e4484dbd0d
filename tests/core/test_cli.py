"""The shared CLI helper: checked flags, output paths validated before work, rerunnable commands."""

import json
import sys
from pathlib import Path

import pytest

from companion import cli
from companion.reproduce import rerun_argv


def parser():
    p = cli.chapter_parser("python -m companion.toy", "toy")
    p.add_argument("--epochs", type=cli.int_at_least(1), default=3)
    p.add_argument("--rate", type=cli.float_in(0, 1, high_open=True), default=0.5)
    p.add_argument("--noises", type=cli.float_list(0, 1), default=[0.0])
    return p


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "argument --epochs: expected an integer >= 1, got 0"),
    (["--epochs", "two"], "argument --epochs: expected an integer >= 1, got 'two'"),
    (["--rate", "1"], r"argument --rate: expected a number in \[0, 1\), got 1"),
    (["--rate", "nan"], r"argument --rate: expected a finite number in \[0, 1\), got .nan."),
    (["--rate", "inf"], r"argument --rate: expected a finite number"),
    (["--threads", "0"], "argument --threads: expected an integer >= 1, got 0"),
    (["--seeds", "-1"], "argument --seeds: expected an integer >= 0, got -1"),
    (["--noises", "0,2"], r"argument --noises: expected a number in \[0, 1\], got 2"),
])
def test_bad_flags_fail_naming_the_flag_and_range(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        parser().parse_args(argv)
    assert e.value.code == 2
    assert pytest.importorskip("re").search(message, capsys.readouterr().err)


def test_default_output_is_the_current_folder_not_the_book(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = parser()
    args = p.parse_args(["--epochs", "2"])
    run = cli.start_run(p, args, module="companion.toy", chapter="99_toy", argv=["--epochs", "2"])
    assert run.out_dir == tmp_path / "results" and run.path("t.json") == tmp_path / "results" / "t.json"
    assert run.command == "python -m companion.toy --epochs 2" and run.seeds == [0]


def test_out_json_and_folder_and_publish_are_exclusive(tmp_path, capsys):
    p = parser()
    argv = ["--out", str(tmp_path / "x.json"), "--seeds", "1", "2"]
    run = cli.start_run(p, p.parse_args(argv), module="companion.toy", chapter="99_toy", argv=argv)
    assert run.path("ignored.json") == tmp_path / "x.json" and run.seeds == [1, 2]
    assert "--out" not in run.command and str(tmp_path) not in run.command
    with pytest.raises(SystemExit):
        cli.start_run(p, p.parse_args(["--out", str(tmp_path / "x.json")]), module="m", chapter="c",
                      one_file=False)
    assert "writes several files" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.start_run(p, p.parse_args(["--publish", "--out", str(tmp_path)]), module="m", chapter="c")
    assert "exclusive" in capsys.readouterr().err


def test_unwritable_out_fails_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    p = parser()
    with pytest.raises(SystemExit) as e:
        cli.start_run(p, p.parse_args(["--out", str(blocker / "sub")]), module="m", chapter="c")
    assert e.value.code == 2 and "--out: cannot write into" in capsys.readouterr().err


def test_abbreviated_flags_are_refused(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["--seed", "3"])
    assert "unrecognized arguments: --seed" in capsys.readouterr().err


def test_recorded_command_drops_output_flags():
    argv = ["--epochs", "2", "--out", "a", "--out=b", "--publish", "--no-progress", "--seeds", "0", "1"]
    assert cli.recorded_command("companion.toy", argv) == "python -m companion.toy --epochs 2 --seeds 0 1"


def test_rerun_argv_understands_python_and_torchrun(tmp_path):
    argv = rerun_argv("python -m companion.diffpool --folds 2 --out old", tmp_path)
    assert argv == [sys.executable, "-m", "companion.diffpool", "--folds", "2", "--out", str(tmp_path)]
    argv = rerun_argv("torchrun --nproc-per-node 2 -m companion.distgnn --mode minibatch", tmp_path)
    assert argv[:3] == [sys.executable, "-m", "torch.distributed.run"] and argv[-2:] == ["--out", str(tmp_path)]
    with pytest.raises(ValueError, match="cannot rerun"):
        rerun_argv("bash -c 'rm -rf /'", tmp_path)


def test_publish_replaces_a_file_under_its_own_name(tmp_path):
    # the file's name is not the CLI's default name: publishing must keep it
    import companion.diffpool.__main__ as diffpool_cli
    from companion import reproduce
    from companion.results import compare_summaries, load_results

    path = tmp_path / "book" / "my_name.json"
    diffpool_cli.main(["--num-graphs", "24", "--folds", "2", "--max-folds", "1", "--epochs", "1",
                       "--models", "flat-mean", "--no-progress", "--out", str(path)])
    before = load_results(path)
    path.write_text(path.read_text().replace('"date": "', '"date": "old '))
    assert reproduce.main(["--publish", str(path)]) == 0
    after = load_results(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["my_name.json"]
    assert not after["date"].startswith("old") and compare_summaries(before, after) == []


def test_publish_with_repeat_records_a_measured_tolerance(tmp_path):
    import companion.diffpool.__main__ as diffpool_cli
    from companion import reproduce
    from companion.results import load_results

    path = tmp_path / "book" / "rep.json"
    diffpool_cli.main(["--num-graphs", "24", "--folds", "2", "--max-folds", "1", "--epochs", "1",
                       "--models", "flat-mean", "--no-progress", "--out", str(path)])
    payload = load_results(path)
    payload["reproduce_tolerance"] = 0.5  # a typed value: publishing must replace it by a measured one
    path.write_text(json.dumps(payload))
    assert reproduce.main(["--publish", "--repeat", "2", str(path)]) == 0
    after = load_results(path)
    assert after["reproduce_tolerance"] == 0.0  # deterministic under the numerics policy
    assert after["tolerance_measured"] == {"runs": 2, "max_difference": 0.0}


def test_measured_tolerance_is_the_largest_move_and_refuses_other_rows():
    from companion.reproduce import measured_tolerance

    def run(mean, std=0.1, method="a"):
        return {"summary": [{"setting": "", "method": method, "metric": "acc", "mean": mean, "std": std,
                             "n": 3, "timing": False},
                            {"setting": "", "method": method, "metric": "sec", "mean": mean * 100, "std": 0,
                             "n": 3, "timing": True}]}
    assert measured_tolerance([run(0.5), run(0.5)]) == 0.0
    assert measured_tolerance([run(0.5), run(0.52, 0.1), run(0.49, 0.13)]) == pytest.approx(0.03)
    with pytest.raises(ValueError, match="only in"):
        measured_tolerance([run(0.5), run(0.5, method="b")])
