"""Run-store overhead: a grid through `map_grid(..., store=)` against the plain loop it replaces.

What a run store replaces is a loop that keeps each result as it finishes, so that a crash loses
nothing finished: here a loop that opens a JSON-lines file once and appends each result to it as
one line, flushed (one write call per result, so a killed process leaves every finished line; no
fsync, so on return its results may still be in the page cache only). The store commits finished
runs in batches (every 0.2 s: a kill -9 loses at most that much finished work, which resume runs
again), syncs each batch to disk (in a store thread of its own, off the sweep's thread), syncs a
new store 6 times before it returns (making it, and its last batch, so its results are on disk on
return; the checkpoint's 2 follow in the store thread) and never leaves a half-written row. The function is cheap on
purpose (about a millisecond), so the difference is what keeping costs per run.

In one process the store does what the loop does and more, so it can at best tie; the note gives
the ratio of each round, the CPU it adds per run and the wall time of a one-run sweep (its fixed
cost). With a worker process per core, map_grid runs the same grid on all cores; that row is the
store's speed-up. Also timed: resuming a finished grid (nothing runs) against the loop running it
again. The sides are timed in turn, `repeats` rounds, the fastest of each kept (on a shared
machine the minimum is the least disturbed measurement).
"""

from __future__ import annotations

import json
import os
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


def _timed(fn) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds, value) of `fn()`."""
    t0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - t0, time.process_time() - c0, value


@register("sweep-store", "map_grid with a SQLite run store vs a loop keeping each result in a file")
def bench_sweep_store(quick: bool) -> list[BenchRow]:
    from ..sweep import map_grid
    from ..toy.threads import cores

    n, repeats = (600, 3) if quick else (3000, 3)
    workers = cores()
    points = [{"x": i} for i in range(n)]
    plain = [_work(p) for p in points]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    wall: dict[str, list[float]] = {"keeping": [], "store": [], "pool": [], "one run": []}
    cpu: dict[str, list[float]] = {"keeping": [], "store": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for r in range(repeats):  # in turn, so a burst of load hits every side alike
            for side, run in (
                ("keeping", lambda r=r: _keeping_loop(points, folder / f"loop{r}.jsonl")),
                ("store", lambda r=r: map_grid(_work, points, store=folder / f"runs{r}.db",
                                               progress=False)),
            ):  # fmt: skip
                w, c, value = _timed(run)
                assert value == plain
                wall[side].append(w)
                cpu[side].append(c)
            wall["one run"].append(
                _timed(
                    lambda r=r: map_grid(_work, points[:1], store=folder / f"one{r}.db",
                                         progress=False)
                )[0]
            )  # fmt: skip
            if workers > 1:
                w, _, value = _timed(
                    lambda r=r: map_grid(_work, points, store=folder / f"pool{r}.db",
                                         progress=False, workers=workers)
                )  # fmt: skip
                assert value == plain
                wall["pool"].append(w)
        resumed = [
            _timed(lambda: map_grid(_work, points, store=folder / "runs0.db", progress=False))
            for _ in range(repeats)
        ]
        assert all(value == plain for _, _, value in resumed)
        t_resume = min(w for w, _, _ in resumed)
    t_keep, t_store = min(wall["keeping"]), min(wall["store"])
    rounds = ", ".join(f"{k / s:.2f}" for k, s in zip(wall["keeping"], wall["store"], strict=True))
    extra_us = 1e6 * (min(cpu["store"]) - min(cpu["keeping"])) / n
    rows = [
        BenchRow(
            "sweep-store",
            f"{n} runs, stored, one process",
            t_store,
            t_keep,
            note=f"vs a loop appending each result to a file (flushed, not synced): the same runs "
            f"kept in a store, so at best a tie; rounds {rounds}; {extra_us:.0f} µs CPU per run "
            f"over the loop; a one-run sweep {1000 * min(wall['one run']):.0f} ms (a new store "
            f"and its 6 syncs); 1-min load before {load:.1f}",
        ),
    ]
    if wall["pool"]:
        rows.append(
            BenchRow(
                "sweep-store",
                f"{n} runs, stored, {workers} worker processes",
                min(wall["pool"]),
                t_keep,
                note=f"map_grid(workers={workers}): one process per core, runs committed in "
                "batches as they come back; the loop has one core",
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
