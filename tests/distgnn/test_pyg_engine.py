"""PyG's distributed engine: our METIS partition in PyG's format, its stores, and the CLI's stop."""

import json
from unittest import mock

import pytest
import torch

pytest.importorskip("pymetis")

from companion.distgnn import pyg_engine as pe  # noqa: E402
from companion.distgnn.__main__ import main  # noqa: E402
from companion.distgnn.partition import metis_partition  # noqa: E402

TINY = ["--num-nodes", "400", "--train-per-class", "10", "--num-val", "50", "--num-test", "100", "--epochs", "1",
        "--batch-size", "32"]


@pytest.fixture(scope="module")
def graph():
    from companion import data

    return data.load("sbm_features", num_nodes=600, train_per_class=10, num_val=100, num_test=200, seed=1)


@pytest.mark.parametrize("world", [2, 4])
def test_partition_files_load_back_into_pyg_stores(graph, world, tmp_path):
    parts = metis_partition(graph.edge_index, graph.num_nodes, world, seed=0)
    root = pe.write_partition(graph, parts, tmp_path)
    nodes, edges, train = [], [], 0
    for p in range(world):
        feature, store, split = pe.load_stores(root, p)
        c = pe.check_stores(feature, store, graph, parts, p)
        assert c["nodes"] == int((parts == p).sum()) and c["features"] == (c["nodes"], graph.x.shape[1])
        assert c["edges"] == int((parts[graph.edge_index[1]] == p).sum())
        assert store.num_partitions == world and store.partition_idx == p
        assert torch.equal(feature.labels, graph.y)
        nodes.append(feature.get_global_id(None))
        edges.append(store.get_edge_id(edge_type=None, layout="coo"))
        # the split: the part's own train/val/test nodes, global ids
        for name in ("train", "val", "test"):
            mask = getattr(graph, f"{name}_mask")
            assert torch.equal(split[name], torch.nonzero(mask & (parts == p)).flatten())
        train += split["train"].numel()
        # sorted by destination, as META.json's is_sorted promises the sampler
        col = store.get_edge_index(edge_type=None, layout="coo")[1]
        assert bool((col[1:] >= col[:-1]).all())
    # every node and every edge in exactly one partition
    assert torch.equal(torch.sort(torch.cat(nodes)).values, torch.arange(graph.num_nodes))
    assert torch.equal(torch.sort(torch.cat(edges)).values, torch.arange(graph.edge_index.shape[1]))
    assert train == int(graph.train_mask.sum())


def test_the_files_are_those_pygs_partitioner_writes_for_the_same_assignment(graph, tmp_path):
    # Partitioner needs pyg-lib or torch-sparse only for METIS: given our assignment, it writes its files
    from torch_geometric.distributed import Partitioner
    from torch_geometric.loader import ClusterData

    parts = metis_partition(graph.edge_index, graph.num_nodes, 3, seed=0)
    pe.write_partition(graph, parts, tmp_path / "ours")
    with mock.patch.object(ClusterData, "_metis", lambda self, edge_index, num_nodes: parts):
        Partitioner(graph, 3, str(tmp_path / "pyg")).generate_partition()
    assert json.loads((tmp_path / "ours" / "META.json").read_text()) == \
        json.loads((tmp_path / "pyg" / "META.json").read_text())
    for name in ("node_map.pt", "edge_map.pt"):
        assert torch.equal(torch.load(tmp_path / "ours" / name), torch.load(tmp_path / "pyg" / name))
    for p in range(3):
        a, b = (torch.load(tmp_path / w / f"part_{p}" / "graph.pt") for w in ("ours", "pyg"))
        assert a["size"] == b["size"]
        # the same edges; within one destination the order is free (the sampler draws among them)
        key = lambda g: torch.sort(g["edge_id"])  # noqa: E731
        (ea, ia), (eb, ib) = key(a), key(b)
        assert torch.equal(ea, eb) and torch.equal(a["row"][ia], b["row"][ib]) and torch.equal(a["col"][ia],
                                                                                             b["col"][ib])
        assert torch.equal(a["col"], b["col"])  # both sorted by destination
        fa, fb = (torch.load(tmp_path / w / f"part_{p}" / "node_feats.pt") for w in ("ours", "pyg"))
        # the same nodes and rows; PyG's order within a part is its sort's (the store maps ids to rows)
        (ga, ja), (gb, jb) = torch.sort(fa["global_id"]), torch.sort(fb["global_id"])
        assert torch.equal(ga, gb) and torch.equal(fa["feats"]["x"][ja], fb["feats"]["x"][jb])


