"""The SubgraphX CLI: checked flags (exit 2 before any work), ./results output, per-seed rows, reproduce."""

import json
from pathlib import Path

import pytest

from companion.reproduce import reproduce_file
from companion.results import load_results, summary_lookup
from companion.subgraphx import __main__ as cli

TINY = ["--graphs", "2", "--num-graphs", "20", "--epochs", "3", "--rollout", "2", "--sample-num", "5",
        "--ks", "5", "7", "--gnnexplainer-epochs", "5", "--pg-epochs", "1", "--pg-restarts", "2", "--pg-train", "2",
        "--val-items", "2", "--gate-acc", "0", "--gate-fid", "-1",  # 3 epochs solve no class: the gate is off
        "--no-progress"]
METHODS = ("SubgraphX", "GNNExplainer", "PGExplainer", "Random", "Oracle")


@pytest.mark.parametrize("argv, flag", [
    (["--dataset", "mutag"], "--dataset"),
    (["--graphs", "0"], "--graphs"),
    (["--ks", "0", "5"], "--ks"),
    (["--ks", "5", "30"], "--ks"),  # a BA-2Motifs graph has 25 nodes
    (["--ks", "5", "5"], "--ks"),
    (["--ks", "5,5"], "--ks"),  # the old comma form is checked alike
    (["--rollout", "0"], "--rollout"),
    (["--sample-num", "-1"], "--sample-num"),
    (["--num-graphs", "4"], "--num-graphs"),
    (["--dataset", "ba_shapes", "--num-graphs", "100"], "--num-graphs"),
    (["--num-graphs", "20", "--graphs", "5"], "--graphs"),  # 20 graphs hold 4 test graphs
    (["--epochs", "0"], "--epochs"),
    (["--gnnexplainer-epochs", "0"], "--gnnexplainer-epochs"),
    (["--pg-epochs", "0"], "--pg-epochs"),
    (["--pg-epochs", "30", "30"], "--pg-epochs"),
    (["--pg-train", "0"], "--pg-train"),
    (["--pg-restarts", "0"], "--pg-restarts"),
    (["--num-graphs", "20", "--graphs", "2", "--pg-train", "17"], "--pg-train"),  # 16 training graphs
    (["--val-items", "0"], "--val-items"),
    (["--seeds", "-1"], "--seeds"),
    (["--threads", "0"], "--threads"),
    (["--gate-acc", "1.5"], "--gate-acc"),
    (["--gate-fid", "2"], "--gate-fid"),
    (["--max-retrains", "0"], "--max-retrains"),
])
def test_bad_flag_fails_fast_naming_it(argv, flag, rejects_before_work):
    rejects_before_work(cli.main, argv, flag, forbid=((cli, "run_seed"),))


