"""Run-store overhead: a grid through `map_grid(..., store=)` against the plain loop it replaces.

What a run store replaces is a loop that keeps each result as it finishes, so that a crash loses
nothing finished: here a loop appending each result to a JSON-lines file and flushing it (a file a
killed process leaves complete up to its last line, as the store's committed runs are). The
function is cheap on purpose, so the difference is what keeping costs per run. In one process the
store does what the loop does and more (a transaction per run), so it can at best tie; its note
gives the CPU it adds per run. With a worker process per core, map_grid runs the same grid on all
cores and commits each run as it comes back; that row is the store's speed-up. Also timed:
resuming a finished grid (nothing runs) against the loop running it again. Each side is timed
`repeats` times in turn and the fastest kept: on a shared machine the minimum is the least
disturbed measurement.
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
    from ..toy.threads import cores

    n, repeats = (600, 3) if quick else (3000, 3)
    workers = cores()
    points = [{"x": i} for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = [_work(p) for p in points]
        times: dict[str, list[float]] = {"bare": [], "keeping": [], "store": [], "pool": []}
        cpu = {"keeping": [], "store": []}
        for r in range(repeats):  # in turn, so a burst of load hits every side alike
            times["bare"].append(_fastest(lambda: [_work(p) for p in points], 1))
            c0 = time.process_time()
            times["keeping"].append(
                _fastest(lambda r=r: _keeping_loop(points, folder / f"loop{r}.jsonl"), 1)
            )
            c1 = time.process_time()
            store = folder / f"runs{r}.db"
            t0 = time.perf_counter()
            stored = map_grid(_work, points, store=store, progress=False)
            times["store"].append(time.perf_counter() - t0)
            cpu["keeping"].append(c1 - c0)
            cpu["store"].append(time.process_time() - c1)
            assert stored == plain
            if workers > 1:
                t0 = time.perf_counter()
                pooled = map_grid(
                    _work, points, store=folder / f"pool{r}.db", progress=False, workers=workers
                )
                times["pool"].append(time.perf_counter() - t0)
                assert pooled == plain
        t_resume = _fastest(lambda: map_grid(_work, points, store=store, progress=False), repeats)
    t_bare, t_keep, t_store = (min(times[k]) for k in ("bare", "keeping", "store"))
    extra_us = 1e6 * (min(cpu["store"]) - min(cpu["keeping"])) / n
    rows = [
        BenchRow(
            "sweep-store",
            f"{n} runs, stored, one process",
            t_store,
            t_keep,
            note=f"vs a loop appending each result to a file: the same runs plus a transaction "
            f"each, so at best 1×; {extra_us:.0f} µs CPU per run over the loop "
            f"({1000 * (t_store - t_bare) / n:.2f} ms wall over a bare loop keeping nothing)",
        ),
    ]
    if times["pool"]:
        rows.append(
            BenchRow(
                "sweep-store",
                f"{n} runs, stored, {workers} worker processes",
                min(times["pool"]),
                t_keep,
                note=f"map_grid(workers={workers}): one process per core, each run committed as "
                "it comes back; the loop has one core",
            )
        )
    rows.append(
        BenchRow(
            "sweep-store",
            f"{n} runs, all done before (resume)",
            t_resume,
            t_keep,
            note="reads results back instead of running them again",
        )
    )
    return rows
