"""`superpose experiments` and `superpose reproduce`: list and run the registered experiments."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ._common import DeviceOpt, ProgressOpt, console, print_table

if TYPE_CHECKING:
    from ..experiments import Experiment


def experiments() -> None:
    """List the registered experiments with the CPU seconds each form took (one core each)."""
    from ..experiments import registry

    table = Table("name", "title", "quick (CPU s)", "full (CPU s)")
    for name, exp in registry().items():
        table.add_row(name, exp.title, f"{exp.quick_seconds:g}", f"{exp.full_seconds:g}")
    print_table(table)


def _cores() -> int:
    from ..toy.threads import cores

    return cores()


def reproduce(
    quick: Annotated[
        bool, typer.Option("--quick/--full", help="Quick forms (minutes) or the paper's scale.")
    ] = True,
    only: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME…",
            help="Run only these experiments: --only a b, or --only a --only b "
            "(names: `superpose experiments`).",
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            help="Report folder (index.html + one folder each): new, or a previous report's "
            "(anything else in it is refused before running)."
        ),
    ] = Path("report"),
    resume: Annotated[
        bool,
        typer.Option(help="Skip experiments already finished in OUT with the same config."),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Experiments run at once, each in its own worker process (longest first); "
            "default: the CPU cores available. Every experiment runs PyTorch on one thread "
            "whatever --jobs is (the last digits of a parallel sum depend on the thread count), "
            "so results and report are the same bytes as with --jobs 1 (one after another in "
            "this process), run times aside. An experiment that runs alone may run its "
            "independent parts (scaling-law's widths) in up to this many processes, again one "
            "PyTorch thread each.",
        ),
    ] = None,
    device: DeviceOpt = "auto",
    progress: ProgressOpt = True,
) -> None:
    """Run registered experiments and write an HTML report with figures and checked claims.

    With several cores the experiments run in parallel worker processes (--jobs); Ctrl-C or a kill
    stops them all, and finished experiments are kept (--resume skips them next time).
    """
    from ..base.device import resolve_device
    from ..base.files import check_out_folder
    from ..experiments import get_experiment, registry
    from ..plots.interactive import ASSETS
    from ..report import read_record, render

    names = list(dict.fromkeys(only)) if only else list(registry())  # each once, in order
    exps = [get_experiment(n) for n in names]
    dev = resolve_device(device)
    check_out_folder(out, {"index.html", ASSETS, *registry()}, folders={ASSETS, *registry()})
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    todo: list[tuple[int, Experiment]] = []
    for i, exp in enumerate(exps, 1):
        prior = out / exp.name / "result.json"
        if resume and prior.is_file():
            rec = read_record(prior)
            if rec is None:
                console.print(f"{prior}: unreadable, running {exp.name} again", markup=False)
            elif rec.get("status") == "ok" and rec.get("config_hash") == (
                exp.config(quick).config_hash()
            ):
                console.print(f"[{i}/{len(exps)}] {exp.name}: done before, kept", markup=False)
                continue
        todo.append((i, exp))
    jobs = jobs or _cores()
    workers = min(jobs, len(todo))
    if workers > 1:
        records = _run_parallel(todo, len(exps), out, quick, str(dev), workers)
    else:
        records = list(_run_here(todo, len(exps), out, quick, dev, progress, jobs))
    failed = sum(rec["status"] != "ok" for rec in records)
    index = render(out)
    console.print(f"report: {index} ({time.perf_counter() - start:.0f} s)", markup=False)
    if failed:
        raise typer.Exit(1)


def _outcome(rec: dict) -> None:
    """One line: claims held, or the error."""
    if rec["status"] != "ok":
        console.print(f"  failed: {rec['error']}", markup=False, style="red")
    else:
        held = sum(c["passed"] for c in rec["claims"])
        console.print(
            f"  {held}/{len(rec['claims'])} claims hold ({rec['seconds']:.1f} s, "
            f"{rec['cpu_seconds']:.1f} s CPU)"
        )


def _run_here(
    todo: list[tuple[int, Experiment]],
    total: int,
    out: Path,
    quick: bool,
    dev,
    progress: bool,
    parts: int,
) -> Iterator[dict]:
    """One experiment after another in this process, PyTorch on one thread as in a worker (an
    experiment with independent parts may run them in `parts` processes); the report after
    each."""
    from ..experiments import RunContext, run_experiment
    from ..report import render
    from ..toy.threads import torch_threads

    for i, exp in todo:
        console.print(f"[{i}/{total}] {exp.name} ({'quick' if quick else 'full'}) …", markup=False)
        ctx = RunContext(out / exp.name, quick=quick, device=dev, progress=progress, workers=parts)
        with torch_threads(1):
            rec = run_experiment(exp, ctx, exp.config(quick))
        _outcome(rec)
        render(out)  # after each experiment, so partial results are always viewable
        yield rec


def _run_parallel(
    todo: list[tuple[int, Experiment]], total: int, out: Path, quick: bool, dev: str, workers: int
) -> list[dict]:
    """Experiments in `workers` processes, the longest expected first (the shortest total time);
    a line as each starts and ends, the report after each; records in `todo`'s order."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    from ..base.errors import SuperposeError
    from ..experiments.base import run_named
    from ..report import render
    from ..sweep.worker import spawn_pool

    console.print(
        f"{len(todo)} experiments in {workers} worker processes (one PyTorch thread each), "
        "longest first",
        markup=False,
    )
    queue = sorted(todo, key=lambda t: t[1].quick_seconds if quick else t[1].full_seconds)
    records: dict[int, dict] = {}
    pending: dict = {}
    kind = "quick" if quick else "full"
    with spawn_pool(workers) as pool:
        while queue or pending:
            while queue and len(pending) < workers:
                i, exp = queue.pop()
                console.print(f"[{i}/{total}] {exp.name} ({kind}) … started", markup=False)
                fut = pool.submit(run_named, exp.name, str(out / exp.name), quick, dev)
                pending[fut] = (i, exp)
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                i, exp = pending.pop(fut)
                try:
                    rec = fut.result()
                except BrokenProcessPool:
                    raise SuperposeError(
                        f"the worker process running {exp.name} died (out of memory or killed); "
                        "finished experiments were kept (--resume skips them)"
                    ) from None
                records[i] = rec
                console.print(
                    f"[{i}/{total}] {exp.name} done ({len(records)} of {len(todo)} finished)",
                    markup=False,
                )
                _outcome(rec)
                render(out)  # after each experiment, so partial results are always viewable
    return [records[i] for i, _ in todo]
