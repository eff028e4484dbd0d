"""The store of the student edition: outputs come back with their types and bits, and the
fingerprints of case inputs notice a changed, permuted or reshaped input but not last-bit noise."""

import json

import numpy as np
import pytest
import torch

from companion import expected as store


def _same(a, b) -> bool:
    """Same type and same bits, recursively."""
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and a.numpy().tobytes() == b.numpy().tobytes()
    if isinstance(a, (np.ndarray, np.generic)):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return np.float64(a).tobytes() == np.float64(b).tobytes()
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


def test_outputs_are_stored_bit_for_bit_with_their_types():
    values = [
        torch.tensor(0.1), torch.tensor([[1.5, float("nan")], [float("-inf"), 2.0]], dtype=torch.float64),
        torch.arange(6).reshape(2, 3).t(), torch.tensor([True, False]), torch.zeros(0, 3),
        np.array([[0.1, 0.2]], dtype=np.float32), np.arange(4)[::2], np.float64(0.1), np.int64(7), np.bool_(True),
        (1, [2, 3]), [(0, 1), (1, 2)], {"mrr": 0.5, 3: (1.0,), (1, 2): None}, 0.1, float("nan"), 10**20,
        True, "text", None, [],
    ]
    for value in values:
        back = store.decode(json.loads(json.dumps(store.encode(value), allow_nan=False)))
        assert _same(back, value), (value, back)
    for unstorable in (torch.nn.Linear(2, 2), len, object(), np.array(["a"])):
        with pytest.raises(TypeError, match="cannot store"):
            store.encode(unstorable)


def test_fingerprints_notice_a_changed_permuted_or_reshaped_input():
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    base = store.fingerprint((x, 3), {"p": 2})
    assert store.same_inputs(base, store.fingerprint((x.clone(), 3), {"p": 2}))
    noisy = x.clone()
    noisy[0, 0] = torch.nextafter(noisy[0, 0], torch.tensor(10.0))  # another CPU's last bit
    assert store.same_inputs(base, store.fingerprint((noisy, 3), {"p": 2}))
    changed = x.clone()
    changed[2, 1] += 1e-3
    for args, kwargs in (((changed, 3), {"p": 2}), ((x.flip(0), 3), {"p": 2}), ((x.reshape(4, 5), 3), {"p": 2}),
                         ((x.double(), 3), {"p": 2}), ((x, 4), {"p": 2}), ((x, 3), {"p": 1}), ((x, 3), {})):
        assert not store.same_inputs(base, store.fingerprint(args, kwargs)), (args, kwargs)

    def game(present, w=[0.5, 1.0]):  # a value function given as input carries its data
        return sum(w)

    def other(present, w=[0.5, 1.5]):
        return sum(w)

    other.__qualname__ = game.__qualname__
    assert not store.same_inputs(store.fingerprint((game,), {}), store.fingerprint((other,), {}))
