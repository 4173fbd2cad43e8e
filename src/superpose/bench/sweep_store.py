"""Run-store overhead: a grid through `map_grid(..., store=)` against the plain loop it replaces.

What a run store replaces is a loop that keeps each result as it finishes, so that a crash loses
nothing finished: here a loop appending each result to a JSON-lines file and flushing it (a file a
killed process leaves complete up to its last line, as the store's committed runs are). The
function is cheap on purpose, so the difference is what keeping costs per run. Also timed:
resuming a finished grid (nothing runs) against the loop running it again. The note gives the
store's cost over a bare loop that keeps nothing. Each side is timed `repeats` times in turn and
the fastest kept: on a shared machine the minimum is the least disturbed measurement.
"""

from __future__ import annotations

import json
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


def _keeping_loop(points: list[dict], path: Path) -> list[dict]:
    """The naive sweep: run each point and append its result to a JSON-lines file, flushed."""
    out = []
    with open(path, "a") as f:
        for p in points:
            res = _work(p)
            f.write(json.dumps({"point": p, "result": res}) + "\n")
            f.flush()
            out.append(res)
    return out


def _fastest(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@register("sweep-store", "map_grid with a SQLite run store vs a loop keeping each result in a file")
def bench_sweep_store(quick: bool) -> list[BenchRow]:
    from ..sweep import map_grid

    n, repeats = (200, 3) if quick else (2000, 3)
    points = [{"x": i} for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = [_work(p) for p in points]
        times = {"bare": [], "keeping": [], "store": []}
        for r in range(repeats):  # in turn, so a burst of load hits every side alike
            times["bare"].append(_fastest(lambda: [_work(p) for p in points], 1))
            times["keeping"].append(
                _fastest(lambda r=r: _keeping_loop(points, folder / f"loop{r}.jsonl"), 1)
            )
            store = folder / f"runs{r}.db"
            t0 = time.perf_counter()
            stored = map_grid(_work, points, store=store, progress=False)
            times["store"].append(time.perf_counter() - t0)
            assert stored == plain
        t_resume = _fastest(lambda: map_grid(_work, points, store=store, progress=False), repeats)
    t_bare, t_keep, t_store = (min(v) for v in times.values())
    per_run_ms = 1000 * (t_store - t_bare) / n
    return [
        BenchRow(
            "sweep-store",
            f"{n} runs, stored",
            t_store,
            t_keep,
            note=f"vs a loop appending each result to a file; {per_run_ms:.2f} ms per run over a "
            "bare loop that keeps nothing",
        ),
        BenchRow(
            "sweep-store",
            f"{n} runs, all done before (resume)",
            t_resume,
            t_keep,
            note="reads results back instead of running them again",
        ),
    ]
