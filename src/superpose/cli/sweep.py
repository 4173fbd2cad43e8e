"""`superpose sweep SPEC --store FILE`: run every point of a sweep spec into a run store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import console


def sweep(
    spec: Annotated[Path, typer.Argument(help="Sweep spec YAML (see configs/sweep-*.yaml).")],
    store: Annotated[
        Path, typer.Option(help="Run store file (SQLite); made, with its folders, if absent.")
    ],
    executor: Annotated[str, typer.Option(help="local (process pool) or ray.")] = "local",
    workers: Annotated[
        int, typer.Option(min=1, max=1024, help="Runs in parallel (processes or Ray tasks).")
    ] = 1,
    retry_failed: Annotated[
        bool, typer.Option(help="Run again the runs that failed before (default: keep errors).")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show the progress bar.")] = True,
) -> None:
    """Run every point of SPEC into STORE; rerunning the same command finishes only what is left."""
    from ..sweep.driver import run_tasks
    from ..sweep.runners import run_point
    from ..sweep.spec import load_plan

    plan = load_plan(spec)
    n = len(plan.tasks)
    axes = ", ".join(f"{k}×{len(v)}" for k, v in plan.axes.items()) or "no axes"
    console.print(
        f"sweep {plan.spec.name!r}: {plan.target}, {axes} → {n} runs into {store}", markup=False
    )
    try:
        out = run_tasks(
            run_point,
            plan.tasks,
            workers=workers,
            store=store,
            executor=executor,
            progress=progress,
            description=plan.spec.name,
            sweep_id=plan.sweep_id,
            sweep_info=plan.info(),
            retry_failed=retry_failed,
            keep_bar=True,
        )
    except KeyboardInterrupt:
        console.print("interrupted: finished runs are stored; rerun the same command to go on")
        raise typer.Exit(130) from None
    ok = sum(r is not None for r in out.results)
    console.print(
        f"done: {ok} ok, {len(out.errors)} failed ({out.ran} run now, {out.reused} kept from before)"
    )
    for key, err in list(out.errors.items())[:3]:
        console.print(f"  {key}: {err.splitlines()[0]}", highlight=False, markup=False)
    if out.errors:
        raise typer.Exit(1)
