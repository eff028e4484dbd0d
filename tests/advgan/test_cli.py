import json
import shlex
from dataclasses import asdict

import pytest

import companion.advgan.__main__ as cli
from companion.advgan.__main__ import main
from companion.advgan.experiment import DEFENDED_TRANSFER, TRANSFER, Config, check_config, load_images, run_table
from companion.reproduce import reproduce_file
from companion.utils import REPO_ROOT

TINY = ["--data", "digits", "--n-train", "120", "--n-test", "40", "--target-epochs", "1", "--at-epochs", "1",
        "--at-steps", "1", "--pgd-steps", "2", "--gan-epochs", "1", "--static-epochs", "1"]


def book_files() -> set:
    return set((REPO_ROOT / "book" / "09_advgan").rglob("*"))


def test_cli_end_to_end_writes_per_seed_rows_under_cwd(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    before = book_files()
    path = main([*TINY, "--mode", "semiwhitebox", "--seeds", "0", "1"])
    assert path == tmp_path / "results" / "advgan_digits_semiwhitebox.json"
    payload = json.loads(path.read_text())
    assert payload["seeds"] == [0, 1] and payload["config"]["n_train"] == 120 and "seed" not in payload["config"]
    pairs = [(r["setting"], r["method"]) for r in payload["rows"] if r["seed"] == 0]
    assert pairs == [(t, a) for t in ("undefended", "PGD-trained") for a in ("no attack",)] + [
        (t, a) for t in ("undefended", "PGD-trained") for a in ("FGSM", "PGD-2", "AdvGAN semi-white-box")]
    attacks = [r for r in payload["rows"] if r["method"] != "no attack"]
    assert all(0 <= r["success_rate"] <= 1 and r["linf"] <= 0.3 + 1e-6 for r in attacks)
    summary = {(r["setting"], r["method"], r["metric"]): r for r in payload["summary"]}
    assert summary[("undefended", "FGSM", "success_rate")]["n"] == 2
    assert summary[("undefended", "no attack", "clean_accuracy")]["higher_is_better"] is True
    assert {r["metric"] for r in payload["summary"] if r["timing"]} == {"ms_per_example", "train_seconds"}
    assert "AdvGAN semi-white-box" in capsys.readouterr().out and book_files() == before


def test_targeted_mode_end_to_end(tmp_path, capsys):
    path = main([*TINY, "--gan-epochs", "2", "--mode", "targeted", "--target-classes", "3", "8", "--seeds", "0", "1",
                 "--out", str(tmp_path / "t.json")])
    payload = json.loads(path.read_text())
    assert payload["config"]["target_classes"] == [3, 8] and payload["config"]["mode"] == "targeted"
    seed0 = [r for r in payload["rows"] if r["seed"] == 0]
    per_class = [r for r in seed0 if r["setting"].startswith("target ")]
    assert [(r["setting"], r["method"]) for r in per_class] == [
        (f"target {t}", a) for t in (3, 8) for a in ("no attack", "random sign noise", "PGD-2 targeted",
                                                     "AdvGAN targeted")]
    assert all(r["target_class"] == int(r["setting"].split()[1]) and 0 <= r["targeted_success"] <= 1
               for r in per_class)
    assert all(r["linf"] <= 0.3 + 1e-6 for r in per_class) and per_class[0]["l2"] == 0.0
    means = {r["method"]: r for r in seed0 if r["setting"] == "mean over target classes"}
    pgd_rows = [r for r in per_class if r["method"] == "PGD-2 targeted"]
    assert means["PGD-2 targeted"]["targeted_success"] == pytest.approx(
        sum(r["targeted_success"] for r in pgd_rows) / 2)
    # the untargeted generator of the same settings, on the same target (no targeted success)
    (untargeted,) = [r for r in seed0 if r["setting"] == "untargeted"]
    assert untargeted["method"] == "AdvGAN semi-white-box" and "targeted_success" not in untargeted
    summary = {(r["setting"], r["method"], r["metric"]): r for r in payload["summary"]}
    assert summary[("mean over target classes", "AdvGAN targeted", "targeted_success")]["n"] == 2
    assert "AdvGAN targeted" in capsys.readouterr().out
    # the same seed's target as the untargeted table: its clean accuracy row there, its errors here
    table = json.loads(main([*TINY, "--mode", "semiwhitebox", "--out", str(tmp_path / "s.json")]).read_text())
    clean = next(r["clean_accuracy"] for r in table["rows"] if r["setting"] == "undefended")
    no_attack = [r for r in per_class if r["method"] == "no attack"]
    assert no_attack[0]["success_rate"] == pytest.approx(1 - clean)


def test_targeted_mode_chooses_each_generators_margin_on_validation(tmp_path):
    payload = json.loads(main([*TINY, "--mode", "targeted", "--target-classes", "3", "--kappa-grid", "0", "5",
                               "--kappa-goal", "0.9", "--out", str(tmp_path / "k.json")]).read_text())
    grid = [r for r in payload["rows"] if r["method"] == "AdvGAN kappa grid (validation)"]
    assert sorted((r["setting"], r["kappa"]) for r in grid) == [
        ("target 3", 0.0), ("target 3", 5.0), ("untargeted", 0.0), ("untargeted", 5.0)]
    for setting, method, score in (("target 3", "AdvGAN targeted", "val_targeted_success"),
                                   ("untargeted", "AdvGAN semi-white-box", "val_success_on_correct")):
        mine = [r for r in grid if r["setting"] == setting]
        (chosen,) = [r for r in mine if r["selected"]]
        reached = [r["kappa"] for r in mine if r["goal_reached"]]
        best = max(mine, key=lambda r: (r[score] or 0.0, -r["kappa"]))["kappa"]
        assert chosen["kappa"] == (min(reached) if reached else best)
        (attack,) = [r for r in payload["rows"] if r["setting"] == setting and r["method"] == method]
        assert attack["kappa"] == chosen["kappa"] and attack["kappa_from"] == "validation"
    # misclassification on the digits of the other classes, beside the targeted success
    per_class = [r for r in payload["rows"] if r["setting"] == "target 3" and r["method"] != "AdvGAN kappa grid (validation)"]
    assert all(0 <= r["misclassified_others"] <= 1 for r in per_class)
    assert all(r["misclassified_others"] >= r["targeted_success"] for r in per_class)  # arriving at 3 is an error


def test_results_file_reproduces_in_a_fresh_process(tmp_path):
    # mode all: every attack (FGSM, PGD, both AdvGANs) on both targets
    path = main([*TINY, "--mode", "all", "--out", str(tmp_path / "a" / "tiny.json")])
    rows = json.loads(path.read_text())["rows"]
    # 4 clean accuracies, 4 attacks on each target, the undefended target's 4 replayed on the second
    # model and on the defended one
    assert len(rows) == 20
    assert reproduce_file(path, tmp_path / "b") == []
    made = {r["method"]: r for r in rows if r["setting"] == "undefended" and r["method"] != "no attack"}
    for target in (TRANSFER, DEFENDED_TRANSFER):
        moved = {r["method"]: r for r in rows if r["setting"] == target and r["method"] != "no attack"}
        assert set(moved) == set(made) == {"FGSM", "PGD-2", "AdvGAN semi-white-box", "AdvGAN black-box"}
        for attack, r in moved.items():
            # the same examples (same norms, same time), scored on another model
            assert r["made_against"] == "undefended"
            assert (r["l2"], r["linf"], r["ms_per_example"]) == (made[attack]["l2"], made[attack]["linf"],
                                                                 made[attack]["ms_per_example"])
    clean = {r["setting"]: r["clean_accuracy"] for r in rows if r["method"] == "no attack"}
    assert clean[DEFENDED_TRANSFER] == clean["PGD-trained"]


def test_a_rerun_resumes_after_the_finished_seeds(tmp_path, monkeypatch):
    out = str(tmp_path / "r.json")
    computed = []
    real = cli._seed_rows

    def spy(cfg, *args):
        computed.append(cfg.seed)
        if cfg.seed == 1 and len(computed) == 2:
            raise KeyboardInterrupt  # killed during seed 1
        return real(cfg, *args)

    monkeypatch.setattr(cli, "_seed_rows", spy)
    with pytest.raises(KeyboardInterrupt):
        main([*TINY, "--mode", "semiwhitebox", "--seeds", "0", "1", "--out", out])
    assert (tmp_path / "r.json.partial").is_file() and not (tmp_path / "r.json").exists()
    main([*TINY, "--mode", "semiwhitebox", "--seeds", "0", "1", "--out", out])
    assert computed == [0, 1, 1]  # seed 0 was kept, not recomputed
    assert not (tmp_path / "r.json.partial").exists()
    payload = json.loads((tmp_path / "r.json").read_text())
    assert sorted({r["seed"] for r in payload["rows"]}) == [0, 1]


def test_seeds_run_apart_are_assembled_with_reuse(tmp_path, monkeypatch, capsys):
    argv = [*TINY, "--mode", "targeted", "--target-classes", "3"]
    full = json.loads(main([*argv, "--seeds", "0", "1", "--out", str(tmp_path / "full.json")]).read_text())
    for seed in ("0", "1"):
        main([*argv, "--seeds", seed, "--out", str(tmp_path / f"s{seed}.json")])
    monkeypatch.setattr(cli, "run_targeted", lambda *a, **kw: pytest.fail("a reused seed was recomputed"))
    merged = json.loads(main([*argv, "--seeds", "0", "1", "--reuse", str(tmp_path / "s0.json"),
                              str(tmp_path / "s1.json"), "--out", str(tmp_path / "merged.json")]).read_text())
    assert merged["command"] == full["command"] and "--reuse" not in merged["command"]
    assert merged["settings"] == full["settings"] and merged["settings"]["mode"] == "targeted"
    untimed = lambda rows: [{k: v for k, v in r.items() if k not in ("ms_per_example", "train_seconds",  # noqa: E731
                                                                      "fit_seconds")} for r in rows]
    assert untimed(merged["rows"]) == untimed(full["rows"])
    assert [a["file"] for a in merged["assembled_from"]] == ["s0.json", "s1.json"]
    # a one-seed file of other settings is refused before any work, naming what differs
    with pytest.raises(SystemExit):
        main([*argv, "--kappa", "2", "--seeds", "0", "1", "--reuse", str(tmp_path / "s0.json")])
    err = capsys.readouterr().err
    assert "--reuse" in err and "kappa differ" in err


@pytest.mark.parametrize("argv, flag", [
    (["--n-train", "-5"], "--n-train"),
    (["--n-train", "0"], "--n-train"),
    (["--n-test", "-1"], "--n-test"),
    (["--data", "digits", "--n-train", "1401"], "--n-train"),
    (["--data", "digits", "--n-test", "398"], "--n-test"),
    (["--n-train", "4001"], "--n-train"),
    (["--n-test", "1001"], "--n-test"),
    (["--eps", "0"], "--eps"),
    (["--eps", "1.5"], "--eps"),
    (["--eps", "nan"], "--eps"),
    (["--pgd-alpha", "0"], "--pgd-alpha"),
    (["--target-epochs", "0"], "--target-epochs"),
    (["--at-epochs", "0"], "--at-epochs"),
    (["--at-steps", "0"], "--at-steps"),
    (["--pgd-steps", "0"], "--pgd-steps"),
    (["--gan-epochs", "0"], "--gan-epochs"),
    (["--static-epochs", "-1"], "--static-epochs"),
    (["--width", "0"], "--width"),
    (["--alpha", "-0.1"], "--alpha"),
    (["--beta", "inf"], "--beta"),
    (["--c", "-1"], "--c"),
    (["--target", "D"], "--target"),
    (["--distilled", "Z"], "--distilled"),
    (["--data", "cifar10"], "--data"),
    (["--mode", "whitebox"], "--mode"),
    (["--seeds", "-1"], "--seeds"),
    (["--seeds", "0", "0"], "--seeds"),
    (["--threads", "0"], "--threads"),
    (["--out", "/proc/no-such-dir/x.json"], "--out"),
    (["--kappa", "-1"], "--kappa"),
    (["--kappa", "nan"], "--kappa"),
    (["--kappa-grid", "0", "-2"], "--kappa-grid"),
    (["--kappa-grid", "0", "5", "5"], "--kappa-grid"),
    (["--kappa-grid", "0,5,5"], "--kappa-grid"),       # the old comma form is checked the same way
    (["--kappa-grid", ","], "--kappa-grid"),
    (["--kappa-grid", "nan"], "--kappa-grid"),
    (["--val-fraction", "1"], "--val-fraction"),
    (["--val-fraction", "0"], "--val-fraction"),
    (["--data", "digits", "--n-train", "2", "--kappa-grid", "0", "--val-fraction", "0.1"], "--val-fraction"),
    (["--kappa-goal", "0"], "--kappa-goal"),
    (["--at-warmup-epochs", "-1"], "--at-warmup-epochs"),
    (["--mode", "blackbox", "--kappa-grid", "0", "5"], "--kappa-grid"),
    (["--at-epochs", "2", "--at-warmup-epochs", "3"], "--at-warmup-epochs"),
    (["--refit"], "--refit"),                         # refit needs a kappa grid to refit from
    (["--target-classes", "3"], "--target-classes"),  # only mode targeted has target classes
    (["--mode", "targeted", "--target-classes", "10"], "--target-classes"),
    (["--mode", "targeted", "--target-classes", "3", "3"], "--target-classes"),
    (["--mode", "targeted", "--kappa-grid", "0", "5", "--refit"], "--refit"),  # targeted attacks with the validated G
])
def test_bad_flags_fail_fast_naming_the_flag(argv, flag, rejects_before_work):
    rejects_before_work(main, argv, flag, forbid=((cli, "run_table"),))


@pytest.mark.parametrize("field, value", [
    ("n_train", -5), ("n_test", 0), ("n_train", 1401), ("eps", 0.0), ("pgd_alpha", 2.0), ("target_epochs", 0),
    ("at_steps", 0), ("static_epochs", -1), ("width", 0), ("alpha", -1.0), ("c", float("inf")),
    ("target", "D"), ("mode", "whitebox"), ("data", "cifar"), ("seed", -1),
    ("kappa", -1.0), ("kappa", float("nan")), ("kappa_grid", ()), ("kappa_grid", (0.0, -1.0)), ("kappa_grid", (1, 1)),
    ("val_fraction", 1.0), ("kappa_goal", 0.0), ("defense_from_scratch", "yes"), ("at_warmup_epochs", 4),
])
def test_run_table_checks_the_config_before_any_work(field, value):
    with pytest.raises(ValueError, match=f"^{field} |; {field} "):
        run_table(Config(**{"data": "digits", field: value}))


def test_load_images_refuses_a_negative_size():
    # x[:-5] would silently keep all but five images
    with pytest.raises(ValueError, match="n_train must be in 1..1400"):
        load_images("digits", n_train=-5)
    assert len(load_images("digits", n_train=5, n_test=3)["y_test"]) == 3
    check_config(Config(data="digits", n_train=1400, n_test=397))


def test_cli_kappa_grid_and_defense_from_scratch_end_to_end(tmp_path, capsys):
    path = main([*TINY, "--mode", "all", "--kappa", "2", "--kappa-grid", "0", "5", "--val-fraction", "0.25",
                 "--defense-from-scratch", "--out", str(tmp_path / "k.json")])
    payload = json.loads(path.read_text())
    assert payload["config"]["kappa"] == 2.0 and payload["config"]["kappa_grid"] == [0.0, 5.0]
    assert payload["config"]["defense_from_scratch"] is True
    assert "--kappa-grid 0 5 " in payload["command"]
    rows = payload["rows"]
    grid = [r for r in rows if r["method"] == cli.GRID_ATTACK]
    assert len(grid) == 4 and all("val_success_on_correct" in r for r in grid)
    semi = [r for r in rows if r["method"] == "AdvGAN semi-white-box"]
    assert all(r["kappa_from"] == "validation" and r["kappa"] in (0.0, 5.0) for r in semi)
    # the attack uses the validated generator: its training time is that of the selected grid row
    fit = {r["target"]: r["fit_seconds"] for r in grid if r["selected"]}
    assert all(r["train_seconds"] == fit[r["target"]] for r in semi if r["setting"] in fit)
    # with a grid, the black-box attack on each target takes the semi-white-box pick, not --kappa
    picked = {r["setting"]: r["kappa"] for r in semi}
    black = [r for r in rows if r["method"] == "AdvGAN black-box"]
    assert all(r["kappa"] == picked[r["target"] if r["setting"] != cli.TRANSFER else "undefended"]
               and r["kappa_from"] == "validation (semi-white-box)" for r in black)
    attacks = [r for r in rows if r["method"] not in ("no attack", cli.GRID_ATTACK)]
    assert len(attacks) == 16 and all("success_on_correct" in r and "clean_correct" in r for r in attacks)
    assert all("from scratch" in r["defense"] for r in attacks if r["setting"] == "PGD-trained")
    # the validation rows are not test results: none of them is in the summary
    assert cli.GRID_ATTACK not in {r["method"] for r in payload["summary"]}
    assert "<- selected" in capsys.readouterr().out


def test_blackbox_mode_keeps_the_configured_kappa(tmp_path):
    rows = json.loads(main([*TINY, "--mode", "blackbox", "--kappa", "2", "--out",
                            str(tmp_path / "b.json")]).read_text())["rows"]
    black = [r for r in rows if r["method"] == "AdvGAN black-box"]
    assert len(black) == 4 and all(r["kappa"] == 2.0 and r["kappa_from"] == "config" for r in black)


def test_default_rows_hold_success_on_correct_in_rows_and_summary(tmp_path):
    payload = json.loads(main([*TINY, "--mode", "semiwhitebox", "--out", str(tmp_path / "d.json")]).read_text())
    assert payload["config"]["kappa"] == 0.0 and payload["config"]["kappa_grid"] is None
    assert {r["metric"] for r in payload["summary"]} == set(cli.METRICS)
    for r in payload["rows"]:
        if r["method"] != "no attack":
            on = r["success_on_correct"]
            assert isinstance(r["clean_correct"], int) and (on is None or 0 <= on <= 1)


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "book" / "09_advgan" / "results").glob("*.json")),
                         ids=lambda p: p.name)
