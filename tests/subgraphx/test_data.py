import pytest
import torch

from companion import data


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
