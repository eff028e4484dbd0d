import json
import shlex

import pytest

import companion.diffpool.__main__ as cli
from companion.diffpool.__main__ import main
from companion.reproduce import reproduce_file
from companion.utils import REPO_ROOT, torch_threads

TINY = ["--dataset", "hier_graphs", "--num-graphs", "40", "--folds", "4", "--max-folds", "2", "--epochs", "2",
        "--hidden", "8", "--batch-size", "16"]


@pytest.fixture(autouse=True)
def one_thread():
    # small dense batches: one thread avoids OpenMP spin-waiting on a busy machine
    with torch_threads(1):
        yield


def book_files() -> set:
    return set((REPO_ROOT / "book" / "08_diffpool").rglob("*"))


def test_cli_end_to_end_writes_per_seed_rows_under_cwd(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    before = book_files()
    rows = main([*TINY, "--models", "flat-mean", "diffpool", "diffpool-pyg", "--seeds", "0", "1"])
    payload = json.loads((tmp_path / "results" / "cv_hier_graphs.json").read_text())
    assert [(r["method"], r["seed"]) for r in payload["rows"]] == [
        (m, s) for m in ("flat-mean", "diffpool", "diffpool-pyg") for s in (0, 1)]
    assert all(len(r["fold_acc"]) == 2 and r["accuracy"] == pytest.approx(sum(r["fold_acc"]) / 2)
               for r in payload["rows"])
    acc = {r["method"]: r for r in payload["summary"] if r["metric"] == "accuracy"}
    assert all(r["n"] == 2 for r in acc.values())
    assert {r["metric"] for r in payload["summary"] if r["timing"]} == {"cpu_seconds_per_epoch"}
    # our pooling and PyG's are the same maths: after 2 epochs the seeded runs barely differ
    assert abs(acc["diffpool"]["mean"] - acc["diffpool-pyg"]["mean"]) <= 0.2
    assert payload["command"].startswith("python -m companion.diffpool --dataset hier_graphs")
    assert payload["num_graphs"] == 40 and len(rows) == 6
    assert "diffpool-pyg" in capsys.readouterr().out and book_files() == before


def test_a_rerun_resumes_after_the_finished_seeds(tmp_path, monkeypatch, capsys):
    argv = [*TINY, "--models", "flat-mean", "diffpool", "--max-folds", "1", "--seeds", "0", "1"]
    main([*argv, "--out", str(tmp_path / "full.json")])
    full = json.loads((tmp_path / "full.json").read_text())
    out = tmp_path / "r.json"
    computed = []
    real = cli._seed_rows

    def spy(args, graphs, name, seed, width, *display):
        computed.append(seed)
        if seed == 1 and len(computed) == 2:
            raise KeyboardInterrupt  # killed during seed 1
        return real(args, graphs, name, seed, width, *display)

    monkeypatch.setattr(cli, "_seed_rows", spy)
    with pytest.raises(KeyboardInterrupt):
        main([*argv, "--out", str(out)])
    partial = tmp_path / "r.json.partial"
    saved = json.loads(partial.read_text())["seeds"]
    assert list(saved) == ["0"] and [r["method"] for r in saved["0"]] == ["flat-mean", "diffpool"]
    assert not out.exists()
    capsys.readouterr()
    main([*argv, "--out", str(out)])
    assert computed == [0, 1, 1]  # seed 0 was kept, not recomputed
    err = capsys.readouterr().err
    assert "resuming: reusing finished seed(s) 0" in err
    # a log, not a terminal: one line per unit (a model of a seed), the kept seed's two at once
    assert "[2/4] seed 0: reused from an earlier run" in err and "[4/4] seed 1, diffpool: done in" in err
    assert not partial.exists()
    resumed = json.loads(out.read_text())
    # the rows keep their order (a model's seeds together); only the CPU timings may differ
    assert [(r["method"], r["seed"]) for r in resumed["rows"]] == [
        (m, s) for m in ("flat-mean", "diffpool") for s in (0, 1)]
    assert [r for r in resumed["summary"] if not r["timing"]] == [r for r in full["summary"] if not r["timing"]]


def test_one_model_file_is_named_after_it(tmp_path):
    main([*TINY, "--models", "flat-sum", "--max-folds", "1", "--out", str(tmp_path)])
    assert [p.name for p in tmp_path.glob("*.json")] == ["cv_hier_graphs_flat-sum.json"]


def test_results_file_reproduces_in_a_fresh_process(tmp_path):
    main([*TINY, "--models", "flat-mean", "diffpool", "--seeds", "0", "1", "--out", str(tmp_path / "a")])
    assert reproduce_file(tmp_path / "a" / "cv_hier_graphs.json", tmp_path / "b") == []


def test_variant_results_file_reproduces_in_a_fresh_process(tmp_path):
    rows = main([*TINY, "--models", "flat-mean", "diffpool", "diffpool-oracle", "--coarse-adj", "no-diag",
                 "--readout", "max-concat", "--max-folds", "1", "--out", str(tmp_path / "a")])
    path = tmp_path / "a" / "cv_hier_graphs_no-diag+max-concat.json"
    payload = json.loads(path.read_text())
    # flat models ignore the DiffPool options and keep their names; the DiffPool ones carry them
    assert [r["method"] for r in rows] == ["flat-mean", "diffpool+no-diag+max-concat",
                                           "diffpool-oracle+no-diag+max-concat"]
    assert payload["settings"]["coarse_adj"] == "no-diag" and payload["settings"]["readout"] == "max-concat"
    assert "--coarse-adj no-diag --readout max-concat" in payload["command"]
    assert reproduce_file(path, tmp_path / "b") == []


def test_defaults_are_unchanged_and_variants_get_their_own_file(tmp_path):
    args = cli.build_parser().parse_args([])
    assert args.models == ["flat-mean", "flat-sum", "diffpool", "diffpool-pyg"]  # the oracle is opt-in
    assert (args.coarse_adj, args.readout) == ("raw", "mean")
    main([*TINY, "--models", "diffpool-oracle", "--coarse-adj", "degree-norm", "--max-folds", "1",
          "--out", str(tmp_path)])
    assert [p.name for p in tmp_path.glob("*.json")] == ["cv_hier_graphs_diffpool-oracle+degree-norm.json"]


@pytest.mark.parametrize("argv, flag", [
    (["--max-folds", "0"], "--max-folds"),
    (["--folds", "4", "--max-folds", "5"], "--max-folds"),
    (["--folds", "1"], "--folds"),
    (["--folds", "30", "--num-graphs", "40"], "--folds"),
    (["--epochs", "0"], "--epochs"),
    (["--hidden", "0"], "--hidden"),
    (["--levels", "0"], "--levels"),
    (["--num-layers", "0"], "--num-layers"),
    (["--cluster-ratio", "0"], "--cluster-ratio"),
    (["--cluster-ratio", "1.5"], "--cluster-ratio"),
    (["--batch-size", "1"], "--batch-size"),
    (["--lr", "0"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--link-weight", "-1"], "--link-weight"),
    (["--entropy-weight", "inf"], "--entropy-weight"),
    (["--num-graphs", "1"], "--num-graphs"),
    (["--max-nodes", "0"], "--max-nodes"),
    (["--max-nodes", "3", "--num-graphs", "40"], "--max-nodes"),
    (["--seeds", "-1"], "--seeds"),
    (["--seeds", "0", "0"], "--seeds"),
    (["--threads", "0"], "--threads"),
    (["--models", "gin"], "--models"),
    (["--models", "flat-sum", "flat-sum"], "--models"),
    (["--dataset", "cora"], "--dataset"),
    (["--tu-name", "ENZYMES"], "--tu-name"),
    (["--root", "/tmp"], "--root"),
    (["--dataset", "tu_local", "--num-graphs", "40"], "--num-graphs"),
    (["--dataset", "tu_local", "--root", "/nonexistent/tu"], "--root"),
    (["--coarse-adj", "sym"], "--coarse-adj"),
    (["--coarse-adj"], "--coarse-adj"),
    (["--readout", "max"], "--readout"),
    (["--readout", "sum"], "--readout"),
    (["--models", "flat-mean", "flat-sum", "--coarse-adj", "no-diag"], "--coarse-adj"),
    (["--models", "flat-sum", "--readout", "max-concat"], "--readout"),
    (["--models", "diffpool-oracle", "--dataset", "ba2motifs"], "--models diffpool-oracle"),
])
def test_bad_flags_exit_2_before_any_training(argv, flag, rejects_before_work):
    rejects_before_work(main, argv, flag, forbid=((cli, "cross_validate"),))


def test_tu_local_without_files_is_a_flag_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--dataset", "tu_local", "--tu-name", "ENZYMES", "--root", str(tmp_path)])
    assert e.value.code == 2 and "ENZYMES_A.txt" in capsys.readouterr().err


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "book" / "08_diffpool" / "results").glob("*.json")),
                         ids=lambda p: p.name)
def test_committed_commands_still_parse(path):
    """A results file's command parses to the settings it recorded (nothing is trained)."""
    payload = json.loads(path.read_text())
    parser = cli.build_parser()
    args = parser.parse_args(shlex.split(payload["command"])[3:])
    cli.check_args(parser, args)
    assert {k: v for k, v in vars(args).items() if k in payload["settings"]} == payload["settings"]


def test_models_is_space_separated_and_reads_the_old_comma_form(capsys):
    p = cli.build_parser()
    assert p.parse_args(["--models", "flat-mean", "diffpool"]).models == ["flat-mean", "diffpool"]
    assert p.parse_args(["--models", "flat-mean,diffpool"]).models == ["flat-mean", "diffpool"]
    assert "lists are space-separated" in capsys.readouterr().err