def test_committed_commands_still_parse(path, capsys):
    """A results file's command (old comma lists included) parses to the config it recorded."""
    payload = json.loads(path.read_text())
    argv = shlex.split(payload["command"])[3:]
    configs = cli._configs(cli.build_parser(), cli.build_parser().parse_args(argv))
    recorded = {k: tuple(v) if isinstance(v, list) else v for k, v in payload["config"].items()}
    assert {k: v for k, v in asdict(configs[0]).items() if k in recorded} == recorded
    assert [c.seed for c in configs] == payload["seeds"]
    if "--kappa-grid 0,2,5,10" in payload["command"]:
        assert "--kappa-grid read as '--kappa-grid 0.0 2.0 5.0 10.0'" in capsys.readouterr().err


def test_kappa_grid_is_space_separated_and_reads_the_old_comma_form(capsys):
    p = cli.build_parser()
    assert p.parse_args(["--kappa-grid", "0", "2", "5"]).kappa_grid == [0.0, 2.0, 5.0]
    assert capsys.readouterr().err == ""
    assert p.parse_args(["--kappa-grid", "0,2,5"]).kappa_grid == [0.0, 2.0, 5.0]
    assert "lists are space-separated" in capsys.readouterr().err


def test_each_table_refuses_the_other_mode_before_any_work():
    from companion.advgan.targeted import run_targeted
    with pytest.raises(ValueError, match="needs mode 'targeted'"):
        run_targeted(Config(data="digits"))
    with pytest.raises(ValueError, match="use companion.advgan.targeted.run_targeted"):
        run_table(Config(data="digits", mode="targeted"))
