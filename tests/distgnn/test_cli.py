import json

import pytest

import companion.distgnn.__main__ as cli
from companion.distgnn.__main__ import main
from companion.reproduce import reproduce_file
from companion.utils import REPO_ROOT

TINY = ["--num-nodes", "400", "--train-per-class", "10", "--num-val", "50", "--num-test", "100", "--epochs", "2",
        "--batch-size", "32"]


def book_files() -> set:
    return {(p, p.stat().st_mtime) for p in (REPO_ROOT / "book" / "02_distgnn").rglob("*")}


def test_cli_sweep_end_to_end_writes_under_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = book_files()
    main(["--sweep", "--workers", "1", "2", "--workflows", "full/metis", "minibatch/metis+cache", *TINY,
          "--baseline-threads", "2"])
    payload = json.loads((tmp_path / "results" / "scaling_sbm_features_400.json").read_text())
    rows = payload["rows"]
    assert [(r["method"], r["setting"], r["seed"]) for r in rows] == [
        ("full (1 process)", {"workers": 1}, 0), ("full (1 process, 2 threads)", {"workers": 1, "threads": 2}, 0),
        ("full/metis", {"workers": 2}, 0), ("minibatch/metis+cache", {"workers": 2}, 0)]
    assert rows[0]["bytes_per_epoch"] == 0 and rows[2]["bytes_per_epoch"] > 0
    assert 0 < rows[3]["cache_hit_rate"] <= 1 and rows[2]["edge_cut"] > 0
    # threads change speed, not arithmetic order of this small model: the same accuracy
    assert rows[1]["test_acc"] == pytest.approx(rows[0]["test_acc"], abs=0.02)
    assert all(r["cpu_seconds"] > 0 and r["wall_seconds"] > 0 for r in rows)
    assert all(r["cpu_seconds_per_epoch"] == pytest.approx(r["cpu_seconds"] / r["epochs"]) for r in rows)
    timing = {r["metric"] for r in payload["summary"] if r["timing"]}
    assert timing == {"epoch_time_s", "wall_seconds", "cpu_seconds", "cpu_seconds_per_epoch",
                      "rss_base_mb", "rss_graph_mb", "rss_train_mb", "max_peak_rss_mb"}
    # every run, the one-process baselines included, is a worker process that loaded its partition
    assert all(r["rss_base_mb"] > 0 and r["max_partition_mb"] > 0 for r in rows)
    assert rows[2]["max_partition_mb"] < rows[0]["max_partition_mb"]  # two workers: each holds less
    assert rows[0]["setup_bytes"] == 0 and rows[2]["setup_bytes"] > 0  # the input halo, sent once
    assert payload["schema"] == 1 and payload["experiment"] == "scaling" and payload["note"]
    assert "--out" not in payload["command"] and book_files() == before


def test_the_zero_halo_control_runs_only_when_named(tmp_path):
    out = tmp_path / "s.json"
    main(["--sweep", "--workers", "2", "--workflows", "full/metis", "full/metis+zerohalo", *TINY,
          "--baseline-threads", "1", "--out", str(out)])
    rows = {r["method"]: r for r in json.loads(out.read_text())["rows"]}
    assert rows["full/metis+zerohalo"]["zero_halo"] and set(rows["full/metis+zerohalo"]["bytes_by_kind"]) == {"grad"}
    assert rows["full/metis"]["edge_cut"] == rows["full/metis+zerohalo"]["edge_cut"] > 0
    assert 0 < rows["full/metis"]["max_edge_share"] < 1 and rows["full/metis"]["edge_balance"] >= 1
    defaults = cli.build_parser().parse_args([]).workflows
    assert not set(cli.OPT_IN_WORKFLOWS) & set(defaults) and set(cli.OPT_IN_WORKFLOWS) < set(cli.SWEEP_WORKFLOWS)


