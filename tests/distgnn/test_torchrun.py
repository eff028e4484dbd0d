import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TORCHRUN = shutil.which("torchrun", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(TORCHRUN is None, reason="no torchrun")
def test_torchrun_two_workers_end_to_end(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COMPANION_NO_PROGRESS": "1"}
    args = ["--mode", "full", "--num-nodes", "400", "--train-per-class", "10", "--num-val", "50", "--num-test", "100",
            "--epochs", "3"]
    cmd = [TORCHRUN, "--standalone", "--nproc-per-node", "2", "-m", "companion.distgnn", *args, "--out", str(tmp_path)]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, timeout=240, capture_output=True)
    files = list(tmp_path.glob("*.json"))  # rank 0 alone writes
    assert [f.name for f in files] == ["torchrun_full_sbm_features_400.json"]
    payload = json.loads(files[0].read_text())
    assert payload["command"] == "torchrun --standalone --nproc-per-node 2 -m companion.distgnn " + " ".join(args)
    rows = payload["rows"]
    assert len(rows) == 1 and rows[0]["workers"] == 2 and rows[0]["method"] == "full/metis"
    assert rows[0]["setting"] == {"workers": 2} and rows[0]["seed"] == 0
    assert rows[0]["bytes_per_epoch"] > 0 and rows[0]["halo_total"] == rows[0]["total_halo"]


@pytest.mark.skipif(TORCHRUN is None, reason="no torchrun")
def test_torchrun_refuses_a_partition_without_training_nodes(tmp_path):
    # 5 labelled nodes; METIS with seed 13 puts all of them in part 0: every rank must stop, none hang
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COMPANION_NO_PROGRESS": "1"}
    cmd = [TORCHRUN, "--standalone", "--nproc-per-node", "2", "-m", "companion.distgnn", "--mode", "minibatch",
           "--dataset", "powerlaw_graph", "--num-nodes", "400", "--train-per-class", "1", "--num-val", "50",
           "--num-test", "100", "--seeds", "13", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, timeout=240, capture_output=True, text=True)
    assert proc.returncode != 0 and list(tmp_path.glob("*.json")) == []
    assert "1 of 2 partitions (metis, seed 13) own no training node" in proc.stderr, proc.stderr[-2000:]
