"""Run a function over grid points. This is the one code path every grid in superpose goes through.

`map_grid` (the in-library face) and `superpose sweep SPEC` (the command-line face) both end in
`run_tasks`: plan the grid into the run store, skip what the store already holds, run the rest
serially, on a local process pool or on Ray, and commit finished runs as they arrive (in batches of
at most 0.2 s: `store.COMMIT_SECONDS`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..base.errors import SuperposeError
from ..store import Outcome, encode, plain
from .worker import execute

Point = dict[str, Any]
EXECUTORS = ("local", "ray")


class GridError(SuperposeError):
    """Some grid points failed (their errors are in the store, when there is one)."""


@dataclass(frozen=True)
class Task:
    """One run of a grid: its key (config hash), axis values, and what the function receives."""

    key: str
    point: Point
    payload: Point
    text: str | None = field(default=None, compare=False)  # encode(point), payload is point


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class GridOutcome:
    """What `run_tasks` did: per-task results (None for failures) and the counts."""

    results: list[dict[str, Any] | None]
    errors: dict[str, str] = field(default_factory=dict)  # key → error text
    ran: int = 0
    reused: int = 0


def point_key(value: Any) -> str:
    """Stable 16-hex hash of a JSON-able value (the identity of a grid point)."""
    return _digest(encode(value))


def fn_name(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def fn_code(fn: Callable[..., Any]) -> str:
    """A hash of `fn`'s source (its bytecode when it has none), kept with a store's sweep so that
    resuming after an edit of `fn` says the stored results came from the code before."""
    try:
        text = inspect.getsource(fn).encode()
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        text = code.co_code if code is not None else repr(fn).encode()
    return hashlib.sha256(text).hexdigest()[:16]


def map_grid(
    fn: Callable[[Point], dict[str, Any]],
    points: Sequence[Point],
    *,
    workers: int = 1,
    store: str | Path | None = None,
    progress: bool = True,
    description: str = "grid",
    executor: str = "local",
    retry_failed: bool = False,
) -> list[dict[str, Any]]:
    """`[fn(p) for p in points]`, in order.

    `fn` must be a module-level function (so a worker process can import it) taking a point of JSON
    values and returning a dict of JSON values or tensors. `workers` > 1 runs points in parallel
    (spawned processes, one torch thread each; `executor="ray"` runs them on Ray); with `store`,
    finished points are committed to a run store and reused when the grid is run again. If any
    point fails, the others still run (and are stored) and a `GridError` names the first failure.
    """
    points = list(points)  # once, whatever iterable it is
    odd = next((i for i, p in enumerate(points) if not isinstance(p, Mapping)), None)
    if odd is not None:
        raise SuperposeError(
            f"map_grid: each point must be a dict of JSON values (what fn receives), point "
            f"{odd} is of type {type(points[odd]).__name__}"
        )
    tasks = [Task(_digest(t), q, q, t) for p in points for q in [dict(p)] for t in [encode(q)]]
    keys = sorted({t.key for t in tasks})
    sweep_id = point_key({"fn": fn_name(fn), "keys": keys})
    info = {
        "description": description,
        "kind": "map_grid",
        "fn": fn_name(fn),
        "fn_code": fn_code(fn),
    }
    out = run_tasks(
        fn,
        tasks,
        workers=workers,
        store=store,
        executor=executor,
        progress=progress,
        description=description,
        sweep_id=sweep_id,
        sweep_info=info,
        retry_failed=retry_failed,
    )
    if out.errors:
        first = next(iter(out.errors.values())).splitlines()[0]
        raise GridError(
            f"{description}: {len(out.errors)} of {len(keys)} points failed; first: {first}"
        )
    return [r for r in out.results if r is not None]


def clamp_workers(workers: int) -> int:
    """At most one local worker per core this process may use (more only add memory and
    contention); says so in one line when it lowers the number."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    if workers > cores:
        sys.stderr.write(f"note: {workers} workers asked for, {cores} cores here; using {cores}\n")
        return cores
    return workers


def _unique(tasks: Sequence[Task]) -> list[Task]:
    seen: dict[str, Task] = {}
    for t in tasks:
        seen.setdefault(t.key, t)
    return list(seen.values())


