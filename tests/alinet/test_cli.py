"""The AliNet CLI: checked flags (exit 2 before any work), ./results output, two files, reproduce."""

from pathlib import Path

import pytest

from companion.alinet import __main__ as cli
from companion.reproduce import reproduce_file
from companion.results import compare_summaries, load_results, summary_lookup

BASE = ["--data", "kg_pair", "--noises", "0", "--ablation-noise", "0.5", "--epochs", "2", "--dims", "8,8,4",
        "--no-progress"]
TINY = [*BASE, "--seeds", "0"]


@pytest.mark.parametrize("argv, flag", [
    (["--data", "dbp15k"], "--data"),
    (["--base", "wordnet"], "--base"),
    (["--noises", "0,1.5"], "--noises"),
    (["--noises", "0,0"], "--noises"),
    (["--ablation-noise", "-0.1"], "--ablation-noise"),
    (["--epochs", "0"], "--epochs"),
    (["--dims", "8,0"], "--dims"),
    (["--dims", "8"], "--dims"),
    (["--variants", "AliNet,BootEA"], "--variants"),
    (["--variants", "AliNet,AliNet"], "--variants"),
    (["--num-counterparts", "5", "--data", "kg_pair_synthetic"], "--num-counterparts"),
    (["--num-counterparts", "100"], "--num-counterparts"),  # kg_pair has no such knob
    (["--data", "kg_pair_synthetic", "--base", "umls"], "--base"),
    (["--data", "kg_pair_synthetic", "--noises", "0"], "--noises"),
    (["--seeds", "-1"], "--seeds"),
    (["--threads", "0"], "--threads"),
    (["--out", "x.json"], "--out"),  # two files: --out is a folder
])
def test_bad_flag_fails_fast_naming_it(argv, flag, rejects_before_work):
    rejects_before_work(cli.main, argv, flag, forbid=((cli, "fit"),))


def test_cli_end_to_end_tiny_into_cwd_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    book = Path(cli.__file__).resolve().parents[2] / "book" / "04_alinet" / "results"
    before = {p: p.stat().st_mtime_ns for p in book.glob("*")}
    paths = cli.main([*BASE, "--seeds", "0", "1"])
    assert {p: p.stat().st_mtime_ns for p in book.glob("*")} == before
    assert paths["ablation"] == tmp_path / "results" / "kg_pair_umls_ablation.json"
    assert paths["noise"] == tmp_path / "results" / "kg_pair_umls_noise.json"
    ablation = load_results(paths["ablation"])
    assert ablation["seeds"] == [0, 1] and ablation["ablation_noise"] == 0.5
    assert [r["method"] for r in ablation["rows"]][-1] == "AliNet"
    assert len(ablation["rows"]) == 6 * 2 and {r["seed"] for r in ablation["rows"]} == {0, 1}
    assert summary_lookup(ablation)[('{"noise": 0.5}', "AliNet", "mrr")]["n"] == 2
    assert summary_lookup(ablation)[('{"noise": 0.5}', "AliNet", "seconds")]["timing"]
    sweep = load_results(paths["noise"])
    assert {r["setting"]["noise"] for r in sweep["rows"]} == {0.0, 0.5}
    assert {r["method"] for r in sweep["rows"]} == set(cli.SWEEP_VARIANTS)
    assert all(0.0 <= r["hits@1"] <= r["hits@10"] <= 1.0 for r in sweep["rows"])
    assert sweep["command"] == ablation["command"] and "--out" not in sweep["command"]


def test_both_files_reproduce(tmp_path):
    paths = cli.main([*TINY, "--out", str(tmp_path / "a")])
    assert reproduce_file(paths["ablation"], tmp_path / "b") == []
    # the same rerun wrote the noise table too: compare it with the committed one of that name
    rerun = list((tmp_path / "b").rglob(paths["noise"].name))
    assert len(rerun) == 1
    assert compare_summaries(load_results(paths["noise"]), load_results(rerun[0])) == []


def test_synthetic_pair_writes_the_ablation_only(tmp_path):
    paths = cli.main(["--data", "kg_pair_synthetic", "--num-counterparts", "200", "--variants", "GCN-Align,AliNet",
                      "--epochs", "2", "--dims", "8,4", "--ablation-noise", "0.3", "--seeds", "0", "--no-progress",
                      "--out", str(tmp_path)])
    assert list(paths) == ["ablation"] and paths["ablation"].name == "kg_pair_synthetic_ablation.json"
    payload = load_results(paths["ablation"])
    assert [r["method"] for r in payload["rows"]] == ["GCN-Align", "AliNet"]
    assert payload["num_counterparts"] == 200 and payload["base"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kg_pair_synthetic_ablation.json"]
