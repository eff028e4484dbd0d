import json
import shlex
from pathlib import Path

import pytest

from companion.kgcn import __main__ as cli
from companion.reproduce import reproduce_file

REPO = Path(__file__).resolve().parents[2]
TINY = ["--n-users", "30", "--n-items", "40", "--density", "0.2", "--epochs", "2", "--topk-users", "5", "--no-progress"]


def _book_results() -> set[Path]:
    return set((REPO / "book" / "06_kgcn" / "results").glob("*"))


def test_cli_writes_one_file_under_cwd_and_reproduces(tmp_path, monkeypatch, capsys):
    before = _book_results()
    monkeypatch.chdir(tmp_path)
    rows = cli.main([*TINY, "--fractions", "1.0", "0.5", "--seeds", "0", "1"])
    assert _book_results() == before  # nothing written into the book
    path = tmp_path / "results" / "sparsity.json"  # several fractions: the sparsity sweep's name
    payload = json.loads(path.read_text())
    assert payload["schema"] == 1 and payload["seeds"] == [0, 1] and len(rows) == len(payload["rows"]) == 12
    assert payload["command"] == "python -m companion.kgcn " + " ".join(
        a for a in [*TINY, "--fractions", "1.0", "0.5", "--seeds", "0", "1"] if a != "--no-progress")
    assert {(r["setting"]["fraction"], r["method"]) for r in rows} == {
        (f, m) for f in (1.0, 0.5) for m in ("BPR-MF", "KGCN", "KGCN-LS")}
    auc = {(s["setting"]["fraction"], s["method"]): s for s in payload["summary"] if s["metric"] == "auc"}
    assert auc[(0.5, "KGCN-LS")]["n"] == 2 and auc[(0.5, "KGCN-LS")]["higher_is_better"] is True
    assert all(0 <= r["recall@20"] <= 1 for r in rows)
    assert "KGCN-LS" in capsys.readouterr().out
    assert reproduce_file(path, tmp_path / "rerun") == []  # tolerance 0, in a fresh process


