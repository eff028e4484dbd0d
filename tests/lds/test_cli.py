import json

import pytest
import torch

import companion.lds.__main__ as cli
from companion.lds.__main__ import main
from companion.lds.bilevel import LDSConfig
from companion.lds.experiments import METHODS, run_incomplete_graph
from companion.reproduce import reproduce_file
from companion.utils import REPO_ROOT

TINY = ["--max-inner-steps", "4", "--tau", "2", "--max-outer-iterations", "1", "--epochs", "5", "--n-samples", "2"]


def book_files() -> set:
    return set((REPO_ROOT / "book" / "07_lds").rglob("*"))


def test_cli_table_end_to_end_writes_under_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = book_files()
    main(["--dataset", "wine", "--seeds", "0", "1", "--ks", "5", *TINY])
    payload = json.loads((tmp_path / "results" / "table_wine.json").read_text())
    assert payload["schema"] == 1 and payload["seeds"] == [0, 1] and payload["experiment"] == "table"
    assert [r["method"] for r in payload["rows"][:5]] == ["LogReg", "MLP", "kNN-GCN", "kNN-LDS", "LDS"]
    assert len(payload["rows"]) == 10 and all(r["seed"] in (0, 1) for r in payload["rows"])
    assert {(r["method"], r["n"]) for r in payload["summary"]} == {(m, 2) for m in METHODS}
    assert all(0 <= r["mean"] <= 1 for r in payload["summary"])
    assert "--out" not in payload["command"] and book_files() == before


def test_cli_incomplete_graph_end_to_end(tmp_path):
    out = tmp_path / "karate.json"
    main(["--dataset", "karate", "--seeds", "0", "--out", str(out), "--missing", "0.5", *TINY])
    payload = json.loads(out.read_text())
    assert {(r["setting"]["missing"], r["method"]) for r in payload["rows"]} == {(0.5, "GCN"), (0.5, "LDS")}
    assert payload["rows"][0]["edges_left"] < 78


def test_a_method_does_not_depend_on_what_ran_before():
    # dropout draws from torch's global generator: each method must reseed it
    config = LDSConfig(tau=2, max_inner_steps=4, max_outer_iterations=1, n_samples=2)
    alone = run_incomplete_graph("karate", [0], (0.5,), config, epochs=5)
    torch.rand(1000)  # consume the global generator
    after = run_incomplete_graph("karate", [0], (0.25, 0.5), config, epochs=5)
    assert alone == [r for r in after if r["setting"]["missing"] == 0.5]


@pytest.mark.parametrize("args", [["--dataset", "karate", "--missing", "0.25", "0.5"],
                                  ["--dataset", "wine", "--ks", "5"]], ids=["incomplete", "table"])
def test_results_file_reproduces_in_a_fresh_process(tmp_path, args):
    path = main([*args, "--seeds", "0", "1", *TINY, "--out", str(tmp_path / "a")])["path"]
    assert reproduce_file(path, tmp_path / "b") == []


@pytest.mark.parametrize("argv, flag", [
    (["--dataset", "nope"], "--dataset"),
    (["--dataset", "wine", "--seeds", "-1"], "--seeds"),
    (["--dataset", "wine", "--seeds", "0", "0"], "--seeds"),
    (["--dataset", "wine", "--tau", "0"], "--tau"),
    (["--dataset", "wine", "--max-inner-steps", "0"], "--max-inner-steps"),
    (["--dataset", "wine", "--tau", "10", "--max-inner-steps", "5"], "--tau"),
    (["--dataset", "wine", "--max-outer-iterations", "0"], "--max-outer-iterations"),
    (["--dataset", "wine", "--patience", "0"], "--patience"),
    (["--dataset", "wine", "--n-samples", "0"], "--n-samples"),
    (["--dataset", "wine", "--epochs", "0"], "--epochs"),
    (["--dataset", "wine", "--ks", "0"], "--ks"),
    (["--dataset", "wine", "--ks", "500"], "--ks"),
    (["--dataset", "wine", "--missing", "0.5"], "--missing"),
    (["--dataset", "karate", "--ks", "5"], "--ks"),
    (["--dataset", "karate", "--missing", "1.5"], "--missing"),
    (["--dataset", "karate", "--missing", "nan"], "--missing"),
    (["--dataset", "karate", "--missing", "0.5", "0.5"], "--missing"),
    (["--dataset", "karate", "--sbm-nodes", "600"], "--sbm-nodes"),
    (["--dataset", "sbm_features", "--sbm-nodes", "100"], "--sbm-nodes"),
    (["--dataset", "planetoid"], "--root"),
    (["--dataset", "planetoid", "--root", "/nonexistent/planetoid"], "--root"),
    (["--dataset", "wine", "--threads", "0"], "--threads"),
])
def test_bad_flags_exit_2_before_any_training(argv, flag, rejects_before_work):
    rejects_before_work(main, argv, flag, forbid=((cli, "run_no_graph"), (cli, "run_incomplete_graph")))


def test_root_without_planetoid_files_names_them(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--dataset", "planetoid", "--root", str(tmp_path)])
    assert "ind.cora.x" in capsys.readouterr().err
