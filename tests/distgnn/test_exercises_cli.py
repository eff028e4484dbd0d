import json

import pytest

from companion import exercises
from companion.distgnn import exercises as ex
from companion.distgnn.__main__ import main


@pytest.mark.parametrize("key,fn", [("ch02.edge_cut_halo", ex.edge_cut_and_halo), ("ch02.cache_policy", ex.cache_policy),
                                    ("ch02.halo_bytes", ex.halo_bytes_per_layer)])
def test_reference_solutions_pass(key, fn):
    assert exercises.check(key, fn, verbose=False)


def test_a_wrong_answer_fails():
    assert not exercises.check("ch02.halo_bytes", lambda ei, parts, p, dim: 0, verbose=False)


def test_cli_sweep_end_to_end(tmp_path):
    out = tmp_path / "sweep.json"
    main(["--sweep", "--workers", "1", "2", "--epochs", "2", "--num-nodes", "400", "--train-per-class", "10",
          "--num-val", "50", "--num-test", "100", "--workflows", "full/metis", "minibatch/metis+cache",
          "--batch-size", "32", "--out", str(out)])
    payload = json.loads(out.read_text())
    rows = payload["rows"]
    assert [(r["workflow"], r["workers"]) for r in rows] == [
        ("full (1 process)", 1), ("full/metis", 2), ("minibatch/metis+cache", 2)]
    assert rows[0]["bytes_per_epoch"] == 0 and rows[1]["bytes_per_epoch"] > 0
    assert 0 < rows[2]["cache_hit_rate"] <= 1 and rows[1]["edge_cut"] > 0
    assert payload["experiment"] == "scaling" and "machine" in payload and payload["note"]


def test_cli_cache_sweep_end_to_end(tmp_path):
    out = tmp_path / "cache.json"
    main(["--cache-sweep", "--workers", "2", "--dataset", "powerlaw_graph", "--epochs", "1", "--num-nodes", "400",
          "--train-per-class", "10", "--num-val", "50", "--num-test", "100", "--batch-size", "32",
          "--cache-fractions", "0", "0.2", "--cache-policies", "degree", "random", "--out", str(out)])
    rows = json.loads(out.read_text())["rows"]
    assert [(r["cache_policy"], r["cache_fraction"]) for r in rows] == [("none", 0.0), ("degree", 0.2), ("random", 0.2)]
    assert rows[0]["cache_hit_rate"] == 0 and rows[1]["cache_hit_rate"] > rows[2]["cache_hit_rate"]
    assert rows[1]["fetched_rows_per_epoch"] < rows[0]["fetched_rows_per_epoch"]
