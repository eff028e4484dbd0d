import json
import shlex

import pytest
import torch

import companion.diffpool.__main__ as cli
from companion.diffpool.__main__ import main
from companion.diffpool.baselines import statistics_cv
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

    def spy(args, datasets, seed, width, *display):
        computed.append(seed)
        if seed == 1 and len(computed) == 2:
            raise KeyboardInterrupt  # killed during seed 1
        return real(args, datasets, seed, width, *display)

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
    parser = cli.build_parser()
    args = parser.parse_args([])
    cli.check_args(parser, args)
    assert args.models == ["flat-mean", "flat-sum", "diffpool", "diffpool-pyg"]  # the oracle is opt-in
    assert (args.coarse_adj, args.readout) == ("raw", "mean")
    # the flags added for the paper's architecture, the aggregation and fresh datasets keep the book's run
    assert (args.arch, args.aggr, args.data_seeds) == ("book", "sum", None)
    assert (args.levels, args.cluster_ratio, args.num_layers) == (1, 0.25, 3)
    assert cli.settings_rows(args) == [("hier_graphs", None, "sum")]
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
    (["--aggr", "max"], "--aggr"),
    (["--aggr", "sum", "sum"], "--aggr"),
    (["--arch", "gin"], "--arch"),
    (["--coarse-adj", "raw", "raw"], "--coarse-adj"),
    (["--models", "flat-mean", "--coarse-adj", "raw", "no-diag"], "--coarse-adj"),
    (["--data-seeds", "-1"], "--data-seeds"),
    (["--data-seeds", "0", "0"], "--data-seeds"),
    (["--data-seeds"], "--data-seeds"),
    (["--dataset", "tu_local", "--data-seeds", "0", "1"], "--data-seeds"),
    (["--data-seeds", "0", "1", "--num-graphs", "40", "--folds", "30"], "--folds"),
    (["--reuse", "/nonexistent/seed0.json"], "--reuse"),
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


PAPER = [*TINY, "--arch", "paper", "--aggr", "sum", "mean", "--data-seeds", "0", "1", "--max-folds", "1"]


def test_paper_arch_two_aggregations_two_datasets_end_to_end_reproduces(tmp_path):
    pytest.importorskip("pymetis")
    rows = main([*PAPER, "--models", "flat-mean", "diffpool", "diffpool-det", "diffpool-nolp",
                 "--coarse-adj", "raw", "degree-norm", "--out", str(tmp_path / "a")])
    path = tmp_path / "a" / "cv_hier_graphs_raw+degree-norm_paper-arch_aggr-sum+mean_data-0+1.json"
    payload = json.loads(path.read_text())
    settings = [{"dataset": "hier_graphs", "data_seed": d, "aggr": a} for d in (0, 1) for a in ("sum", "mean")]
    methods = ["flat-mean", "diffpool", "diffpool+degree-norm", "diffpool+val-chosen",
               "diffpool-det", "diffpool-det+degree-norm", "diffpool-det+val-chosen",
               "diffpool-nolp", "diffpool-nolp+degree-norm", "diffpool-nolp+val-chosen"]
    assert [(r["setting"], r["method"]) for r in payload["rows"]] == [(s, m) for s in settings for m in methods]
    assert len(rows) == 40
    for r in payload["rows"]:
        if r["method"].endswith("+val-chosen"):
            assert len(r["chosen_coarse_adj"]) == 1 and r["chosen_coarse_adj"][0] in ("raw", "degree-norm")
    recorded = payload["settings"]
    assert (recorded["arch"], recorded["levels"], recorded["aggr"], recorded["data_seeds"]) == (
        "paper", 2, ["sum", "mean"], [0, 1])
    assert payload["num_graphs_per_data_seed"] == {"0": 40, "1": 40}
    assert reproduce_file(path, tmp_path / "b") == []


def test_data_seeds_draw_different_datasets_and_seed_0_is_the_default_one():
    parser = cli.build_parser()
    args = parser.parse_args(["--num-graphs", "40", "--data-seeds", "0", "1"])
    cli.check_args(parser, args)
    default, zero, one = (cli.load_graphs(parser, args, ds) for ds in (None, 0, 1))
    same = lambda a, b: all(torch.equal(x.edge_index, y.edge_index) and torch.equal(x.x, y.x)  # noqa: E731
                            for x, y in zip(a, b))
    assert same(default, zero) and not same(zero, one)
    assert [s for s, _, _ in cli.settings_rows(args)] == [{"dataset": "hier_graphs", "data_seed": d, "aggr": "sum"}
                                                         for d in (0, 1)]