def test_popularity_and_step_budget_are_recorded_and_reproduce(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tiny = [a for a in TINY if a not in ("--epochs", "2")]
    argv = [*tiny, "--fractions", "1.0", "0.5", "--models", "Popularity", "BPR-MF",
            "--steps", "9"]
    rows = cli.main(argv)
    path = tmp_path / "results" / "sparsity_equal.json"  # not the fixed-epoch file
    payload = json.loads(path.read_text())
    assert payload["steps"] == 9 and "--steps 9" in payload["command"]
    assert {(r["setting"]["fraction"], r["method"]) for r in rows} == {
        (f, m) for f in (1.0, 0.5) for m in ("Popularity", "BPR-MF")}
    pop = [r for r in rows if r["method"] == "Popularity"]
    assert all(0.5 < r["auc"] <= 1 for r in pop)  # the world rewards popularity
    assert reproduce_file(path, tmp_path / "rerun") == []  # tolerance 0, fresh process


def test_seeds_in_one_process_equal_one_process_per_seed(tmp_path):
    # the committed sweep was run one seed per process; one process for all seeds gives the same rows
    both = cli.main([*TINY, "--models", "KGCN-LS", "BPR-MF", "--seeds", "0", "1", "--out", str(tmp_path / "a.json")])
    apart = [row for s in ("0", "1") for row in
             cli.main([*TINY, "--models", "KGCN-LS", "BPR-MF", "--seeds", s, "--out", str(tmp_path / f"{s}.json")])]
    assert both == apart
    assert (tmp_path / "a.json").is_file()  # a .json --out is the file itself


def test_a_rerun_resumes_after_the_finished_seeds(tmp_path, monkeypatch, capsys):
    argv = [*TINY, "--fractions", "1.0", "0.5", "--models", "KGCN-LS", "BPR-MF", "--seeds", "0", "1"]
    cli.main([*argv, "--out", str(tmp_path / "full.json")])
    full = json.loads((tmp_path / "full.json").read_text())
    out = tmp_path / "r.json"
    computed = []
    real = cli.run_comparison

    def spy(data, fractions, seeds, *a, **k):
        computed.extend(seeds)
        if seeds == [1] and computed == [0, 1]:
            raise KeyboardInterrupt  # killed during seed 1
        return real(data, fractions, seeds, *a, **k)

    monkeypatch.setattr(cli, "run_comparison", spy)
    with pytest.raises(KeyboardInterrupt):
        cli.main([*argv, "--out", str(out)])
    partial = tmp_path / "r.json.partial"
    assert list(json.loads(partial.read_text())["seeds"]) == ["0"] and not out.exists()
    capsys.readouterr()
    cli.main([*argv, "--out", str(out)])
    assert computed == [0, 1, 1]  # seed 0 was kept, not recomputed
    assert "resuming: reusing finished seed(s) 0" in capsys.readouterr().err
    assert not partial.exists()
    resumed = json.loads(out.read_text())
    assert resumed["summary"] == full["summary"] and resumed["rows"] == full["rows"]


def test_a_tuned_run_records_each_choice_made_on_the_eval_rows_and_reproduces(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    grid = ["--grid-lr", "5e-3", "2e-2", "--grid-l2-bprmf", "1e-4", "1e-1", "--grid-l2-kgcn", "1e-4", "1e-2"]
    rows = cli.main([*TINY, "--fractions", "1.0", "0.5", "--models", "BPR-MF", "KGCN", "Popularity", *grid])
    path = tmp_path / "results" / "sparsity_tuned.json"
    payload = json.loads(path.read_text())
    assert payload["grid"]["BPR-MF"] == [{"lr": lr, "l2_weight": w} for lr in (5e-3, 2e-2) for w in (1e-4, 1e-1)]
    trained = [r for r in rows if r["method"] != "Popularity"]
    assert all(r["lr"] in (5e-3, 2e-2) and 0 <= r["eval_auc"] <= 1 for r in trained)
    assert {r["l2_weight"] for r in trained if r["method"] == "BPR-MF"} <= {1e-4, 1e-1}
    assert {r["l2_weight"] for r in trained if r["method"] == "KGCN"} <= {1e-4, 1e-2}
    assert not any("lr" in r for r in rows if r["method"] == "Popularity")  # nothing to tune
    assert any(s["metric"] == "eval_auc" for s in payload["summary"])
    assert reproduce_file(path, tmp_path / "rerun") == []


def test_default_filename():
    assert cli.default_filename([0.2, 1.0], "kg_recsys") == "sparsity.json"
    assert cli.default_filename([1.0], "kg_recsys") == "kgcn.json"
    assert cli.default_filename([1.0], "kgcn_files") == "kgcn_kgcn_files.json"
    assert cli.default_filename([0.2, 1.0], "kg_recsys", 100) == "sparsity_equal.json"
    assert cli.default_filename([1.0], "kgcn_files", 9) == "kgcn_equal_kgcn_files.json"
    assert cli.default_filename([0.2, 1.0], "kg_recsys", 100, tuned=True) == "sparsity_equal_tuned.json"
    # a run of none of the default models never overwrites a comparison's file
    assert cli.default_filename([0.2, 1.0], "kg_recsys", 100, True, ["MF"]) == "sparsity_equal_tuned_mf.json"
    assert cli.default_filename([0.2, 1.0], "kg_recsys", 100, True, ["MF", "KGCN"]) == "sparsity_equal_tuned.json"


@pytest.mark.parametrize("args, flag", [
    (["--topk-users", "0"], "--topk-users"),     # used to write NaN Recall@K into the file
    (["--fractions", "0"], "--fractions"),
    (["--fractions", "1.5"], "--fractions"),
    (["--fractions", "0.5", "0.5"], "--fractions"),
    (["--density", "0"], "--density"),
    (["--density", "0.7"], "--density"),
    (["--n-users", "1"], "--n-users"),
    (["--n-items", "5"], "--n-items"),
    (["--lr", "0"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--ls-weight", "-1"], "--ls-weight"),
    (["--l2-weight", "-1e-3"], "--l2-weight"),
    (["--n-iter", "0"], "--n-iter"),
    (["--neighbor-sample-size", "0"], "--neighbor-sample-size"),
    (["--dim", "0"], "--dim"),
    (["--batch-size", "0"], "--batch-size"),
    (["--epochs", "0"], "--epochs"),
    (["--steps", "0"], "--steps"),
    (["--steps", "1.5"], "--steps"),
    (["--epochs", "3", "--steps", "100"], "--steps"),             # one budget, not two
    (["--models", "Popularity", "Popularity"], "--models"),
    (["--aggregator", "max"], "--aggregator"),
    (["--models", "LightGCN"], "--models"),
    (["--data", "movielens"], "--data"),
    (["--seeds", "0", "0"], "--seeds"),
    (["--seeds", "-1"], "--seeds"),
    (["--threads", "0"], "--threads"),
    (["--root", "."], "--root"),                                      # --root without kgcn_files
    (["--data", "kgcn_files", "--root", "/no/such/folder"], "--root"),
    (["--data", "kgcn_files", "--root", ".", "--density", "0.1"], "--density"),
    (["--grid-lr", "1e-2"], "--grid-l2-bprmf"),                        # a grid needs all three flags
    (["--grid-lr", "1e-2", "--grid-l2-bprmf", "1e-4", "1e-2", "--grid-l2-kgcn", "1e-3"], "--grid-l2-kgcn"),
    (["--grid-lr", "1e-2", "1e-2", "--grid-l2-bprmf", "1e-4", "--grid-l2-kgcn", "1e-3"], "--grid-lr"),
    (["--grid-lr", "0", "--grid-l2-bprmf", "1e-4", "--grid-l2-kgcn", "1e-3"], "--grid-lr"),
])
def test_bad_flag_fails_fast_naming_it(args, flag, monkeypatch, rejects_before_work):
    monkeypatch.delenv("COMPANION_DATA", raising=False)
    rejects_before_work(cli.main, args, flag, forbid=((cli, "run_comparison"),))


def test_kgcn_files_without_root_and_with_a_corrupt_file(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COMPANION_DATA", raising=False)
    monkeypatch.setattr(cli, "run_comparison", lambda *a, **k: pytest.fail("training started"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--data", "kgcn_files"])
    assert exit_info.value.code == 2 and "--root" in capsys.readouterr().err
    (tmp_path / "ratings_final.txt").write_text("0\t0\t1\n")
    (tmp_path / "kg_final.txt").write_text("")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--data", "kgcn_files", "--root", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "--root" in err and "kg_final.txt" in err


@pytest.mark.parametrize("path", sorted((REPO / "book" / "06_kgcn" / "results").glob("*.json")), ids=lambda p: p.name)
def test_committed_commands_still_parse(path):
    command = shlex.split(json.loads(path.read_text())["command"])
    assert command[:3] == ["python", "-m", "companion.kgcn"]
    args = cli.build_parser().parse_args(command[3:])
    assert len(args.fractions) > 1 and args.fractions[-1] == 1.0
    # the command still writes the file it is committed as
    assert cli.default_filename(args.fractions, args.data, args.steps, tuned=args.grid_lr is not None,
                                models=args.models) == path.name
