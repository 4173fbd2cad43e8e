import pytest
import torch


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)


@pytest.fixture(autouse=True, scope="session")
def _allocation_cache(tmp_path_factory):
    """The tests' allocations are kept for this session only (its commands inherit the folder):
    never read from, nor written into, a user's cache."""
    from superpose.circuits.allocation import CACHE_ENV

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("allocations")))
        yield