def test_val_chosen_row_takes_the_validation_best_variant_not_the_test_best(tmp_path, monkeypatch):
    # per fold, the variant best on validation is worst on test: the chosen row must report the worst
    fake = {"raw": ([0.1, 0.9], [0.9, 0.1]), "no-diag": ([0.6, 0.6], [0.5, 0.5]),
            "degree-norm": ([0.9, 0.1], [0.1, 0.9])}  # coarse_adj -> (test acc, val acc) per fold

    def fake_cv(graphs, kind, **kw):
        test, val = fake[kw.get("coarse_adj", "raw")] if kind != "flat-mean" else ([0.5, 0.5], [0.5, 0.5])
        return {"model": kind, "fold_acc": test, "fold_val_acc": val, "mean": sum(test) / 2, "std": 0.4,
                "cpu_seconds_per_epoch": 1.0}

    monkeypatch.setattr(cli, "cross_validate", fake_cv)
    rows = main([*TINY, "--models", "flat-mean", "diffpool", "--coarse-adj", "raw", "no-diag", "degree-norm",
                 "--out", str(tmp_path)])
    chosen = next(r for r in rows if r["method"] == "diffpool+val-chosen")
    assert chosen["chosen_coarse_adj"] == ["raw", "degree-norm"]
    assert chosen["fold_acc"] == [0.1, 0.1] and chosen["accuracy"] == pytest.approx(0.1)
    assert chosen["cpu_seconds_per_epoch"] == 3.0  # the choice costs its three trainings


def test_reuse_assembles_one_seed_runs_into_the_file_of_the_full_command(tmp_path, monkeypatch):
    argv = [*TINY, "--models", "flat-mean", "diffpool", "--coarse-adj", "raw", "no-diag", "--max-folds", "1"]
    main([*argv, "--seeds", "0", "1", "--out", str(tmp_path / "full.json")])
    for seed in ("0", "1"):
        main([*argv, "--seeds", seed, "--out", str(tmp_path / f"s{seed}.json")])
    monkeypatch.setattr(cli, "cross_validate", lambda *a, **kw: pytest.fail("a reused seed was recomputed"))
    main([*argv, "--seeds", "0", "1", "--reuse", str(tmp_path / "s0.json"), str(tmp_path / "s1.json"),
          "--out", str(tmp_path / "merged.json")])
    full, merged = (json.loads((tmp_path / f).read_text()) for f in ("full.json", "merged.json"))
    assert merged["command"] == full["command"] and "--reuse" not in merged["command"]
    assert merged["settings"] == full["settings"]
    drop = lambda rows: [{k: v for k, v in r.items() if k != "cpu_seconds_per_epoch"} for r in rows]  # noqa: E731
    assert drop(merged["rows"]) == drop(full["rows"])
    assert [r for r in merged["summary"] if not r["timing"]] == [r for r in full["summary"] if not r["timing"]]
    assert not list(tmp_path.glob("*.partial"))
    parts = [json.loads((tmp_path / f"s{seed}.json").read_text()) for seed in (0, 1)]
    assert [a["file"] for a in merged["assembled_from"]] == ["s0.json", "s1.json"]
    assert merged["wall_seconds"] >= sum(part["wall_seconds"] for part in parts)  # the seeds' own time counts


@pytest.mark.parametrize("other, message", [
    (["--epochs", "3", "--seeds", "0", "1"], "epochs differ"),
    (["--seeds", "1", "2"], "lacks"),
])
def test_reuse_refuses_files_of_another_command(tmp_path, other, message, rejects_before_work):
    argv = [*TINY, "--models", "flat-mean", "--max-folds", "1"]
    main([*argv, "--seeds", "0", "--out", str(tmp_path / "s" / "s0.json")])
    err = rejects_before_work(main, [*argv, *other, "--reuse", str(tmp_path / "s" / "s0.json")], "--reuse",
                              forbid=((cli, "cross_validate"),))
    assert message in err


def test_det_without_pymetis_says_what_to_install(monkeypatch, rejects_before_work):
    import companion.cli

    monkeypatch.setattr(companion.cli, "missing_packages", lambda *m: ["pymetis"] if "pymetis" in m else [])
    err = rejects_before_work(main, ["--models", "diffpool-det"], "pymetis", forbid=((cli, "cross_validate"),))
    assert "pip install" in err


