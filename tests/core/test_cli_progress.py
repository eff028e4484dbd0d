"""The one progress display of the long CLIs (companion.cli.RunProgress) and their seed loop
(companion.cli.run_seeds): a bar on a terminal, one line per finished unit in a log."""

from __future__ import annotations

import io
import os
import re
import sys

import pytest

from companion import cli
from companion.results import ACTIVE_CHECKPOINTS, SeedCheckpoint
from companion.utils import progress


class FakeTTY(io.StringIO):
    """A terminal as far as tqdm and RunProgress can tell."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def progress_on(monkeypatch):
    """No --no-progress: whether bars are drawn depends on the stream alone."""
    monkeypatch.delenv("COMPANION_NO_PROGRESS", raising=False)


def test_a_log_gets_one_line_per_finished_unit_and_no_bars(progress_on):
    log = io.StringIO()
    with cli.RunProgress(3, "toy", stream=log) as display:
        assert not display.bars
        for i in range(3):
            # an inner bar written to the same log: silenced while the run lasts
            for _ in progress(range(5), desc="epochs", file=log, mininterval=0):
                pass
            display.done(f"seed {i}, missing 0.5")
        assert os.environ.get("COMPANION_NO_PROGRESS") == "1"  # child processes draw no bar either
    assert "COMPANION_NO_PROGRESS" not in os.environ  # put back as it was
    text = log.getvalue()
    assert "\r" not in text and "epochs" not in text
    lines = text.splitlines()
    assert len(lines) == 3
    assert [line.split("]")[0] for line in lines] == ["[1/3", "[2/3", "[3/3"]
    assert re.fullmatch(r"\[1/3\] seed 0, missing 0\.5: done in [\d.]+ s \(about [\d.]+ s left\)", lines[0])
    assert re.fullmatch(r"\[3/3\] seed 2, missing 0\.5: done in [\d.]+ s \(all 3 in [\d.]+ s\)", lines[2])


def test_no_progress_gives_lines_even_on_a_terminal(monkeypatch):
    monkeypatch.setenv("COMPANION_NO_PROGRESS", "1")  # what --no-progress sets
    tty = FakeTTY()
    with cli.RunProgress(2, "toy", stream=tty) as display:
        assert not display.bars
        display.done("seed 0")
    assert tty.getvalue().startswith("[1/2] seed 0: done in ") and "\r" not in tty.getvalue()
    assert os.environ["COMPANION_NO_PROGRESS"] == "1"


def test_a_terminal_gets_an_overall_bar_with_the_total_and_inner_bars_below_it(progress_on):
    tty = FakeTTY()
    with cli.RunProgress(4, "toy", stream=tty) as display:
        assert display.bars
        inner = progress(total=3, desc="epochs", file=tty)
        assert inner.pos != 0  # not on the overall bar's line
        inner.close()
        display.done("seed 0")
        display.done("seed 1")
        assert "toy" in tty.getvalue() and "2/4" in tty.getvalue()
    text = tty.getvalue()
    assert "\r" in text  # drawn as a bar, redrawn in place
    assert "[1/4]" not in text and "done in" not in text  # no log lines on a terminal


def test_lines_printed_to_a_terminal_go_above_the_bars(progress_on, monkeypatch):
    terminal = FakeTTY()
    monkeypatch.setattr(sys, "stdout", terminal)
    with cli.RunProgress(2, "toy", stream=terminal) as display:
        print("seed 0: acc 0.9")
        assert sys.stdout is not terminal  # printing goes through tqdm.write, which clears the bars first
        print("no newline yet", end="")
        display.done("seed 0")
    assert sys.stdout is terminal
    text = terminal.getvalue()
    assert "seed 0: acc 0.9\n" in text and text.endswith("no newline yet")


def test_a_resumed_seed_is_not_computed_again_and_is_reported_as_reused(tmp_path, progress_on):
    ckpt = SeedCheckpoint(tmp_path / "r.json", "python -m companion.toy")
    ckpt.save(0, [{"method": "m", "seed": 0, "acc": 0.5}])
    ckpt = SeedCheckpoint(tmp_path / "r.json", "python -m companion.toy")  # the rerun
    computed = []
    log = io.StringIO()

    def compute(seed):
        computed.append(seed)
        return [{"method": "m", "seed": seed, "acc": 0.75}]

    with cli.RunProgress(2, "toy", stream=log) as display:
        rows = cli.run_seeds([0, 1], compute, checkpoint=ckpt, display=display)
    assert computed == [1]
    assert [r["acc"] for r in rows] == [0.5, 0.75]
    assert ckpt.finished == [0, 1]  # seed 1 saved as it ended
    lines = log.getvalue().splitlines()
    assert lines[0] == "[1/2] seed 0: reused from an earlier run"
    assert lines[1].startswith("[2/2] seed 1: done in ")
    ckpt.finish()
    assert ckpt not in ACTIVE_CHECKPOINTS


def test_units_a_seed_does_not_report_are_reported_when_it_ends(progress_on):
    log = io.StringIO()
    with cli.RunProgress(6, "toy", stream=log) as display:
        def compute(seed):
            display.done(f"seed {seed}, k 5")  # one of its three units, as it finishes
            return [seed]

        assert cli.run_seeds([3, 4], compute, display=display, units=3) == [3, 4]
    counters = [line.split(" ", 1)[0] for line in log.getvalue().splitlines()]
    assert counters == ["[1/6]", "[3/6]", "[4/6]", "[6/6]"]
    assert "[3/6] seed 3: done in " in log.getvalue()


def test_a_reduced_cli_run_with_no_progress_writes_one_line_per_unit(tmp_path, monkeypatch, capsys, progress_on):
    from companion.kgcn import __main__ as kgcn

    monkeypatch.chdir(tmp_path)
    kgcn.main(["--n-users", "30", "--n-items", "40", "--density", "0.2", "--epochs", "1", "--topk-users", "5",
               "--models", "BPR-MF", "--fractions", "1.0", "0.5", "--seeds", "0", "1", "--no-progress"])
    err = capsys.readouterr().err
    assert "\r" not in err
    units = [line for line in err.splitlines() if line.startswith("[")]
    assert [u.split(" ", 1)[0] for u in units] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]  # seeds x fractions
    assert units[0].startswith("[1/4] seed 0, fraction 1: done in ")
    assert units[-1].startswith("[4/4] seed 1, fraction 0.5: done in ")
