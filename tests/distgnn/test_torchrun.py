import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TORCHRUN = shutil.which("torchrun", path=str(Path(sys.executable).parent))


def _two_nodes(args: list, folders: list, outs: list, env: dict) -> tuple[list, list[str]]:
    """Two torchrun "machines" on 127.0.0.1, one worker each, node r reading ``folders[r]``."""
    from companion.distgnn.launch import free_port

    port = str(free_port())
    nodes = [subprocess.Popen([TORCHRUN, "--nnodes", "2", "--node-rank", str(r), "--master-addr", "127.0.0.1",
                               "--master-port", port, "--nproc-per-node", "1", "-m", "companion.distgnn", *args,
                               "--partition-dir", str(folders[r]), "--out", str(outs[r])],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for r in (0, 1)]
    try:
        logs = [n.communicate(timeout=240)[0] for n in nodes]
    finally:
        for n in nodes:
            n.kill()
    return nodes, logs


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
    # 5 labelled nodes; METIS with seed 12 puts all of them in part 0: every rank must stop, none hang
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COMPANION_NO_PROGRESS": "1"}
    cmd = [TORCHRUN, "--standalone", "--nproc-per-node", "2", "-m", "companion.distgnn", "--mode", "minibatch",
           "--dataset", "powerlaw_graph", "--num-nodes", "400", "--train-per-class", "1", "--num-val", "50",
           "--num-test", "100", "--seeds", "12", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, timeout=240, capture_output=True, text=True)
    assert proc.returncode != 0 and list(tmp_path.glob("*.json")) == []
    assert "1 of 2 partitions (metis, seed 12) own no training node" in proc.stderr, proc.stderr[-2000:]


@pytest.mark.skipif(TORCHRUN is None, reason="no torchrun")
def test_two_nodes_on_one_machine_give_the_one_node_summary(tmp_path):
    # two torchrun "machines" on 127.0.0.1, one worker each, each loading its partition folder,
    # against one torchrun with two workers: the same rows (bytes, hit rate, accuracy)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COMPANION_NO_PROGRESS": "1"}
    args = ["--mode", "minibatch", "--dataset", "powerlaw_graph", "--num-nodes", "400", "--train-per-class", "10",
            "--num-val", "50", "--num-test", "100", "--epochs", "2", "--batch-size", "32"]
    parts = tmp_path / "parts"
    subprocess.run([sys.executable, "-m", "companion.distgnn", "--write-partitions", str(parts), "--workers", "2",
                    *args], cwd=ROOT, env=env, check=True, timeout=120, capture_output=True)
    assert sorted(p.name for p in (parts / "seed0").iterdir()) == ["meta.json", "part0", "part1"]
    # each "machine" gets only its own folder (and the machine of rank 0 the meta file)
    machines = [tmp_path / "machine0", tmp_path / "machine1"]
    for r, m in enumerate(machines):
        (m / "seed0").mkdir(parents=True)
        shutil.copytree(parts / "seed0" / f"part{r}", m / "seed0" / f"part{r}")
    shutil.copy(parts / "seed0" / "meta.json", machines[0] / "seed0" / "meta.json")
    nodes, logs = _two_nodes(args, machines, [tmp_path / "node0", tmp_path / "node1"], env)
    assert [n.returncode for n in nodes] == [0, 0], logs[0][-2000:] + logs[1][-2000:]
    assert list((tmp_path / "node1").glob("*.json")) == []  # rank 0 alone writes
    two = json.loads(next((tmp_path / "node0").glob("*.json")).read_text())
    subprocess.run([TORCHRUN, "--standalone", "--nproc-per-node", "2", "-m", "companion.distgnn", *args,
                    "--out", str(tmp_path / "one")], cwd=ROOT, env=env, check=True, timeout=240, capture_output=True)
    one = json.loads(next((tmp_path / "one").glob("*.json")).read_text())
    assert two["command"] == one["command"]  # the folder of the partitions is not part of the command
    a, b = two["rows"][0], one["rows"][0]
    for key in ("workers", "bytes_per_epoch", "setup_bytes", "fetched_rows_per_epoch", "cache_hit_rate",
                "test_acc", "val_acc", "final_loss", "edge_cut", "max_partition_mb"):
        assert a[key] == b[key], key


@pytest.mark.skipif(TORCHRUN is None, reason="no torchrun")
def test_a_machine_without_its_partition_folder_stops_every_rank(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COMPANION_NO_PROGRESS": "1"}
    args = ["--mode", "full", "--num-nodes", "400", "--train-per-class", "10", "--num-val", "50", "--num-test", "100",
            "--epochs", "2"]
    parts = tmp_path / "parts"
    subprocess.run([sys.executable, "-m", "companion.distgnn", "--write-partitions", str(parts), "--workers", "2",
                    *args], cwd=ROOT, env=env, check=True, timeout=120, capture_output=True)
    empty = tmp_path / "machine1"
    empty.mkdir()
    nodes, logs = _two_nodes(args, [parts, empty], [tmp_path / "out"] * 2, env)
    assert all(n.returncode != 0 for n in nodes)
    assert f"rank 1: partition file {empty}/seed0/part1/node.pt not found" in logs[0], logs[0][-2000:]
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").glob("*.json")) == []
