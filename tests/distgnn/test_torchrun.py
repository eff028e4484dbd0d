import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from companion.distgnn.launch import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("torchrun", path=str(Path(sys.executable).parent)) is None, reason="no torchrun")
def test_torchrun_two_workers_end_to_end(tmp_path):
    out = tmp_path / "tr.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COMPANION_NO_PROGRESS": "1"}
    cmd = [str(Path(sys.executable).parent / "torchrun"), "--nproc-per-node", "2", "--master-port", str(free_port()),
           "-m", "companion.distgnn", "--mode", "full", "--num-nodes", "400", "--train-per-class", "10",
           "--num-val", "50", "--num-test", "100", "--epochs", "3", "--out", str(out)]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, timeout=240, capture_output=True)
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 1 and rows[0]["workers"] == 2 and rows[0]["workflow"] == "full/metis"
    assert rows[0]["bytes_per_epoch"] > 0 and rows[0]["halo_total"] == rows[0]["total_halo"]
