import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from companion.distgnn.checks import fail_on_rank, worker_threads
from companion.distgnn.launch import check_training_nodes, load_graph, run_function, run_partitioned, run_workers
from companion.distgnn.local import write_partitions
from companion.distgnn.partition import empty_parts
from companion.distgnn.train import DistConfig
from companion.utils import REPO_ROOT

psutil = pytest.importorskip("psutil")  # a dependency of torch-geometric and ipython

SPEC = {"name": "sbm_features", "num_nodes": 400, "train_per_class": 10, "num_val": 50, "num_test": 100, "seed": 0}


def alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def live_workers() -> list[psutil.Process]:
    """Descendants of this process other than the fork server and the resource tracker (both idle)."""
    keep = ("forkserver", "resource_tracker")
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if alive(p) and not any(k in " ".join(p.cmdline()) for k in keep):
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def test_empty_parts_and_the_launcher_check():
    mask = torch.tensor([True, False, True, False])
    parts = torch.tensor([0, 1, 0, 2])
    assert empty_parts(mask, parts, 4) == [1, 2, 3]
    with pytest.raises(ValueError, match=r"3 of 4 partitions \(toy\) own no training node.*fewer workers"):
        check_training_nodes(mask, parts, 4, "toy")
    check_training_nodes(mask, torch.tensor([0, 0, 1, 1]), 2)  # every part has one: no error


def test_run_workers_refuses_a_partition_without_training_nodes_before_starting(small_sbm):
    parts = torch.zeros(small_sbm.num_nodes, dtype=torch.long)
    parts[torch.nonzero(~small_sbm.train_mask).flatten()[:50]] = 1
    with pytest.raises(ValueError, match="1 of 2 partitions own no training node"):
        run_workers(2, small_sbm, parts, DistConfig(mode="minibatch", epochs=1))
    assert live_workers() == []


def test_a_failing_worker_stops_the_others():
    # rank 1 raises while ranks 0 and 2 wait in an all-reduce it never joins: before the fix they
    # waited forever (the failing rank blocked at its closing barrier)
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"worker 1 of 3 failed \(RuntimeError: worker 1 fails on purpose\)"):
        run_function(fail_on_rank, 3, (1,))
    assert time.perf_counter() - start < 60
    assert live_workers() == []


def test_a_worker_without_training_nodes_cannot_hang_a_minibatch_run(tmp_path):
    # partitions written without the launcher's check: the worker itself fails, after rank 0 has
    # entered DDP's first collective; the launcher must stop rank 0
    parts = torch.zeros(SPEC["num_nodes"], dtype=torch.long)
    parts[torch.nonzero(~load_graph(SPEC).train_mask).flatten()[:100]] = 1
    write_partitions(load_graph(SPEC), parts, tmp_path, 2, modes=("minibatch",))
    with pytest.raises(RuntimeError, match=r"worker 1 of 2 failed \(ValueError: worker 1 owns no training node"):
        run_partitioned(tmp_path, 2, DistConfig(mode="minibatch", epochs=1, batch_size=32), timeout_s=120)
    assert live_workers() == []


def test_workers_use_the_threads_they_are_given():
    assert run_function(worker_threads, 2, threads=2) == [2, 2]
    assert run_function(worker_threads, 2) == [1, 1]


def test_ctrl_c_stops_the_launcher_and_every_worker(tmp_path):
    cmd = [sys.executable, "-m", "companion.distgnn", "--mode", "full", "--workers", "2", "--num-nodes", "400",
           "--train-per-class", "10", "--num-val", "50", "--num-test", "100", "--epochs", "100000000",
           "--out", str(tmp_path)]
    log = open(tmp_path / "log", "w")
    # a session of its own, so that cleanup can kill whatever is left even if the test fails
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    launcher = psutil.Process(proc.pid)
    seen: dict[int, psutil.Process] = {}
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # the workers are the fork server's children
            kids = launcher.children(recursive=True)
            seen.update((k.pid, k) for k in kids)
            if sum(1 for k in kids if k.ppid() != proc.pid) >= 2:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the workers did not start within 90 s: " + (tmp_path / "log").read_text()[-2000:])
        time.sleep(1.0)  # inside training (or the rendezvous): blocked in collectives
        seen.update((k.pid, k) for k in launcher.children(recursive=True))
        proc.send_signal(signal.SIGINT)  # to the launcher only, as `kill -INT`
        assert proc.wait(timeout=15) == 130, (tmp_path / "log").read_text()[-2000:]
        assert "interrupted" in (tmp_path / "log").read_text()
        deadline = time.monotonic() + 15  # the fork server leaves once its parent is gone
        while time.monotonic() < deadline:
            left = [p for p in seen.values() if alive(p)]
            if not left:
                break
            time.sleep(0.2)
        assert not left, [p.pid for p in left]
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        log.close()
