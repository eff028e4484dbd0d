import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("COMPANION_NO_PROGRESS", "1")
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def small_sbm():
    from companion import data

    return data.load("sbm_features", num_nodes=600, train_per_class=10, num_val=100, num_test=200, seed=1)