def test_unwritable_out_fails_fast(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(cli, "run_seed", lambda *a: pytest.fail("work started before --out was checked"))
    with pytest.raises(SystemExit) as e:
        cli.main(["--out", str(blocker / "sub")])
    assert e.value.code == 2 and "--out" in capsys.readouterr().err


def test_cli_writes_per_seed_rows_into_cwd_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    book = Path(cli.__file__).resolve().parents[2] / "book" / "03_subgraphx" / "results"
    before = {p: p.stat().st_mtime_ns for p in book.glob("*")}
    path = cli.main([*TINY, "--seeds", "0", "1"])
    assert path == tmp_path / "results" / "ba2motifs.json"
    assert {p: p.stat().st_mtime_ns for p in book.glob("*")} == before
    payload = load_results(path)
    assert payload["command"] == "python -m companion.subgraphx " + " ".join(
        a for a in [*TINY, "--seeds", "0", "1"] if a != "--no-progress")
    assert payload["seeds"] == [0, 1]
    explained = [r for r in payload["rows"] if isinstance(r["setting"], dict)]
    assert len(explained) == 2 * 2 * 5  # seeds x ks x methods
    assert {(r["setting"]["k"], r["method"]) for r in explained} == {(k, m) for k in (5, 7) for m in METHODS}
    assert all(r["items"] == 2 and 0.0 <= r["sparsity"] < 1.0 for r in explained)
    assert len(payload["items"]) == 2 * 2 * 2 * 5  # seeds x graphs x ks x methods
    assert {r["label"] for r in payload["items"]} == {0, 1}  # test graphs alternate classes
    assert all("prob_fid_plus_bal" in r for r in explained)
    assert any("prob_fid_plus_y0" in r for r in explained) and any("prob_fid_plus_y1" in r for r in explained)
    validation = [r for r in payload["rows"] if r["setting"] == "validation"]
    assert {(r["seed"], r["method"]) for r in validation} == {(s, m) for s in (0, 1)
                                                               for m in ("GNNExplainer", "PGExplainer", "Random")}
    assert all(0.0 <= r["val_motif_acc"] <= 1.0 for r in validation)
    assert len(payload["tuning"]) == 2 * (40 + 2 * 2)  # seeds x (GNNExplainer + PGExplainer restarts x scores)
    ge = [t for t in payload["tuning"] if t["method"] == "GNNExplainer"]
    assert {(t["edge_size"], t["edge_ent"]) for t in ge} == {(0.005, 1.0), (0.005, 0.1), (0.05, 1.0), (0.05, 0.1)}
    chosen = json.loads(validation[0]["config"])
    assert {"edge_size", "edge_ent", "lr", "node_mask_type", "score"} <= set(chosen)
    gate_rows = [r for r in payload["rows"] if r["setting"] == "gate"]
    assert [(r["seed"], r["attempts"], r["train_seed"]) for r in gate_rows] == [(0, 1, 0), (1, 1, 1)]
    assert payload["gate_bounds"]["min_class_acc"] == 0.0 and len(payload["gate"]) == 2
    for r in validation[:2]:  # the chosen setting is the grid's best on validation
        grid = [t["val_motif_acc"] for t in payload["tuning"] if t["seed"] == r["seed"] and t["method"] == r["method"]]
        assert r["val_motif_acc"] == max(grid)
    assert not list(path.parent.glob(path.name + ".partial*"))  # the checkpoint is removed at the end
    lookup = summary_lookup(payload)
    assert lookup[("model", "GNN", "test_acc")]["n"] == 2
    assert lookup[('{"k": 5}', "SubgraphX", "prob_fid_plus")]["n"] == 2
    assert lookup[('{"k": 5}', "SubgraphX", "seconds")]["timing"]
    assert lookup[("training", "PGExplainer", "train_seconds")]["timing"]


def test_ba_shapes_run_reproduces(tmp_path):
    argv = ["--dataset", "ba_shapes", "--graphs", "2", "--epochs", "3", "--rollout", "1", "--sample-num", "2",
            "--ks", "5", "6", "--gnnexplainer-epochs", "2", "--pg-epochs", "1", "--pg-train", "1",
            "--gate-acc", "0", "--gate-fid", "-1", "--no-progress"]
    path = cli.main([*argv, "--out", str(tmp_path / "a")])
    assert path.name == "ba_shapes.json"
    payload = load_results(path)
    # one rule for every method: each set holds the explained node
    assert {r["method"] for r in payload["items"]} == set(METHODS)
    assert all(r["holds_node"] and r["node_idx"] in r["nodes"] for r in payload["items"])
    gate_rows = [r for r in payload["rows"] if r["setting"] == "gate"]
    assert {"acc_y1", "acc_y2", "acc_y3", "oracle_fid_y3"} <= set(gate_rows[0]) and "acc_y0" not in gate_rows[0]
    assert reproduce_file(path, tmp_path / "b") == []


def test_failing_gnn_is_retrained_with_a_derived_seed(tmp_path, monkeypatch):
    from companion.subgraphx import gate

    real, seen = gate.class_report, []

    def fails_first(model, items, **kw):
        rep = real(model, items, **kw)
        seen.append(rep)
        if len(seen) == 1:  # the first GNN "solves" no class
            rep = {c: {**r, "oracle_fid": -2.0} for c, r in rep.items()}  # below any bound
        return rep

    monkeypatch.setattr(gate, "class_report", fails_first)
    path = cli.main([*TINY, "--seeds", "3", "--out", str(tmp_path / "r.json")])
    payload = load_results(path)
    assert [(a["attempt"], a["train_seed"], a["passed"]) for a in payload["gate"]] == [(0, 3, False), (1, 1003, True)]
    (row,) = [r for r in payload["rows"] if r["setting"] == "gate"]
    assert row["attempts"] == 2 and row["train_seed"] == 1003
    assert "1000" in payload["seed_changes"]


def test_gate_that_no_gnn_passes_stops_the_run(tmp_path):
    argv = [a for a in TINY if a not in ("--gate-acc", "--gate-fid", "0", "-1")]
    assert "--gate-fid" not in argv and "--epochs" in argv
    with pytest.raises(RuntimeError, match=r"no GNN passed the gate in 2 trainings.*oracle Fidelity"):
        cli.main([*argv, "--max-retrains", "2", "--out", str(tmp_path / "r.json")])
    assert not (tmp_path / "r.json").exists()


def test_one_seed_files_assemble_into_the_all_seed_file(tmp_path):
    one = [cli.main([*TINY, "--seeds", str(s), "--out", str(tmp_path / f"s{s}.json")]) for s in (0, 1)]
    path = cli.main([*TINY, "--seeds", "0", "1", "--out", str(tmp_path / "all.json"), "--reuse", *map(str, one)])
    payload = load_results(path)
    assert "--reuse" not in payload["command"] and payload["seeds"] == [0, 1]
    assert [s["seeds"] for s in payload["assembled_from"]] == [[0], [1]]
    parts = [load_results(p) for p in one]
    for key in ("items", "tuning", "gate"):
        assert payload[key] == parts[0][key] + parts[1][key]
    assert reproduce_file(path, tmp_path / "b") == []  # the recorded command recomputes the same rows
    with pytest.raises(SystemExit):  # other settings: refused before any work
        cli.main([*TINY, "--seeds", "0", "1", "--val-items", "1", "--out", str(tmp_path / "x.json"),
                  "--reuse", str(one[0])])


def test_ba2motifs_run_reproduces(tmp_path):
    path = cli.main([*TINY, "--out", str(tmp_path / "a" / "tiny.json")])
    assert path == tmp_path / "a" / "tiny.json"
    assert reproduce_file(path, tmp_path / "b") == []


def test_killed_run_resumes_from_its_last_finished_seed(tmp_path, monkeypatch):
    argv = [*TINY, "--seeds", "0", "1", "--out", str(tmp_path / "r.json")]
    real, calls = cli.run_seed, []

    def dies_on_seed_1(args, seed):
        calls.append(seed)
        if seed == 1:
            raise KeyboardInterrupt
        return real(args, seed)

    monkeypatch.setattr(cli, "run_seed", dies_on_seed_1)
    with pytest.raises(KeyboardInterrupt):
        cli.main(argv)
    assert list(tmp_path.glob("r.json.partial*")) and not (tmp_path / "r.json").exists()  # seed 0 checkpointed
    monkeypatch.setattr(cli, "run_seed", lambda args, seed: calls.append(seed) or real(args, seed))
    path = cli.main(argv)
    assert calls == [0, 1, 1]  # seed 0 was not run again
    assert load_results(path)["seeds"] == [0, 1]
    assert reproduce_file(path, tmp_path / "b") == []


def test_old_comma_lists_still_parse_with_a_note(capsys):
    # committed commands wrote `--ks 5,6,8`: they must still rerun
    args = cli.build_parser().parse_args(["--ks", "5,6,8", "--pg-epochs", "30,100"])
    assert args.ks == [5, 6, 8] and args.pg_epochs == [30, 100]
    assert "--ks read as '--ks 5 6 8': lists are space-separated" in capsys.readouterr().err


def test_greedy_control_is_opt_in(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plain = load_results(cli.main([*TINY, "--ks", "5", "--seeds", "0", "--out", str(tmp_path / "a.json")]))
    assert "controls" not in plain["settings"] and plain["methods"] == list(METHODS)
    path = cli.main([*TINY, "--ks", "5", "--seeds", "0", "--controls", "Greedy", "--out", str(tmp_path / "b.json")])
    payload = load_results(path)
    assert payload["command"].endswith("--controls Greedy") and payload["methods"] == [*METHODS, "Greedy"]
    lookup, before = summary_lookup(payload), summary_lookup(plain)
    assert 0.0 <= lookup[('{"k": 5}', "Greedy", "sparsity")]["mean"] < 1.0
    for m in METHODS:  # the other methods' rows are the run without the control
        assert lookup[('{"k": 5}', m, "prob_fid_plus_bal")]["mean"] == before[('{"k": 5}', m, "prob_fid_plus_bal")]["mean"]
    with pytest.raises(SystemExit):
        cli.main([*TINY, "--controls", "Occlusion"])


def test_tuning_by_fidelity_is_opt_in(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plain = load_results(cli.main([*TINY, "--ks", "5", "--seeds", "0", "--out", str(tmp_path / "a.json")]))
    # a run by motif accuracy records the settings of a run from before the flag: old files assemble with it
    assert "tune_metric" not in plain["settings"]
    assert ("validation", "GNNExplainer", "val_fidelity") not in summary_lookup(plain)
    assert all("val_fidelity" in r for r in plain["tuning"])  # every grid point is scored both ways
    fid = load_results(cli.main([*TINY, "--ks", "5", "--seeds", "0", "--tune-metric", "fidelity",
                                 "--out", str(tmp_path / "b.json")]))
    assert fid["settings"]["tune_metric"] == "fidelity" and fid["command"].endswith("--tune-metric fidelity")
    lookup = summary_lookup(fid)
    for method in ("GNNExplainer", "PGExplainer"):
        grid = [r for r in fid["tuning"] if r["method"] == method]
        assert lookup[("validation", method, "val_fidelity")]["mean"] == max(r["val_fidelity"] for r in grid)
    with pytest.raises(SystemExit):
        cli.main([*TINY, "--tune-metric", "accuracy"])
