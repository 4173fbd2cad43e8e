"""The toy-busy benchmark's added load: busy processes that run inside the block and are gone
after it, even when the block fails."""

import pytest

from superpose.bench.busy import BusyCores


def test_busy_cores_run_inside_the_block_and_are_reaped_after():
    with pytest.raises(RuntimeError), BusyCores(2) as busy:
        procs = list(busy.procs)
        assert len(procs) == 2 and all(p.poll() is None for p in procs)  # spinning
        raise RuntimeError("the timed work failed")
    assert all(p.returncode is not None for p in procs)  # killed and waited for
