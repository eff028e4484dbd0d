"""Ctrl-C in a chapter CLI: one line saying what was kept, exit status 130, no traceback; a rerun
of the same command says which finished seeds it reuses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from companion.cli import interrupted_message
from companion.results import ACTIVE_CHECKPOINTS, SeedCheckpoint
from companion.utils import repo_path

# a short AdvGAN run on the 8x8 digits: a few seconds per seed, a checkpoint after each
RUN = ["-m", "companion.advgan", "--data", "digits", "--n-train", "120", "--n-test", "40",
       "--target-epochs", "1", "--at-epochs", "1", "--at-steps", "1", "--pgd-steps", "2",
       "--gan-epochs", "1", "--static-epochs", "1", "--mode", "semiwhitebox", "--threads", "1"]


def test_ctrl_c_after_a_seed_keeps_it_and_a_rerun_resumes(tmp_path):
    out = tmp_path / "r.json"
    argv = [sys.executable, *RUN, "--seeds", "0", "1", "2", "3", "4", "5", "--out", str(out)]
    env = {**os.environ, "COMPANION_NO_PROGRESS": "1"}
    proc = subprocess.Popen(argv, cwd=repo_path(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    partial = tmp_path / "r.json.partial"
    deadline = time.monotonic() + 300
    while not partial.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert partial.exists(), "no seed finished within 300 s"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted after seed ") and str(partial) in last, last
    assert last.endswith("rerun the same command to resume")
    assert not out.exists(), "an interrupted run must not leave a results file that looks complete"
    # the same command again: it says which seeds it reuses (then we stop it again)
    proc = subprocess.Popen(argv, cwd=repo_path(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    # stop it once it has said so (a fixed wait loses the race on a loaded machine: importing
    # torch alone can take longer)
    seen, deadline = [], time.monotonic() + 300
    for line in proc.stderr:
        seen.append(line)
        if "resuming:" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    err = "".join(seen) + proc.communicate(timeout=120)[1]
    assert "resuming: reusing finished seed(s) 0" in err, err[-2000:]
    assert proc.returncode in (0, 130), err[-2000:]


def test_the_message_without_a_finished_seed(tmp_path):
    ACTIVE_CHECKPOINTS.clear()
    assert interrupted_message().startswith("interrupted before any seed finished; no results file")
    ckpt = SeedCheckpoint(tmp_path / "x.json", "python -m companion.snn")
    ckpt.save(3, [{"method": "a", "seed": 3, "acc": 0.5}])
    assert interrupted_message() == (f"interrupted after seed 3; finished seeds 3 kept in {ckpt.path}; "
                                     "rerun the same command to resume")
    ckpt.finish()
    assert ACTIVE_CHECKPOINTS == []
