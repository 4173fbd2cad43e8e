"""The benchmark registry and the grid driver's in-library contract."""

import pytest

from superpose.base.errors import SuperposeError
from superpose.bench import BenchRow, run_benchmarks
from superpose.sweep import map_grid


def _square(point):
    return {"y": point["x"] ** 2}


def test_map_grid_keeps_order():
    assert map_grid(_square, [{"x": i} for i in range(5)], progress=False) == [
        {"y": i * i} for i in range(5)
    ]


def test_bench_row_ratio_and_unknown_name():
    assert BenchRow("b", "t", ours_s=2.0, reference_s=10.0).ratio == 5.0
    assert BenchRow("b", "t", ours_s=2.0).ratio is None
    with pytest.raises(SuperposeError, match="unknown benchmark"):
        run_benchmarks(["no-such-bench"])