def test_cli_cache_sweep_end_to_end(tmp_path):
    out = tmp_path / "cache.json"
    main(["--cache-sweep", "--workers", "2", "--dataset", "powerlaw_graph", *TINY, "--epochs", "1",
          "--cache-fractions", "0", "0.2", "--cache-policies", "degree", "random", "--out", str(out)])
    rows = json.loads(out.read_text())["rows"]
    assert [(r["setting"]["cache_policy"], r["setting"]["cache_fraction"]) for r in rows] == [
        ("none", 0.0), ("degree", 0.2), ("random", 0.2)]
    assert rows[0]["cache_hit_rate"] == 0 and rows[1]["cache_hit_rate"] > rows[2]["cache_hit_rate"]
    assert rows[1]["fetched_rows_per_epoch"] < rows[0]["fetched_rows_per_epoch"]


def test_results_file_reproduces_in_a_fresh_process(tmp_path):
    # both workflows (mini-batch with its cache), the one-process baseline, two seeds
    path = main(["--sweep", "--workers", "1", "2", "--workflows", "full/metis", "minibatch/metis+cache",
                 "--seeds", "0", "1", *TINY, "--out", str(tmp_path / "a")])["path"]
    payload = json.loads(open(path).read())
    assert {r["n"] for r in payload["summary"]} == {2}
    assert reproduce_file(path, tmp_path / "b") == []


def test_a_rerun_resumes_after_the_finished_seeds(tmp_path, monkeypatch, capsys):
    argv = ["--sweep", "--workers", "1", "2", "--workflows", "full/metis", "--baseline-threads", "1",
            "--seeds", "0", "1", *TINY]
    full = json.loads(open(main([*argv, "--out", str(tmp_path / "full.json")])["path"]).read())
    out = tmp_path / "r.json"
    computed = []
    real = cli._seed_rows

    def spy(args, runs, *a):
        seed = runs[0].config.seed
        assert {run.config.seed for run in runs} == {seed}  # one seed's runs
        computed.append(seed)
        if seed == 1 and len(computed) == 2:
            raise KeyboardInterrupt  # killed during seed 1
        return real(args, runs, *a)

    monkeypatch.setattr(cli, "_seed_rows", spy)
    with pytest.raises(KeyboardInterrupt):
        main([*argv, "--out", str(out)])
    partial = tmp_path / "r.json.partial"
    saved = json.loads(partial.read_text())["seeds"]
    assert list(saved) == ["0"] and [r["method"] for r in saved["0"]] == ["full (1 process)", "full/metis"]
    assert not out.exists()
    capsys.readouterr()
    main([*argv, "--out", str(out)])
    assert computed == [0, 1, 1]  # seed 0 was kept, not recomputed
    assert "resuming: reusing finished seed(s) 0" in capsys.readouterr().err
    assert not partial.exists()
    resumed = json.loads(out.read_text())
    assert [(r["method"], r["seed"]) for r in resumed["rows"]] == [(r["method"], r["seed"]) for r in full["rows"]]
    # times are the machine's; everything else is the same
    assert [r for r in resumed["summary"] if not r["timing"]] == [r for r in full["summary"] if not r["timing"]]


