import json
import shlex

import pytest
import torch

import companion.lds.__main__ as cli
import companion.lds.experiments as experiments
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
    assert [r["method"] for r in payload["rows"][:len(METHODS)]] == [
        "Majority", "LogReg", "MLP", "kNN-GCN", "kNN-GCN, LDS recipe", "kNN-LDS, graph frozen", "kNN-LDS",
        "LDS, graph frozen", "LDS"]
    assert len(payload["rows"]) == 2 * len(METHODS) and all(r["seed"] in (0, 1) for r in payload["rows"])
    assert {(r["method"], r["n"]) for r in payload["summary"]} == {(m, 2) for m in METHODS}
    assert all(0 <= r["mean"] <= 1 for r in payload["summary"] if r["metric"] != "expected_edges")
    graph_rows = [r for r in payload["rows"] if r["method"] in ("kNN-GCN", "kNN-LDS", "LDS")]
    assert all(0 < r["intra_class_mass"] <= 1 and r["nonzero_share"] > 0 for r in graph_rows)
    # the frozen controls end on the graph they start from: the kNN graph, or no edge at all
    frozen = {r["method"]: r for r in payload["rows"] if r["seed"] == 0 and "frozen" in r["method"]}
    recipe = next(r for r in payload["rows"] if r["seed"] == 0 and r["method"] == "kNN-GCN, LDS recipe")
    assert frozen["kNN-LDS, graph frozen"]["expected_edges"] == recipe["expected_edges"] > 0
    assert frozen["LDS, graph frozen"]["expected_edges"] == 0
    assert "--out" not in payload["command"] and book_files() == before


def test_cli_incomplete_graph_end_to_end(tmp_path):
    out = tmp_path / "karate.json"
    main(["--dataset", "karate", "--seeds", "0", "--out", str(out), "--missing", "0.5", *TINY])
    payload = json.loads(out.read_text())
    assert [(r["setting"]["missing"], r["method"]) for r in payload["rows"]] == [
        (0.5, m) for m in ("Majority", "GCN", "GCN, LDS recipe", "LDS, graph frozen", "LDS")]
    by = {r["method"]: r for r in payload["rows"]}
    # the incomplete graph is what the GCNs train on and where frozen LDS stays
    assert by["GCN"]["expected_edges"] == by["GCN, LDS recipe"]["expected_edges"] == by["LDS, graph frozen"][
        "expected_edges"] == by["GCN"]["edges_left"]
    assert by["Majority"]["test_acc"] < 0.7  # two clubs of 16 and 18: a majority guess gets about half
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
    (["--dataset", "wine", "--sparse"], "--sparse"),
])
def test_bad_flags_exit_2_before_any_training(argv, flag, rejects_before_work):
    rejects_before_work(main, argv, flag, forbid=((cli, "run_no_graph"), (cli, "run_incomplete_graph")))


def test_root_without_planetoid_files_names_them(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--dataset", "planetoid", "--root", str(tmp_path)])
    assert "ind.cora.x" in capsys.readouterr().err


def test_killed_run_resumes_after_its_last_finished_seed(tmp_path, monkeypatch):
    args = ["--dataset", "karate", "--missing", "0.5", "--seeds", "0", "1", *TINY, "--out", str(tmp_path)]
    full = main(args)["rows"]
    calls = []
    real = cli.run_incomplete_graph

    def killed_after_seed_0(*a, **k):
        # the real experiment, stopped by a "kill" once seed 0 is saved
        seeds = a[1]
        calls.append(list(seeds))
        real(a[0], seeds[:1], *a[2:], **k)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_incomplete_graph", killed_after_seed_0)
    (tmp_path / "incomplete_karate.json").unlink()
    with pytest.raises(KeyboardInterrupt):
        main(args)
    partial = tmp_path / "incomplete_karate.json.partial"
    assert list(json.loads(partial.read_text())["seeds"]) == ["0"]
    monkeypatch.setattr(cli, "run_incomplete_graph", real)
    trained = []
    load = experiments.load_graph_dataset
    monkeypatch.setattr(experiments, "load_graph_dataset",
                        lambda name, seed, *a, **k: trained.append(seed) or load(name, seed, *a, **k))
    resumed = main(args)["rows"]
    assert trained == [1]  # seed 0 came from the checkpoint
    assert resumed == full and not partial.exists()


def test_sbm_file_name_carries_the_node_count(tmp_path):
    out = main(["--dataset", "sbm_features", "--sbm-nodes", "300", "--missing", "0.5", "--seeds", "0", *TINY,
                "--out", str(tmp_path)])
    assert out["path"].endswith("incomplete_sbm_features_300.json")
    row = next(r for r in out["rows"] if r["method"] == "LDS")
    assert 0 < row["intra_class_mass"] <= 1 and row["expected_edges"] > 0


def test_benchmark_times_outer_steps_and_reproduces(tmp_path):
    from companion.lds.benchmark import main as bench

    out = bench(["--nodes", "300", "--steps", "1", "--out", str(tmp_path / "a")])
    (row,) = out["rows"]
    assert row["seconds_per_outer_step"] > 0 and row["hypergradient_abs_sum"] > 0
    assert row["seconds_per_outer_iteration"] > 20 * row["seconds_per_outer_step"]  # 100 / tau = 20 steps
    assert reproduce_file(out["path"], tmp_path / "b") == []


def test_benchmark_nodes_are_space_separated_and_old_comma_lists_still_read(capsys):
    from companion.lds.benchmark import build_parser

    assert build_parser().parse_args(["--nodes", "600", "2708"]).nodes == [600, 2708]
    assert capsys.readouterr().err == ""
    # the committed benchmark files record `--nodes 600,2708`: make reproduce reruns them
    assert build_parser().parse_args(["--nodes", "600,2708", "--steps", "5"]).nodes == [600, 2708]
    assert "--nodes read as '--nodes 600 2708'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--nodes", "600", "200"])  # the sbm_features split needs >= 300


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "book" / "07_lds" / "results").glob("*.json")),
                         ids=lambda p: p.name)
def test_committed_commands_still_parse(path):
    from companion.lds.benchmark import build_parser as benchmark_parser

    command = shlex.split(json.loads(path.read_text())["command"])
    parsers = {"companion.lds": cli.build_parser, "companion.lds.benchmark": benchmark_parser}
    assert command[:2] == ["python", "-m"] and command[2] in parsers
    parsers[command[2]]().parse_args(command[3:])
