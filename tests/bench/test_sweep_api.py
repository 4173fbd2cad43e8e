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


def test_tolerance_row_has_no_speed_up_and_a_verdict():
    row = BenchRow("b", "busy vs quiet", ours_s=1.2, tolerance=(1.2, 1.3))
    assert row.ratio is None and row.within is True
    assert BenchRow("b", "t", ours_s=1.0, tolerance=(1.4, 1.3)).within is False
    assert BenchRow("b", "t", ours_s=1.0, reference_s=2.0).within is None
    assert row.to_dict()["within"] is True
