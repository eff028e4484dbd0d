import json

from companion.lds.__main__ import main


def test_cli_table_end_to_end(tmp_path):
    out = tmp_path / "wine.json"
    main(["--dataset", "wine", "--seeds", "1", "--out", str(out), "--max-inner-steps", "4", "--tau", "2",
          "--max-outer-iterations", "1", "--epochs", "5", "--ks", "5", "--n-samples", "2"])
    payload = json.loads(out.read_text())
    assert [r["method"] for r in payload["rows"]] == ["LogReg", "MLP", "kNN-GCN", "kNN-LDS", "LDS"]
    assert payload["seeds"] == [0] and payload["experiment"] == "table"
    assert all(0 <= r["mean"] <= 1 for r in payload["rows"])


def test_cli_incomplete_graph_end_to_end(tmp_path):
    out = tmp_path / "karate.json"
    main(["--dataset", "karate", "--seeds", "1", "--out", str(out), "--max-inner-steps", "4", "--tau", "2",
          "--max-outer-iterations", "1", "--epochs", "5", "--missing", "0.5", "--n-samples", "2"])
    rows = json.loads(out.read_text())["rows"]
    assert {(r["missing"], r["method"]) for r in rows} == {(0.5, "GCN"), (0.5, "LDS")}
    assert rows[0]["edges_left"] < 78
