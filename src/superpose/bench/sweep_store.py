"""Run-store overhead: a grid through `map_grid(..., store=)` against the plain loop it replaces.

What a run store replaces is a loop that keeps each result as it finishes, so that a crash loses
nothing finished: here a loop that opens a JSON-lines file once and appends each result to it as
one line, flushed (one write call per result, so a killed process leaves every finished line), and
fsyncs the file once at its end, so that on return its results are on disk, as the store's are.
The store commits finished runs in batches (every 0.2 s: a kill -9 loses at most that much
finished work, which resume runs again), syncs each batch to disk (in a store thread of its own,
off the sweep's thread), syncs a new store 6 times before it returns (making it, and its last
batch; the checkpoint's 2 follow in the store thread) and never leaves a half-written row. The
function is cheap on purpose (about a millisecond), so the difference is what keeping costs per run.

Why the reference syncs once: results on disk at return cost one fdatasync (3–5 ms), more than a
never-syncing loop's whole keeping cost (~3 µs a run, ~2 ms for 600 runs), so against that loop a
store that syncs could at best tie, whatever it did. The loop is given the same guarantee and
nothing more: its lines flushed as before, one fsync at the end. The first row's note also gives
the ratio against the loop without the fsync, timed in the same rounds, so nothing is hidden.

The note gives the ratio of each round, the CPU the store adds per run and the wall time of a
one-run sweep (its fixed cost). With a worker process per core, map_grid runs the same grid on all
cores; that row is the store's speed-up. Also timed: resuming a finished grid (nothing runs)
against the loop running it again. The sides are timed in turn, `repeats` rounds, the fastest of
each kept (on a shared machine the minimum is the least disturbed measurement).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from . import BenchRow, register, timed


def _work(point: dict) -> dict:
    """A little real work (about a millisecond), so the ratio means something."""
    total = 0.0
    for i in range(20_000):
        total += (i % 7) * point["x"]
    return {"y": total}


def _keeping_loop(points: list[dict], path: Path, sync: bool = True) -> list[dict]:
    """The naive sweep: run each point and append its result to a JSON-lines file, flushed; with
    `sync`, one fsync of the file at the end (its results on disk on return)."""
    out = []
    with open(path, "a") as f:
        for p in points:
            res = _work(p)
            f.write(json.dumps({"point": p, "result": res}) + "\n")
            f.flush()
            out.append(res)
        if sync:
            os.fsync(f.fileno())
    return out


@register(
    "sweep-store", "map_grid with a SQLite run store vs a loop keeping each result in a synced file"
)
def bench_sweep_store(quick: bool) -> list[BenchRow]:
    from ..sweep import map_grid
    from ..toy.threads import cores

    n, repeats = (600, 3) if quick else (3000, 3)
    workers = cores()
    points = [{"x": i} for i in range(n)]
    plain = [_work(p) for p in points]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    wall: dict[str, list[float]] = {"keeping": [], "no sync": [], "store": [], "pool": [],
                                    "one run": []}  # fmt: skip
    cpu: dict[str, list[float]] = {"keeping": [], "no sync": [], "store": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for r in range(repeats):  # in turn, so a burst of load hits every side alike
            for side, run in (
                ("keeping", lambda r=r: _keeping_loop(points, folder / f"loop{r}.jsonl")),
                ("no sync", lambda r=r: _keeping_loop(points, folder / f"nosync{r}.jsonl", False)),
                ("store", lambda r=r: map_grid(_work, points, store=folder / f"runs{r}.db",
                                               progress=False)),
            ):  # fmt: skip
                w, c, value = timed(run)
                assert value == plain
                wall[side].append(w)
                cpu[side].append(c)
            wall["one run"].append(
                timed(
                    lambda r=r: map_grid(_work, points[:1], store=folder / f"one{r}.db",
                                         progress=False)
                )[0]
            )  # fmt: skip
            if workers > 1:
                w, _, value = timed(
                    lambda r=r: map_grid(_work, points, store=folder / f"pool{r}.db",
                                         progress=False, workers=workers)
                )  # fmt: skip
                assert value == plain
                wall["pool"].append(w)
        resumed = [
            timed(lambda: map_grid(_work, points, store=folder / "runs0.db", progress=False))
            for _ in range(repeats)
        ]
        assert all(value == plain for _, _, value in resumed)
        t_resume = min(w for w, _, _ in resumed)
    t_keep, t_store, t_bare = min(wall["keeping"]), min(wall["store"]), min(wall["no sync"])

    def rounds(ref: str) -> str:
        return ", ".join(f"{k / s:.2f}" for k, s in zip(wall[ref], wall["store"], strict=True))

    extra_us = 1e6 * (min(cpu["store"]) - min(cpu["keeping"])) / n
    rows = [
        BenchRow(
            "sweep-store",
            f"{n} runs, stored, one process",
            t_store,
            t_keep,
            note=f"vs a loop appending each result to a file, flushed, and fsyncing it once at the "
            f"end (on disk on return, as the store): rounds {rounds('keeping')}; vs the same loop "
            f"without the fsync {t_bare / t_store:.2f}× (rounds {rounds('no sync')}; a store "
            f"that syncs can at best tie it); {extra_us:.0f} µs CPU per run over the synced loop; "
            f"a one-run sweep {1000 * min(wall['one run']):.0f} ms (a new store and its 6 syncs); "
            f"1-min load before {load:.1f}",
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
                "batches as they come back; the synced loop has one core",
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
