"""The chapter's CLI: flags checked before any tracking, output under ./results, reruns reproduce."""

import json
import shlex
import subprocess
import sys

import numpy as np
import pytest

import companion.tracking.__main__ as cli
from companion.reproduce import reproduce_file
from companion.tracking.evaluate import ALL, CHOSEN, VARIANTS, grid_configs
from companion.utils import repo_path

TINY = ["--sequence", "cup_scale", "--frames", "3", "--no-progress"]
BOOK_RESULTS = repo_path("book", "11_tracking", "results")
OURS = "ours (tree RNN + sparse coding)"


def _snapshot():
    return {p.name: p.stat().st_mtime_ns for p in BOOK_RESULTS.iterdir()}


def test_cli_writes_per_sequence_rows_under_results_of_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = _snapshot()
    cli.main(["--sequence", "cup_scale", "cat_occlusion", "--frames", "3", "--opencv", "KCF", "--no-progress"])
    assert _snapshot() == before, "the CLI wrote into book/ without --publish"
    payload = json.loads((tmp_path / "results" / cli.FILENAME).read_text())
    settings = {(r["setting"], r["method"]) for r in payload["rows"]}
    trackers = [*VARIANTS, "OpenCV KCF"]
    assert settings == {(s, t) for s in ("cup_scale", "cat_occlusion", ALL) for t in trackers}
    assert payload["seeds"] == [0] and {r["seed"] for r in payload["rows"]} == {0}
    fps = [s for s in payload["summary"] if s["metric"] in ("fps", "cpu_fps")]
    assert fps and all(s["timing"] for s in fps)
    assert not any(s["timing"] for s in payload["summary"] if s["metric"] not in ("fps", "cpu_fps"))
    # the 'all' rows are the means of the per-sequence rows
    rows = {(r["setting"], r["method"]): r for r in payload["rows"]}
    for t in trackers:
        for m in ("success_auc", "precision@20", "mean_iou", "fps", "cpu_fps"):
            assert rows[ALL, t][m] == pytest.approx(np.mean([rows[s, t][m] for s in ("cup_scale", "cat_occlusion")]))
    assert len(rows["cup_scale", OURS]["success_curve"]) == 21 and len(payload["curves"][OURS]["precision"]) == 51
    assert payload["frames"] == {"cup_scale": 3, "cat_occlusion": 3}


def test_cli_rerun_reproduces_its_file(tmp_path):
    # every kind of row: our three variants and all three OpenCV trackers (MIL draws random
    # samples); 6 frames, so that the online update (every 5th frame) runs once
    # a fresh process, as the rerun is: OpenCV's MIL keeps hidden state across trackers of one
    # process (its first tracker of a process differs from later ones), so an in-process first
    # run after other tests would not be the run a reader's command makes
    subprocess.run([sys.executable, "-m", "companion.tracking", *TINY, "--frames", "6",
                    "--opencv", "MIL", "KCF", "CSRT", "--out", str(tmp_path / "a" / "tiny.json")], check=True)
    assert reproduce_file(tmp_path / "a" / "tiny.json", tmp_path / "b") == []


def test_cli_reads_a_local_otb_sequence(tmp_path, monkeypatch):
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(0)
    bg = rng.integers(0, 120, (90, 120, 3)).astype(np.uint8)
    obj = np.kron(rng.integers(120, 255, (6, 6, 3)), np.ones((4, 4, 1))).astype(np.uint8)
    img = tmp_path / "otb" / "Square" / "img"
    img.mkdir(parents=True)
    boxes = []
    for t in range(4):
        f = bg.copy()
        f[30:54, 20 + 2 * t:44 + 2 * t] = obj
        cv2.imwrite(str(img / f"{t + 1:04d}.jpg"), f)
        boxes.append(f"{20 + 2 * t},30,24,24")
    (tmp_path / "otb" / "Square" / "groundtruth_rect.txt").write_text("\n".join(boxes) + "\n")
    monkeypatch.chdir(tmp_path)
    cli.main(["--otb-root", str(tmp_path / "otb"), "--sequence", "all", "--opencv", "none", "--no-progress"])
    payload = json.loads((tmp_path / "results" / cli.FILENAME).read_text())
    assert payload["sequences"] == ["Square"] and payload["frames"] == {"Square": 4}
    assert payload["source"] == "otb" and {r["setting"] for r in payload["rows"]} == {"Square", ALL}


