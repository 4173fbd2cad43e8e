"""Run-store overhead: a grid through `map_grid(..., store=)` against a plain Python loop.

The function is cheap on purpose, so the difference is what the store costs per run (planning,
one committed transaction per finished run). Also timed: resuming a finished grid (nothing runs).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from . import BenchRow, register


def _work(point: dict) -> dict:
    """A little real work (about a millisecond), so the ratio means something."""
    total = 0.0
    for i in range(20_000):
        total += (i % 7) * point["x"]
    return {"y": total}


@register(
    "sweep-store", "map_grid with a SQLite run store vs a plain loop (store overhead per run)"
)
def bench_sweep_store(quick: bool) -> list[BenchRow]:
    from ..sweep import map_grid

    n = 200 if quick else 2000
    points = [{"x": i} for i in range(n)]
    t0 = time.perf_counter()
    plain = [_work(p) for p in points]
    t_plain = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "runs.db"
        t0 = time.perf_counter()
        stored = map_grid(_work, points, store=store, progress=False)
        t_store = time.perf_counter() - t0
        t0 = time.perf_counter()
        map_grid(_work, points, store=store, progress=False)
        t_resume = time.perf_counter() - t0
    assert stored == plain
    per_run_ms = 1000 * (t_store - t_plain) / n
    return [
        BenchRow(
            "sweep-store",
            f"{n} runs, stored",
            t_store,
            t_plain,
            note=f"store overhead {per_run_ms:.2f} ms per run (one transaction each)",
        ),
        BenchRow(
            "sweep-store",
            f"{n} runs, all done before (resume)",
            t_resume,
            t_plain,
            note="reads results back instead of running",
        ),
    ]
