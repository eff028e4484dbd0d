"""The chapter's CLI: flags checked before any work, output under ./results, reruns reproduce."""

import json
import shlex

import pytest

import companion.carried.__main__ as cli
from companion.reproduce import reproduce_file
from companion.utils import repo_path

TINY = ["--frames", "3", "--train-frames", "48", "--tune-frames", "3", "--seeds", "2",
        "--no-progress"]
BOOK_RESULTS = repo_path("book", "10_carried", "results")


def _snapshot():
    return {p.name: p.stat().st_mtime_ns for p in BOOK_RESULTS.iterdir()}


def test_cli_writes_per_seed_rows_under_results_of_the_cwd(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    before = _snapshot()
    rows = cli.main(TINY)
    assert _snapshot() == before, "the CLI wrote into book/ without --publish"
    payload = json.loads((tmp_path / "results" / cli.FILENAME).read_text())
    methods = [r["method"] for r in payload["rows"]]
    assert len(rows) == len(methods) == len(cli.variants()) + 4 and cli.BASELINE in methods
    assert {cli.BEST_SINGLE, cli.BAND, cli.WHOLE} <= set(methods)
    assert {r["seed"] for r in payload["rows"]} == {2} and payload["seeds"] == [2]
    assert payload["command"] == "python -m companion.carried " + " ".join(a for a in TINY if a != "--no-progress")
    f1 = [s for s in payload["summary"] if s["metric"] == "box_f1"]
    assert len(f1) == len(methods) and all(s["n"] == 1 and s["higher_is_better"] and 0 <= s["mean"] <= 1 for s in f1)
    assert payload["frames_per_seed"] == 3 and payload["train_frames"] == 48
    assert payload["tune_seed"] == cli.TUNE_SEED and payload["tune_frames"] == 3
    # every row records the threshold its variant was tuned to, one from the shared grid
    tuned = payload["thresholds"]
    assert all(r["threshold"] == tuned[r["method"]] for r in payload["rows"])
    assert all(r["threshold"] in cli.THRESHOLDS for r in payload["rows"]
               if r["method"] not in (cli.BAND, cli.WHOLE))
    assert "baseline" in capsys.readouterr().out


def test_cli_rerun_reproduces_its_file(tmp_path):
    cli.main([*TINY, "--out", str(tmp_path / "a")])
    assert reproduce_file(tmp_path / "a" / cli.FILENAME, tmp_path / "b") == []


def test_a_rerun_resumes_after_the_finished_seeds(tmp_path, monkeypatch, capsys):
    argv = [*TINY[:TINY.index("--seeds")], "--seeds", "2", "3", "--no-progress"]
    cli.main([*argv, "--out", str(tmp_path / "full")])
    full = json.loads((tmp_path / "full" / cli.FILENAME).read_text())
    out = tmp_path / "r"
    computed, tuned = [], []
    real_seed, real_tune = cli.run_seed, cli.tune_thresholds

    def spy(seed, *a, **k):
        computed.append(seed)
        if seed == 3 and len(computed) == 2:
            raise KeyboardInterrupt  # killed during seed 3
        return real_seed(seed, *a, **k)

    monkeypatch.setattr(cli, "run_seed", spy)
    monkeypatch.setattr(cli, "tune_thresholds", lambda *a, **k: tuned.append(1) or real_tune(*a, **k))
    with pytest.raises(KeyboardInterrupt):
        cli.main([*argv, "--out", str(out)])
    partial = out / (cli.FILENAME + ".partial")
    assert list(json.loads(partial.read_text())["seeds"]) == ["2"] and not (out / cli.FILENAME).exists()
    capsys.readouterr()
    cli.main([*argv, "--out", str(out)])
    assert computed == [2, 3, 3]  # seed 2 was kept, not recomputed
    assert tuned == [1]  # the resumed run read the tuned thresholds back from seed 2's rows
    assert "resuming: reusing finished seed(s) 2" in capsys.readouterr().err
    assert not partial.exists()
    resumed = json.loads((out / cli.FILENAME).read_text())
    assert resumed["summary"] == full["summary"] and resumed["rows"] == full["rows"]
    assert resumed["thresholds"] == full["thresholds"]
    assert list(resumed["thresholds"]) == list(full["thresholds"])  # in the tuned order


@pytest.mark.parametrize("flag, value", [
    ("--frames", "0"),
    ("--train-frames", "10"),   # fewer frames than the coarsest scale's 48 codewords need
    ("--train-frames", "many"),
    ("--seeds", "-1"),
    ("--seeds", "1"),           # the tuning seed is never a test seed
    ("--threads", "0"),
    ("--data", "digits"),
    ("--shift", "lighting"),    # only the shifts the generator has
])
def test_bad_flags_fail_fast_naming_the_flag(flag, value, rejects_before_work):
    rejects_before_work(cli.main, [*TINY, flag, value], flag,
                        forbid=((cli, "run_seed"), (cli, "tune_thresholds")))


def test_out_and_publish_are_exclusive(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_seed", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(SystemExit) as exit_:
        cli.main([*TINY, "--out", str(tmp_path), "--publish"])
    assert exit_.value.code == 2 and "--publish" in capsys.readouterr().err


def test_tuning_reads_only_the_tuning_seed_and_all_variants_get_thresholds(monkeypatch,
                                                                            tmp_path):
    loaded, used = [], {}
    real_load, real_run_seed = cli.datasets.load, cli.run_seed

    def load(name, **kw):
        loaded.append(("tune" if not used else "test", kw["seed"]))
        return real_load(name, **kw)

    def run_seed(seed, *a, **kw):
        used[seed] = a[-1] if a else kw["thresholds"]
        return real_run_seed(seed, *a, **kw)

    monkeypatch.setattr(cli.datasets, "load", load)
    monkeypatch.setattr(cli, "run_seed", run_seed)
    cli.main([*TINY[:-3], "--seeds", "2", "3", "--no-progress", "--out", str(tmp_path)])
    tune_seeds = {s for phase, s in loaded if phase == "tune"}
    assert tune_seeds == {cli.TUNE_SEED, 100 + cli.TUNE_SEED}
    assert not tune_seeds & {2, 3, 102, 103}
    # both test seeds use the one set of thresholds tuned before them
    assert used[2] == used[3] and set(used[2]) == {*cli.variants(), cli.BEST_SINGLE,
                                                   cli.BASELINE, cli.BAND, cli.WHOLE}


def test_no_codebook_gets_a_threshold_inside_its_probability_range():
    """Without the codebook every superpixel has P_h = 0.5, so P_c <= 0.5: thresholded
    without edge support, the full detector's 0.65 finds nothing; the tuned threshold is
    <= 0.5."""
    base = cli.DetectorConfig()
    configs = {"codebook": cli.replace(base, use_edges=False),
               "no codebook": cli.replace(base, use_edges=False, use_codebook=False)}
    tuned = cli.tune_thresholds(12, 48, configs=configs)
    assert set(tuned) == {*configs, cli.BASELINE, cli.BAND, cli.WHOLE}
    assert all(t in cli.THRESHOLDS for n, t in tuned.items() if n not in (cli.BAND, cli.WHOLE))
    assert tuned["no codebook"] <= 0.5 < base.threshold
    frames = cli.datasets.load("walkers", n_frames=12, seed=cli.TUNE_SEED)
    pairs = list(zip(frames.frames, frames.backgrounds))
    def pixel_f1(t):
        cfg = cli.with_threshold(configs["no codebook"], t)
        dets = [cli.detect(f, b, None, cfg) for f, b in pairs]
        return cli.score(dets, frames)["pixel_f1"]
    at = {t: pixel_f1(t) for t in (base.threshold, tuned["no codebook"])}
    assert at[base.threshold] == 0.0 < at[tuned["no codebook"]]


def test_ablation_file_tunes_no_person_model_apart_from_the_full_detector():
    payload = json.loads((BOOK_RESULTS / cli.FILENAME).read_text())
    t = payload["thresholds"]
    full = t["full (multi-scale, codebook, edges)"]
    assert t[cli.NO_MODEL] <= 0.75 and t[cli.NO_MODEL] != full
    assert payload["tune_seed"] not in payload["seeds"]
    assert set(payload["threshold_grid"]) >= {v for n, v in t.items() if n not in (cli.BAND, cli.WHOLE)}


def test_tuned_threshold_is_the_best_on_the_grid():
    f1 = {0.3: 0.5, 0.4: 0.7, 0.5: 0.7, 0.6: 0.2}
    pick = cli._best_threshold(list(f1), lambda t: {"box_f1": f1[t], "pixel_f1": t})
    assert pick == 0.5  # box F1 ties broken by pixel F1


def test_untuned_run_seed_keeps_the_old_thresholds(monkeypatch):
    seen = []
    real = cli.detect
    monkeypatch.setattr(cli, "detect", lambda f, b, books, cfg, *a:
                        seen.append(cfg.threshold) or real(f, b, books, cfg, *a))
    cli.run_seed(2, 2, 48)
    assert set(seen) == {cli.DetectorConfig().threshold}


def test_tune_thresholds_rejects_a_bad_grid():
    with pytest.raises(ValueError, match="grid"):
        cli.tune_thresholds(2, 48, grid=(0.0, 0.5))


@pytest.mark.parametrize("path", sorted(BOOK_RESULTS.glob("*.json")), ids=lambda p: p.name)
def test_committed_commands_still_parse(path):
    """A results file's command parses to the run it recorded (nothing is computed)."""
    payload = json.loads(path.read_text())
    args = cli.build_parser().parse_args(shlex.split(payload["command"])[3:])
    assert (args.seeds, args.frames, args.data) == (payload["seeds"], payload["frames_per_seed"], payload["data"])
    assert args.train_frames == payload["train_frames"] and args.tune_frames == payload["tune_frames"]