def test_topology_bytes_counts_in_edges_and_both_copies_of_the_maps(graph, tmp_path):
    parts = metis_partition(graph.edge_index, graph.num_nodes, 2, seed=0)
    root = pe.write_partition(graph, parts, tmp_path)
    feature, store, _ = pe.load_stores(root, 1)
    n, e = graph.num_nodes, graph.edge_index.shape[1]
    e_in = int((parts[graph.edge_index[1]] == 1).sum())
    # row, col, edge ids of the in-edges; node_map and edge_map loaded once per store
    assert pe.topology_bytes(feature, store) == 8 * (3 * e_in + 2 * (n + e))
    feature.node_feat_pb = store.node_pb  # one shared tensor counts once
    assert pe.topology_bytes(feature, store) == 8 * (3 * e_in + 2 * e + n)


def test_check_stores_rejects_a_partition_that_does_not_match(graph, tmp_path):
    parts = metis_partition(graph.edge_index, graph.num_nodes, 2, seed=0)
    root = pe.write_partition(graph, parts, tmp_path)
    feature, store, _ = pe.load_stores(root, 0)
    other = parts.clone()
    other[torch.nonzero(parts == 0)[0]] = 1  # one node moved: counts differ
    with pytest.raises(ValueError, match="part 0"):
        pe.check_stores(feature, store, graph, other, 0)
    with pytest.raises(FileNotFoundError, match="part_2"):
        pe.load_stores(root, 2)
    with pytest.raises(FileNotFoundError, match="META.json"):
        pe.load_stores(tmp_path / "nowhere", 0)


def test_write_partition_rejects_bad_input(graph, tmp_path):
    with pytest.raises(ValueError, match="at least 2 parts"):
        pe.write_partition(graph, torch.zeros(graph.num_nodes, dtype=torch.long), tmp_path)
    with pytest.raises(ValueError, match="parts must be"):
        pe.write_partition(graph, torch.zeros(5, dtype=torch.long), tmp_path)


def test_wheel_index_url_per_torch_build():
    assert pe.wheel_index_url("2.13.0+cpu") == "https://data.pyg.org/whl/torch-2.13.0+cpu.html"
    assert pe.wheel_index_url("2.5.1+cu121") == "https://data.pyg.org/whl/torch-2.5.0+cu121.html"
    assert pe.wheel_index_url("2.4.0") == "https://data.pyg.org/whl/torch-2.4.0+cpu.html"


def test_the_message_names_what_is_missing_and_the_fix(monkeypatch):
    monkeypatch.setattr(pe, "sampler_error", lambda: None)
    monkeypatch.setattr(pe, "missing_ops", lambda: ["dist_neighbor_sample"])
    msg = pe.unavailable_message()
    assert "torch.ops.pyg.dist_neighbor_sample" in msg and "pyg-lib" in msg and pe.wheel_index_url() in msg
    assert "relabel_neighborhood" not in msg
    monkeypatch.setattr(pe, "sampler_error", lambda: "TypeError: 'stack_level' is an invalid keyword argument")
    monkeypatch.setattr(pe, "missing_ops", lambda: [])
    msg = pe.unavailable_message()
    assert "torch_geometric==2.7.0" in msg and "pyg-lib" not in msg
    monkeypatch.setattr(pe, "sampler_error", lambda: None)
    assert pe.engine_problems() == [] and pe.unavailable_message() == "PyG's distributed sampler can run here"


def test_the_probes_see_this_environment():
    # what the probes report must agree with what torch and PyG expose here
    missing = pe.missing_ops()
    for op in pe.PYG_OPS:
        assert (op in missing) == (not hasattr(torch.ops.pyg, op))
    err = pe.sampler_error()
    assert err is None or err.split(":")[0].endswith("Error")


