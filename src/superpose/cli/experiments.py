"""`superpose experiments` and `superpose reproduce`: list and run the registered experiments."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._common import DeviceOpt, ProgressOpt, console, print_table


def experiments() -> None:
    """List the registered experiments with their expected run times."""
    from ..experiments import registry

    table = Table("name", "title", "quick (s)", "full (s)")
    for name, exp in registry().items():
        table.add_row(name, exp.title, f"{exp.quick_seconds:g}", f"{exp.full_seconds:g}")
    print_table(table)


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
    out: Annotated[Path, typer.Option(help="Report folder (index.html + one folder each).")] = Path(
        "report"
    ),
    resume: Annotated[
        bool,
        typer.Option(help="Skip experiments already finished in OUT with the same config."),
    ] = False,
    device: DeviceOpt = "auto",
    progress: ProgressOpt = True,
) -> None:
    """Run registered experiments and write an HTML report with figures and checked claims."""
    from ..base.device import resolve_device
    from ..base.errors import SuperposeError
    from ..experiments import RunContext, get_experiment, registry, run_experiment
    from ..report import read_record, render

    names = list(only) if only else list(registry())
    exps = [get_experiment(n) for n in names]
    dev = resolve_device(device)
    if out.exists() and not out.is_dir():
        raise SuperposeError(f"{out}: exists and is not a folder (--out needs a folder)")
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    failed = 0
    for i, exp in enumerate(exps, 1):
        folder = out / exp.name
        prior = folder / "result.json"
        cfg = exp.config(quick)
        if resume and prior.is_file():
            rec = read_record(prior)
            if rec is None:
                console.print(f"{prior}: unreadable, running {exp.name} again", markup=False)
            elif rec.get("status") == "ok" and rec.get("config_hash") == cfg.config_hash():
                console.print(f"[{i}/{len(exps)}] {exp.name}: done before, kept", markup=False)
                continue
        console.print(
            f"[{i}/{len(exps)}] {exp.name} ({'quick' if quick else 'full'}) …", markup=False
        )
        ctx = RunContext(folder, quick=quick, device=dev, progress=progress)
        rec = run_experiment(exp, ctx, cfg)
        if rec["status"] != "ok":
            failed += 1
            console.print(f"  failed: {rec['error']}", markup=False, style="red")
        else:
            held = sum(c["passed"] for c in rec["claims"])
            console.print(f"  {held}/{len(rec['claims'])} claims hold ({rec['seconds']:.1f} s)")
        render(out)  # after each experiment, so partial results are always viewable
    index = render(out)
    console.print(f"report: {index} ({time.perf_counter() - start:.0f} s)", markup=False)
    if failed:
        raise typer.Exit(1)
