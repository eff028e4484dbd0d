"""The AliNet CLI: checked flags (exit 2 before any work), ./results output, tuning on validation, reproduce."""

from pathlib import Path

import pytest

from companion.alinet import __main__ as cli
from companion.reproduce import reproduce_file
from companion.results import load_results, summary_lookup

BASE = ["--data", "kg_pair", "--noises", "0", "0.5", "--epochs", "12", "--dims", "8", "8", "4",
        "--variants", "GCN-Align", "AliNet w/o distant", "AliNet", "--no-progress"]
TINY = [*BASE, "--seeds", "0"]


@pytest.mark.parametrize("argv, flag", [
    (["--data", "dbp15k"], "--data"),
    (["--base", "wordnet"], "--base"),
    (["--noises", "0", "1.5"], "--noises"),
    (["--noises", "0", "0"], "--noises"),
    (["--noises", "0,0"], "--noises"),  # the old comma form is checked alike
    (["--epochs", "0"], "--epochs"),
    (["--dims", "8", "0"], "--dims"),
    (["--dims", "8"], "--dims"),
    (["--variants", "AliNet", "BootEA"], "--variants"),
    (["--variants", "AliNet", "AliNet"], "--variants"),
    (["--valid-ratio", "0"], "--valid-ratio"),
    (["--valid-ratio", "0.9"], "--valid-ratio"),
    (["--num-counterparts", "5", "--data", "kg_pair_synthetic"], "--num-counterparts"),
    (["--num-counterparts", "100", "--data", "kg_pair"], "--num-counterparts"),  # kg_pair has no such knob
    (["--data", "kg_pair_synthetic", "--base", "umls"], "--base"),
    (["--seeds", "-1"], "--seeds"),
    (["--threads", "0"], "--threads"),
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
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["kg_pair_umls_ablation.json"]  # no checkpoints left
    payload = load_results(paths["ablation"])
    assert payload["seeds"] == [0, 1]
    # per noise: a random row and three methods, each seed
    assert len(payload["rows"]) == 2 * 2 * 4 and {r["seed"] for r in payload["rows"]} == {0, 1}
    assert {r["method"] for r in payload["rows"]} == {"random", "GCN-Align", "AliNet w/o distant", "AliNet"}
    assert summary_lookup(payload)[('{"noise": 0.5}', "AliNet", "mrr")]["n"] == 2
    assert summary_lookup(payload)[('{"noise": 0.5}', "AliNet", "seconds")]["timing"]
    assert all(0.0 <= r["hits@1"] <= r["hits@10"] <= 1.0 for r in payload["rows"])
    assert "--out" not in payload["command"]
    # tuning: the same grid size for both families, chosen on validation, recorded per noise
    for entry in payload["tuning"]:
        assert {"alinet", "gcn_align"} <= set(entry)
        sizes = {fam: len(entry[fam]["grid"]) for fam in ("alinet", "gcn_align")}
        assert sizes["alinet"] == sizes["gcn_align"] == 4
        for fam in ("alinet", "gcn_align"):
            best = max(g["valid_hits@1"] for g in entry[fam]["grid"])
            chosen = [g for g in entry[fam]["grid"] if (g["lr"], g["neg_margin"]) ==
                      (entry[fam]["chosen"]["lr"], entry[fam]["chosen"]["neg_margin"])]
            assert chosen[0]["valid_hits@1"] == best
    random = [r for r in payload["rows"] if r["method"] == "random"]
    assert all(r["hits@1"] == pytest.approx(1.0 / payload["split_sizes"][f"noise={r['setting']['noise']:g} "
                                                                         f"seed={r['seed']}"]["test"]) for r in random)


def test_reproduces_with_tolerance_zero(tmp_path):
    paths = cli.main([*TINY, "--out", str(tmp_path / "a")])
    assert reproduce_file(paths["ablation"], tmp_path / "b") == []


def test_killed_run_resumes_from_its_checkpoints(tmp_path, monkeypatch):
    argv = [*BASE, "--seeds", "0", "1", "--out", str(tmp_path)]
    calls = []
    real_fit = cli.fit

    def dying_fit(*a, **k):
        calls.append(k.get("desc"))
        if sum("seed=1" in (d or "") for d in calls) == 1:
            raise KeyboardInterrupt  # killed during seed 1
        return real_fit(*a, **k)

    monkeypatch.setattr(cli, "fit", dying_fit)
    with pytest.raises(KeyboardInterrupt):
        cli.main(argv)
    assert [p.name for p in tmp_path.glob("kg_pair_umls_ablation.json*partial*")]  # the checkpoints
    monkeypatch.setattr(cli, "fit", lambda *a, **k: calls.append(k.get("desc")) or real_fit(*a, **k))
    calls.clear()
    cli.main(argv)
    assert calls and all("seed=1" in d for d in calls)  # tuning and seed 0 were not redone
    assert [p.name for p in tmp_path.iterdir()] == ["kg_pair_umls_ablation.json"]
    sizes = load_results(tmp_path / "kg_pair_umls_ablation.json")["split_sizes"]
    assert any("seed=0" in k for k in sizes) and any("seed=1" in k for k in sizes)  # the kept seed's too


def test_synthetic_pair_runs(tmp_path):
    paths = cli.main(["--data", "kg_pair_synthetic", "--num-counterparts", "200", "--variants", "GCN-Align", "AliNet",
                      "--epochs", "10", "--dims", "8", "8", "4", "--noises", "0.3", "--seeds", "0", "--no-progress",
                      "--out", str(tmp_path)])
    payload = load_results(paths["ablation"])
    assert paths["ablation"].name == "kg_pair_synthetic_ablation.json"
    assert [r["method"] for r in payload["rows"]] == ["random", "GCN-Align", "AliNet"]
    assert payload["num_counterparts"] == 200 and payload["base"] is None


def test_old_comma_lists_still_parse_with_a_note(capsys):
    # the committed results file records `--noises 0,0.3,0.6`: it must still rerun
    args = cli.build_parser().parse_args(["--noises", "0,0.3,0.6", "--dims", "8,8,4",
                                          "--variants", "GCN-Align,AliNet w/o gate"])
    assert args.noises == [0.0, 0.3, 0.6] and args.dims == [8, 8, 4]
    assert args.variants == ["GCN-Align", "AliNet w/o gate"]
    assert "--noises read as '--noises 0.0 0.3 0.6': lists are space-separated" in capsys.readouterr().err


def test_kg_pair_without_pykeen_exits_2_with_the_install_command(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(__import__("sys").modules, "pykeen", None)  # as if not installed
    monkeypatch.setattr(cli, "fit", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained")))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(TINY)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and 'pip install "mlbook-companion[chapters]"' in err and "pykeen" in err
    assert not (tmp_path / "results").exists()


def test_degree_matching_variant_writes_untuned_rows(tmp_path, monkeypatch):
    import torch

    from companion import data
    from companion.alinet import degree_matching, prepare

    def no_fit(*a, **k):
        raise AssertionError("degree matching has nothing to train")

    monkeypatch.setattr(cli, "fit", no_fit)
    paths = cli.main(["--data", "kg_pair", "--noises", "0.5", "--variants", "degree matching", "--seeds", "1",
                      "--valid-ratio", "0.3", "--no-progress", "--out", str(tmp_path)])
    payload = load_results(paths["ablation"])
    rows = [r for r in payload["rows"] if r["method"] == "degree matching"]
    assert len(rows) == 1 and rows[0]["best_epoch"] is None and payload["tuning"][0] == {"noise": 0.5}
    inp = prepare(data.load("kg_pair", base="umls", noise=0.5, seed=1), seed=1, valid_ratio=0.3)
    direct = degree_matching(inp.pair, inp.test - torch.tensor([0, inp.n1]))
    assert rows[0]["hits@1"] == direct["hits@1"] and rows[0]["mrr"] == direct["mrr"]