@pytest.mark.skipif(not pe.engine_problems(), reason="PyG's sampler runs here: the stop does not happen")
def test_cli_writes_checks_and_stops_with_the_reason(tmp_path, capsys):
    root = tmp_path / "parts"
    with pytest.raises(SystemExit) as exc:
        main(["--engine", "pyg", "--workers", "2", *TINY, "--pyg-root", str(root), "--out", str(tmp_path / "r")])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "cannot run" in err and str(root) in err
    for problem in pe.engine_problems():
        assert problem in err
    # everything up to PyG's loader was done: the files are there and load back
    assert sorted(p.name for p in (root / "seed0").iterdir()) == [
        "META.json", "edge_map.pt", "labels.pt", "node_map.pt", "part_0", "part_1"]
    assert "nodes" in out and "in-edges" in out
    assert not (tmp_path / "r").exists()  # no results folder for a run that did not train


def test_cli_write_only_keeps_the_files(tmp_path):
    out = main(["--engine", "pyg", "--workers", "4", *TINY, "--pyg-root", str(tmp_path), "--pyg-write-only",
                "--seeds", "0", "1"])
    assert out["path"] is None and {c["seed"] for c in out["checks"]} == {0, 1}
    assert sum(c["nodes"] for c in out["checks"] if c["seed"] == 1) == 400
    assert all((tmp_path / f"seed{s}" / "part_3" / "graph.pt").is_file() for s in (0, 1))


@pytest.mark.parametrize("argv, message", [
    (["--engine", "pyg", "--sweep"], "one workflow"),
    (["--engine", "pyg", "--mode", "full"], "mini-batch workflow on METIS"),
    (["--engine", "pyg", "--partition", "random"], "mini-batch workflow on METIS"),
    (["--engine", "pyg", "--workers", "1"], "worker count >= 2"),
    (["--engine", "pyg", "--pyg-write-only"], "give --pyg-root"),
    (["--pyg-root", "x"], "apply to --engine pyg"),
    (["--engine", "pyg", "--backend", "nccl"], "--backend nccl: the chapter's own engine only"),
    (["--engine", "pyg", "--partition-dir", "x"], "--partition-dir: the chapter's own engine only"),
    (["--engine", "pyg", "--write-partitions", "x"], "--write-partitions: the chapter's own engine only"),
])
def test_engine_flag_errors_come_before_any_work(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main([*argv, *TINY, "--out", str(tmp_path / "r")])
    assert exc.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(bool(pe.engine_problems()), reason="PyG's DistNeighborLoader cannot run here "
                    "(pyg-lib missing or torch_geometric 2.8.x): see pyg_engine.unavailable_message")
def test_pyg_engine_trains_end_to_end(tmp_path):
    out = main(["--engine", "pyg", "--workers", "2", *TINY, "--out", str(tmp_path / "r.json")])
    row = out["rows"][0]
    assert row["engine"] == "pyg" and row["workers"] == 2 and 0 <= row["test_acc"] <= 1


def test_torchrun_ranks_check_their_partition_folder_before_any_collective(monkeypatch, capsys, tmp_path):
    main(["--engine", "pyg", "--workers", "2", *TINY, "--pyg-root", str(tmp_path / "parts"), "--pyg-write-only"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    import companion.distgnn.launch as launch

    monkeypatch.setattr(launch, "init_process_group", lambda *a, **k: pytest.fail("joined a process group"))
    cases = [([], "give --pyg-root"),
             (["--pyg-root", str(tmp_path / "parts"), "--seeds", "5"], "no seed5/ partition of 2 parts")]
    if pe.engine_problems():  # the folder is fine: the engine's own stop comes next, still before any group
        cases.append((["--pyg-root", str(tmp_path / "parts")], "cannot run"))
    for argv, message in cases:
        with pytest.raises(SystemExit) as exc:
            main(["--engine", "pyg", *TINY, *argv])
        assert exc.value.code == 2 and message in capsys.readouterr().err
    import shutil

    shutil.rmtree(tmp_path / "parts" / "seed0" / "part_1")  # this machine lacks its part
    with pytest.raises(SystemExit):
        main(["--engine", "pyg", *TINY, "--pyg-root", str(tmp_path / "parts")])
    assert "rank 1 has no seed0/part_1" in capsys.readouterr().err
