import pytest
import torch

from companion.distgnn.checks import meter_roundtrip
from companion.distgnn.comm import CommMeter, tensor_bytes
from companion.distgnn.launch import run_function


def test_single_process_meter_counts_nothing_and_copies():
    m = CommMeter()
    out = [torch.empty(3, 2)]
    m.all_to_all(out, [torch.ones(3, 2)], kind="halo")
    assert torch.equal(out[0], torch.ones(3, 2))
    m.all_reduce(torch.ones(5), kind="grad")
    assert m.total() == 0 and m.calls["halo"] == 1 and len(m.events) == 2


def test_meter_validates_input():
    with pytest.raises(ValueError, match="rank"):
        CommMeter(rank=2, world_size=2)
    with pytest.raises(ValueError, match="one tensor per worker"):
        CommMeter(0, 1).all_to_all([torch.empty(1)], [torch.empty(1), torch.empty(1)], kind="x")


def test_ring_allreduce_formula():
    assert CommMeter(0, 4).ring_allreduce_bytes(1000) == pytest.approx(1500)
    assert tensor_bytes(torch.zeros(3, 4, dtype=torch.float64)) == 96


def test_meter_bytes_equal_tensor_sizes_sent_two_processes():
    rows, dim = [3, 5], 4
    res = run_function(meter_roundtrip, 2, (rows, dim))
    for rank, r in enumerate(res):
        other = 1 - rank
        # received rows carry the sender's rank; the sizes are what that sender addressed to us
        assert torch.equal(r["recv"][other], torch.full((rows[rank], dim), float(other)))
        assert torch.equal(r["recv"][rank], torch.full((rows[rank], dim), float(rank)))
        # bytes counted = the chunk sent to the other worker, not the one kept
        assert r["bytes"]["a2a"] == rows[other] * dim * 4
        assert r["bytes"]["reduce"] == dim * 4
        assert torch.equal(r["reduced"], torch.full((dim,), 2.0))