def test_strip_reuse_keeps_every_other_flag():
    argv = ["--seeds", "0", "1", "--reuse", "a.json", "b.json", "--epochs", "2", "--reuse=c.json", "--no-progress"]
    assert cli.strip_reuse(argv) == ["--seeds", "0", "1", "--epochs", "2", "--no-progress"]


def capture_cv(monkeypatch):
    calls = []

    def fake_cv(graphs, kind, **kw):
        calls.append((kind, kw))
        return {"model": kind, "fold_acc": [0.5], "fold_val_acc": [0.5], "mean": 0.5, "std": 0.0,
                "cpu_seconds_per_epoch": 1.0}

    monkeypatch.setattr(cli, "cross_validate", fake_cv)
    return calls


def test_arch_paper_trains_the_papers_architecture_and_flags_override_it(tmp_path, monkeypatch):
    calls = capture_cv(monkeypatch)
    main([*TINY, "--arch", "paper", "--aggr", "mean", "--models", "flat-mean", "diffpool", "--out", str(tmp_path)])
    for kind, kw in calls:
        assert (kw["levels"], kw["cluster_ratio"], kw["num_layers"]) == (2, 0.25, 3), kind
        assert (kw["first_layers"], kw["normalize"], kw["aggr"]) == (2, True, "mean"), kind
    calls.clear()
    main([*TINY, "--arch", "paper", "--levels", "1", "--cluster-ratio", "0.1", "--models", "diffpool",
          "--out", str(tmp_path)])
    assert [(kw["levels"], kw["cluster_ratio"], kw["first_layers"]) for _, kw in calls] == [(1, 0.1, 2)]
    calls.clear()
    # the book's architecture and sum aggregation: cross_validate is called exactly as before the flags
    main([*TINY, "--models", "diffpool", "--out", str(tmp_path)])
    assert not {"first_layers", "normalize", "aggr"} & set(calls[0][1])


# the graph-statistics baseline: no GNN flags (they are refused for it)
STATS_TINY = ["--dataset", "hier_graphs", "--num-graphs", "40", "--folds", "4", "--models", "graph-stats"]


def test_graph_stats_uses_the_gnn_data_and_folds_of_each_seed(tmp_path, monkeypatch):
    import companion.diffpool.baselines as baselines
    import companion.diffpool.train as train

    seen = {}  # who -> [(graphs' edges, test folds)] in call order

    def spy(module, name, who):
        real = getattr(module, name)

        def wrapped(*a, **kw):
            out = real(*a, **kw)
            if name == "stratified_folds":
                seen.setdefault(who, []).append([t.tolist() for t in out])
            else:
                seen.setdefault(who + " graphs", []).append([g.edge_index.tolist() for g in a[0]])
            return out

        monkeypatch.setattr(module, name, wrapped)

    spy(baselines, "stratified_folds", "stats")
    spy(train, "stratified_folds", "gnn")
    spy(cli, "statistics_cv", "stats")
    spy(cli, "cross_validate", "gnn")
    main([*STATS_TINY, "--data-seeds", "1", "--seeds", "3", "--out", str(tmp_path / "s")])
    main([*TINY, "--data-seeds", "1", "--seeds", "3", "--max-folds", "1", "--epochs", "1", "--models", "flat-mean",
          "--out", str(tmp_path / "g")])
    assert seen["stats graphs"] == seen["gnn graphs"]  # the same graphs, in the same order
    assert len(seen["stats"]) == len(seen["gnn"]) == 1 and len(seen["stats"][0]) == 4
    assert seen["stats"][0] == seen["gnn"][0]  # the same test folds
    # another seed splits otherwise, so the comparison above can fail
    labels = [int(g.y) for g in graphs_of(1)]
    assert [t.tolist() for t in train.stratified_folds(labels, 4, 4)] != seen["stats"][0]


def graphs_of(data_seed: int) -> list:
    p = cli.build_parser()
    args = p.parse_args(["--num-graphs", "40"])
    cli.check_args(p, args)
    return cli.load_graphs(p, args, data_seed)