@pytest.mark.parametrize("argv, flag", [
    (["--threads", "0"], "--threads"),
    (["--seeds", "0", "0"], "--seeds"),
    (["--workers", "0"], "--workers"),
    (["--workers", "2", "4"], "--workers"),
    (["--sweep", "--workers", "2", "2"], "--workers"),
    (["--cache-sweep", "--workers", "1"], "--workers"),
    (["--workers", "500"], "--workers"),
    (["--sweep", "--cache-sweep"], "--cache-sweep"),
    (["--sweep", "--workflows", "full/nope"], "--workflows"),
    (["--epochs", "0"], "--epochs"),
    (["--minibatch-epochs", "0"], "--minibatch-epochs"),
    (["--hidden", "0"], "--hidden"),
    (["--lr", "0"], "--lr"),
    (["--full-lr", "nan"], "--full-lr"),
    (["--batch-size", "0"], "--batch-size"),
    (["--fanouts", "10"], "--fanouts"),
    (["--fanouts", "10", "0"], "--fanouts"),
    (["--cache-fraction", "1.5"], "--cache-fraction"),
    (["--cache-sweep", "--cache-fractions", "-0.1"], "--cache-fractions"),
    (["--cache-policy", "lru"], "--cache-policy"),
    (["--cache-sweep", "--cache-policies", "lru"], "--cache-policies"),
    (["--dataset", "cora"], "--dataset"),
    (["--num-nodes", "5"], "--num-nodes"),
    (["--train-per-class", "0"], "--train-per-class"),
    (["--num-test", "0"], "--num-test"),
    (["--train-per-class", "100"], "--num-nodes"),
    (["--mode", "minibatch", "--stale"], "--stale"),
    (["--mode", "pipeline"], "--mode"),
    (["--partition", "hash"], "--partition"),
    (["--collective-timeout", "0"], "--collective-timeout"),
    (["--baseline-threads", "2"], "--baseline-threads"),  # only --sweep has that baseline
    (["--sweep", "--baseline-threads", "0"], "--baseline-threads"),
    (["--graph-seed", "-1"], "--graph-seed"),
    (["--out", "/proc/no/such/dir"], "--out"),
    # every partition must own a training node before a mini-batch worker starts: 7 labels, 8 workers
    (["--workers", "8", "--train-per-class", "1"], "--workers"),
    # no GPU here: NCCL is refused before any work, naming the flag
    (["--backend", "nccl"], "--backend nccl needs CUDA"),
    (["--device", "cuda"], "--device"),
    (["--no-stale-grads"], "--no-stale-grads"),
    (["--partition-dir", "parts"], "--partition-dir"),
    (["--sweep", "--write-partitions", "parts"], "--write-partitions"),
    (["--zero-halo"], "--zero-halo"),  # the default single run is mini-batch: there is no halo
    (["--mode", "full", "--stale", "--zero-halo"], "--zero-halo"),
    (["--metis-weights", "edges"], "--metis-weights"),
    (["--partition", "random", "--metis-weights", "degree"], "--metis-weights"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_bad_flags_exit_2_before_training(argv, flag, rejects_before_work):
    pairs = [TINY[i:i + 2] for i in range(0, len(TINY), 2)]  # the flag under test replaces the tiny value
    tiny = [a for name, value in pairs if name not in argv for a in (name, value)]
    err = rejects_before_work(main, [*tiny, *argv], flag, forbid=((cli, "run_partitioned"),))
    if argv[:2] == ["--workers", "8"]:
        assert "partitions" in err and "no training node" in err and "fewer workers" in err


def test_torchrun_flags_are_checked_on_every_rank(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    for argv, flag in ((["--workers", "2"], "--workers"), (["--sweep"], "--sweep")):
        with pytest.raises(SystemExit) as exc:
            main([*TINY, *argv])
        assert exc.value.code == 2 and flag in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--workers", "2"], ["--cache-sweep", "--workers", "2"],
                                  ["--sweep", "--workers", "1", "2", "--workflows", "full/random", "full/metis"]])
def test_missing_pymetis_exits_2_with_the_install_command(argv, monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(__import__("sys").modules, "pymetis", None)  # as if not installed
    monkeypatch.setattr(cli, "run_partitioned", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained")))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main([*TINY, *argv])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and 'pip install "mlbook-companion[chapters]"' in err and "pymetis" in err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("argv, metis", [
    (["--workers", "2"], True),
    (["--workers", "2", "--partition", "random"], False),
    (["--workers", "1"], False),  # one worker: no partition at all
    (["--sweep", "--workers", "1", "--workflows", "full/metis", "minibatch/metis"], False),
    (["--sweep", "--workers", "1", "2", "--workflows", "full/random"], False),
    (["--sweep", "--workers", "2", "--workflows", "minibatch/metis"], True),
])
def test_only_runs_that_partition_with_metis_need_pymetis(argv, metis):
    parser = cli.build_parser()
    args = parser.parse_args([*TINY, *argv])
    cli.validate(parser, args)
    assert cli.needs_metis(args) is metis


def test_lists_also_read_the_old_comma_form(capsys):
    args = cli.build_parser().parse_args(["--fanouts", "10,5", "--cache-fractions", "0,0.2"])
    assert args.fanouts == [10, 5] and args.cache_fractions == [0.0, 0.2]
    assert "--fanouts read as '--fanouts 10 5'" in capsys.readouterr().err