def run_tasks(
    fn: Callable[[Point], dict[str, Any]],
    tasks: Sequence[Task],
    *,
    workers: int = 1,
    store: str | Path | None = None,
    executor: str = "local",
    progress: bool = True,
    description: str = "grid",
    sweep_id: str | None = None,
    sweep_info: dict[str, Any] | None = None,
    retry_failed: bool = False,
    keep_bar: bool = False,
) -> GridOutcome:
    """The engine: run `fn` on every task's payload, resuming from and committing to `store`."""
    from ..base.serial import from_jsonable
    from ..store import RunStore, artifacts_dir

    if executor not in EXECUTORS:
        raise SuperposeError(f"executor {executor!r} is not known (use one of: local, ray)")
    if not isinstance(workers, int) or not 1 <= workers <= 1024:
        raise SuperposeError(f"workers must be an integer in 1..1024 (got {workers!r})")
    if executor == "local":
        workers = clamp_workers(workers)
    unique = _unique(tasks)
    done: dict[str, dict[str, Any] | None] = {}
    errors: dict[str, str] = {}
    db = None
    if store is not None:  # a new store is made by its store thread while the first runs go
        db = RunStore(store, writer=True, create=True, later=True)
    ok = False
    try:
        todo = unique
        art_root = None
        if db is not None:
            sid, info = sweep_id or point_key([t.key for t in unique]), sweep_info or {}
            planned = [(t.key, i, t.point, t.payload) for i, t in enumerate(unique)]
            art_root = artifacts_dir(db.real)
        if db is not None and db.new:  # nothing to resume: claim and plan in the store thread
            texts = [t.text for t in unique]
            known = all(t.text is not None and t.payload is t.point for t in unique)
            db.start(lambda: (db.claim(sid, info), db.plan(planned, texts if known else None)))
        elif db is not None:
            db.claim(sid, info)
            made_by = db.meta().get("fn_code")
            if made_by and info.get("fn_code", made_by) != made_by:  # reused, but not silently
                sys.stderr.write(
                    f"note: {store}: {info.get('fn')} changed since its stored runs were made; "
                    "their results are reused as they are (a new store runs them again)\n"
                )
            db.plan(planned)
            prior = {r.key: r for status in ("ok", "error") for r in db.runs(status)}
            todo = []
            for t in unique:
                r = prior.get(t.key)
                if r is not None and r.status == "ok":
                    done[t.key] = from_jsonable(r.metrics)
                elif r is not None and r.status == "error" and not retry_failed:
                    errors[t.key] = r.error or "error"
                else:
                    todo.append(t)
            db.start()
        reused = len(unique) - len(todo)
        left_over = set(os.listdir(art_root)) if art_root and art_root.is_dir() else set()
        root = None if art_root is None else os.path.join(art_root, "")  # a run's: root + key
        jobs = []
        for t in todo:
            art = None
            if root is not None:
                art = root + t.key
                if t.key in left_over:  # files of a run cut short
                    shutil.rmtree(art, ignore_errors=True)
            jobs.append((t.key, t.payload, art))
        bar = _progress_bar(progress, keep_bar)
        with bar:
            task_id = bar.add_task(
                description,
                total=len(unique),
                completed=reused,
                failed=len(errors),
                left=len(todo),
            )
            left = len(todo)
            for key, res in _dispatch(executor, fn, jobs, workers):
                stored = None
                if res.status != "ok":
                    errors[key] = res.error or "error"
                elif db is None or plain(res.metrics):  # `plain` metrics read back equal
                    done[key] = res.metrics
                else:  # as the store gives it back
                    stored = encode(res.metrics)
                    done[key] = from_jsonable(json.loads(stored))
                if db is not None:
                    db.submit(key, res, stored)
                left -= 1
                if progress:
                    bar.update(task_id, advance=1, failed=len(errors), left=left)
        ok = True
    finally:
        if db is not None:
            db.close(check=ok)
    return GridOutcome(
        results=[done.get(t.key) for t in tasks], errors=errors, ran=len(todo), reused=reused
    )


def _progress_bar(enabled: bool, keep: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} failed[/red], {task.fields[left]} left"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=not keep,
        console=Console(stderr=True),  # a bar is not output: stdout stays the caller's
    )


Job = tuple[str, Point, str | None]


def _dispatch(
    executor: str, fn: Callable[[Point], Any], jobs: list[Job], workers: int
) -> Iterator[tuple[str, Outcome]]:
    if not jobs:
        return iter(())
    if executor == "ray":
        from .ray_executor import run_ray

        return run_ray(fn, jobs, workers)
    if workers == 1:
        return _run_serial(fn, jobs)
    return _run_pool(fn, jobs, workers)


def _run_serial(fn: Callable[[Point], Any], jobs: list[Job]) -> Iterator[tuple[str, Outcome]]:
    for key, payload, art in jobs:
        yield key, execute(fn, payload, art)


# work per batch of runs sent to a pool worker at once: short runs go in batches so the hand-over
# (pickling, a pipe, waking two processes) is paid once per ~this many seconds, not once per run;
# a run this long or longer goes alone. A crash loses the batches in flight, as it loses the runs
# in flight: about the same seconds of work as one run each.
BATCH_SECONDS = 0.02
MAX_BATCH = 64


def _run_pool(
    fn: Callable[[Point], Any], jobs: list[Job], workers: int
) -> Iterator[tuple[str, Outcome]]:
    """Spawned local processes, one torch thread each; with GPUs, one device per worker. Runs go
    out one at a time until their time is known, then in batches of about BATCH_SECONDS."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    from .worker import execute_batch, spawn_pool

    pending: dict[Any, list[str]] = {}
    queue = list(reversed(jobs))
    batch, timed, total = 1, 0, 0.0
    with spawn_pool(min(workers, len(jobs))) as pool:
        while queue or pending:
            while queue and len(pending) < 2 * workers:  # bounded: a crash loses little
                part = [queue.pop() for _ in range(min(batch, len(queue)))]
                pending[pool.submit(execute_batch, fn, part)] = [key for key, _, _ in part]
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                keys = pending.pop(fut)
                try:
                    results = fut.result()
                except BrokenProcessPool:
                    raise SuperposeError(
                        "a sweep worker process died (out of memory or killed); finished runs "
                        "were kept, rerun the same command to continue"
                    ) from None
                for key, res in zip(keys, results, strict=True):
                    timed, total = timed + 1, total + (res.seconds or 0.0)
                    yield key, res
            batch = max(1, min(MAX_BATCH, int(BATCH_SECONDS * timed / max(total, 1e-9))))