@pytest.mark.parametrize("args, flag", [
    (["--opencv", "KFC"], "--opencv"),                 # a mistyped tracker name
    (["--opencv", "MIL", "MIL"], "--opencv"),
    (["--opencv", "MIL,MIL"], "--opencv"),             # the old comma form is checked the same way
    (["--opencv", "none", "KCF"], "--opencv"),         # none means no tracker: not with names
    (["--sequence", "cup_scael"], "--sequence"),
    (["--sequence", "cup_scale", "cup_scale"], "--sequence"),
    (["--sequence", "all", "cup_scale"], "--sequence"),
    (["--frames", "1"], "--frames"),
    (["--frames", "ten"], "--frames"),
    (["--threads", "0"], "--threads"),
    (["--seeds", "-1"], "--seeds"),
    (["--otb-root", "/no/such/folder"], "--otb-root"),
    (["--sequence", "bigbuckbunny", "cup_scale"], "--sequence"),   # the real clip runs alone
    (["--validate", "--otb-root", "."], "--validate"),
])
def test_bad_flags_fail_fast_naming_the_flag(args, flag, rejects_before_work):
    rejects_before_work(cli.main, [*TINY, *args], flag, forbid=((cli, "track_all"), (cli, "_load_sequences")))


def test_missing_otb_sequence_and_missing_opencv_tracker_fail_fast(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "track_all", lambda *a, **k: pytest.fail("work started"))
    (tmp_path / "otb").mkdir()
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--otb-root", str(tmp_path / "otb"), "--sequence", "Basketball"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "--sequence" in err and "Basketball" in err
    with pytest.raises(SystemExit):
        cli.main(["--otb-root", str(tmp_path / "otb")])   # 'all' of an empty folder
    assert "no sequence in" in capsys.readouterr().err
    # an OpenCV build without contrib has MIL only: KCF and CSRT are refused before any work
    monkeypatch.setattr(cli, "available_opencv_trackers", lambda: ["MIL"])
    with pytest.raises(SystemExit) as exit_:
        cli.main(TINY)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "--opencv" in err and "KCF, CSRT" in err


def test_validation_grid_records_every_setting_and_the_choice(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli.main(["--validate", "--sequence", "cup_scale", "--frames", "3", "--seeds", "100", "101", "--no-progress"])
    payload = json.loads((tmp_path / "results" / cli.GRID_FILENAME).read_text())
    assert len(payload["rows"]) == 2 * len(grid_configs())
    assert {r["method"] for r in payload["rows"]} == {"rnn", "pixels"}
    choice = payload["choice"]
    for features in ("rnn", "pixels"):
        mine = [r for r in payload["rows"] if r["method"] == features]
        best = max(np.mean([q["success_auc"] for q in mine if q["setting"] == r["setting"]]) for r in mine)
        assert choice[features]["success_auc"] == pytest.approx(best)


def test_chosen_settings_are_the_committed_validation_choice():
    payload = json.loads((BOOK_RESULTS / cli.GRID_FILENAME).read_text())
    table = json.loads((BOOK_RESULTS / cli.FILENAME).read_text())
    assert not set(payload["seeds"]) & set(table["seeds"]), "validation and test seeds must differ"
    for features, config in CHOSEN.items():
        assert {k: v for k, v in payload["choice"][features].items() if k != "success_auc"} == config


def test_real_clip_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli.main(["--sequence", "bigbuckbunny", "--frames", "4", "--opencv", "KCF", "--no-progress"])
    payload = json.loads((tmp_path / "results" / cli.VIDEO_FILENAME).read_text())
    assert payload["frames"] == {"bigbuckbunny": 4} and "bigbuckbunny" in payload["source"]
    assert {r["setting"] for r in payload["rows"]} == {"bigbuckbunny", ALL}


def test_list_flags_are_space_separated_and_read_the_old_comma_form(capsys):
    p = cli.build_parser()
    args = p.parse_args(["--sequence", "cup_scale", "cat_occlusion", "--opencv", "KCF", "CSRT"])
    assert (args.sequence, args.opencv) == (["cup_scale", "cat_occlusion"], ["KCF", "CSRT"])
    assert capsys.readouterr().err == ""
    old = p.parse_args(["--sequence", "cup_scale,cat_occlusion", "--opencv", "KCF,CSRT"])
    assert (old.sequence, old.opencv) == (args.sequence, args.opencv)
    err = capsys.readouterr().err
    assert "--sequence read as '--sequence cup_scale cat_occlusion'" in err and "--opencv read as" in err
    assert p.parse_args([]).opencv == ["MIL", "KCF", "CSRT"]
    none = p.parse_args(["--opencv", "none"])
    assert cli.check_args(p, none) == list(cli.SEQUENCES) and none.opencv == []


@pytest.mark.parametrize("path", sorted(BOOK_RESULTS.glob("*.json")), ids=lambda p: p.name)
def test_committed_commands_still_parse(path):
    """A results file's command parses and passes the cross-flag checks (nothing is tracked)."""
    payload = json.loads(path.read_text())
    parser = cli.build_parser()
    args = parser.parse_args(shlex.split(payload["command"])[3:])
    assert cli.check_args(parser, args) == payload["sequences"]
    assert args.seeds == payload["seeds"]
