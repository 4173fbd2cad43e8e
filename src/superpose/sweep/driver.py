"""Run a function over grid points. This is the one code path every grid in superpose goes through."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

Point = dict[str, Any]


def map_grid(
    fn: Callable[[Point], dict[str, Any]],
    points: Sequence[Point],
    *,
    workers: int = 1,
    store: str | Path | None = None,
    progress: bool = True,
    description: str = "grid",
) -> list[dict[str, Any]]:
    """`[fn(p) for p in points]`, in order.

    `fn` must be a module-level function (so a worker process can import it) taking a point of JSON
    values and returning a dict of JSON values or tensors. `workers` > 1 runs points in parallel;
    with `store`, finished points are committed to a run store and reused when the grid is run again.
    """
    if workers != 1 or store is not None:
        raise NotImplementedError("parallel workers and run stores come with the sweep engine")
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=not progress,
        transient=True,
    )
    results = []
    with bar:
        task = bar.add_task(description, total=len(points))
        for point in points:
            results.append(fn(point))
            bar.advance(task)
    return results
