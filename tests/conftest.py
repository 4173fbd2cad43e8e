import os

import pytest
import torch

# Under pytest-xdist (`make test` runs one worker per core) each worker trains on one thread:
# the workers already fill the cores, and PyTorch's default of one thread per core each would
# oversubscribe them. Tests about threads set and restore their own.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if WORKER:
    torch.set_num_threads(1)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)


@pytest.fixture(autouse=True, scope="session")
def _allocation_cache(tmp_path_factory):
    """The tests' allocations are kept for this run only (its commands inherit the folder), shared
    by its workers (writes are atomic): never read from, nor written into, a user's cache."""
    from superpose.circuits.allocation import CACHE_ENV

    run = tmp_path_factory.getbasetemp()  # the cache makes its folder when it first writes
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str((run.parent if WORKER else run) / "allocations"))
        yield
