import json

import pytest
import torch

from companion import data
from companion.subgraphx.__main__ import main


def test_ba_shapes_generator():
    g = data.load("ba_shapes", base_nodes=60, num_motifs=10, seed=3)
    assert g.num_nodes == 60 + 5 * 10
    assert g.x.shape == (110, 10)
    assert g.node_mask.dtype == torch.bool and int(g.node_mask.sum()) == 50
    assert set(g.y[g.node_mask].tolist()) == {1, 2, 3} and set(g.y[~g.node_mask].tolist()) == {0}
    assert bool((g.train_mask ^ g.test_mask).all())
    again = data.load("ba_shapes", base_nodes=60, num_motifs=10, seed=3)
    assert torch.equal(g.edge_index, again.edge_index)
    with pytest.raises(ValueError, match="num_motifs"):
        data.load("ba_shapes", num_motifs=0)


def test_cli_end_to_end_tiny(tmp_path):
    out = tmp_path / "r.json"
    main(["--dataset", "ba2motifs", "--graphs", "2", "--num-graphs", "60", "--epochs", "3", "--rollout", "2",
          "--sample-num", "5", "--ks", "5,7", "--gnnexplainer-epochs", "5", "--pg-epochs", "1", "--pg-train", "2",
          "--out", str(out)])
    payload = json.loads(out.read_text())
    assert payload["command"].startswith("python -m companion.subgraphx")
    assert {r["method"] for r in payload["rows"]} == {"SubgraphX", "GNNExplainer", "PGExplainer", "Random"}
    assert len(payload["rows"]) == 2 * 2 * 4
    assert all(0.0 <= r["sparsity"] < 1.0 for r in payload["rows"])
    assert len(payload["summary"]) == 2 * 4