def test_graph_stats_rows_carry_the_data_settings_of_the_gnn_rows_and_reproduce(tmp_path, capsys):
    rows = main([*STATS_TINY, "--data-seeds", "0", "1", "--seeds", "0", "1", "--out", str(tmp_path / "a")])
    path = tmp_path / "a" / "cv_hier_graphs_graph-stats_data-0+1.json"
    payload = json.loads(path.read_text())
    settings = [{"dataset": "hier_graphs", "data_seed": d} for d in (0, 1)]
    assert [(r["setting"], r["method"], r["seed"]) for r in payload["rows"]] == [
        (s, "graph-stats", seed) for s in settings for seed in (0, 1)]
    assert all(set(r) == {"setting", "method", "seed", "accuracy", "fold_std", "cpu_seconds", "fold_acc"}
               for r in rows)
    assert all(len(r["fold_acc"]) == 4 and r["accuracy"] == pytest.approx(sum(r["fold_acc"]) / 4) for r in rows)
    # the same data keys and values as the GNN rows of the same --data-seeds, without their aggregation
    p = cli.build_parser()
    gnn = p.parse_args(["--num-graphs", "40", "--data-seeds", "0", "1", "--aggr", "sum", "mean"])
    cli.check_args(p, gnn)
    assert {json.dumps({k: v for k, v in s.items() if k != "aggr"}, sort_keys=True)
            for s, _, _ in cli.settings_rows(gnn)} == {json.dumps(s, sort_keys=True) for s in settings}
    # each row is statistics_cv on that data seed's graphs with the row's seed
    assert rows[3]["fold_acc"] == statistics_cv(graphs_of(1), folds=4, seed=1)["fold_acc"]
    acc = {json.dumps(r["setting"], sort_keys=True): r for r in payload["summary"] if r["metric"] == "accuracy"}
    assert len(acc) == 2 and all(r["n"] == 2 for r in acc.values())
    assert {r["metric"] for r in payload["summary"] if r["timing"]} == {"cpu_seconds"}
    assert payload["settings"]["models"] == ["graph-stats"]
    assert payload["num_graphs_per_data_seed"] == {"0": 40, "1": 40}
    assert "CPU s/seed" in capsys.readouterr().out
    assert reproduce_file(path, tmp_path / "b") == []
    # without --data-seeds the setting is the dataset's name, as for the GNN rows
    rows = main([*STATS_TINY, "--max-folds", "1", "--out", str(tmp_path / "c")])
    assert [r["setting"] for r in rows] == ["hier_graphs"] and len(rows[0]["fold_acc"]) == 1
    assert [f.name for f in (tmp_path / "c").glob("*.json")] == ["cv_hier_graphs_graph-stats.json"]


def test_graph_stats_file_name_collides_with_no_committed_file():
    results = REPO_ROOT / "book" / "08_diffpool" / "results"
    p = cli.build_parser()

    def name(command):
        args = p.parse_args(shlex.split(command)[3:])
        cli.check_args(p, args)
        return cli.results_name(args)

    stats = {name(c) for c in (
        "python -m companion.diffpool --dataset hier_graphs --folds 10 --data-seeds 0 1 --models graph-stats",
        "python -m companion.diffpool --dataset hier_graphs --models graph-stats",
        "python -m companion.diffpool --dataset hier_graphs --data-seeds 0 --models graph-stats")}
    assert stats == {"cv_hier_graphs_graph-stats_data-0+1.json", "cv_hier_graphs_graph-stats.json",
                     "cv_hier_graphs_graph-stats_data-0.json"}
    for path in results.glob("*.json"):
        command = json.loads(path.read_text())["command"]
        if "graph-stats" not in command:  # a GNN run: neither its file nor its command's default name
            assert path.name not in stats and name(command) not in stats, path.name


@pytest.mark.parametrize("argv, flag", [
    (["--models", "graph-stats", "flat-mean"], "--models graph-stats"),
    (["--models", "graph-stats", "--aggr", "mean"], "--aggr"),
    (["--models", "graph-stats", "--aggr", "sum", "mean"], "--aggr"),
    (["--models", "graph-stats", "--arch", "paper"], "--arch"),
    (["--models", "graph-stats", "--levels", "2"], "--levels"),
    (["--models", "graph-stats", "--epochs", "5"], "--epochs"),
    (["--models", "graph-stats", "--lr", "0.01"], "--lr"),
    (["--models", "graph-stats", "--coarse-adj", "no-diag"], "--coarse-adj"),
    (["--models", "graph-stats", "--readout", "max-concat"], "--readout"),
    (["--models", "graph-stats", "--folds", "30", "--num-graphs", "40"], "--folds"),
])
def test_graph_stats_refuses_the_gnn_flags_before_any_work(argv, flag, rejects_before_work):
    rejects_before_work(main, argv, flag, forbid=((cli, "cross_validate"), (cli, "statistics_cv")))
