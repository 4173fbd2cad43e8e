"""`superpose bench`: time superpose against naive references in the same run; print the ratios."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._common import console, print_table


def bench(
    only: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME…",
            help="Run only these benchmarks: --only a b, or --only a --only b (names: the first "
            "column of the table, e.g. toy-train, sweep-store; an unknown name lists them all).",
        ),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick/--full",
            help="Small sizes (a minute or two) or full sizes (toy-train alone trains two "
            "whole 10,000-step runs: about 12 minutes on 2 cores).",
        ),
    ] = True,
    out: Annotated[
        Path | None, typer.Option(help="Also write the rows as JSON to this file.")
    ] = None,
) -> None:
    """Time superpose against a naive reference on the same work, in this run; print the ratios."""
    import json

    from ..base.errors import SuperposeError
    from ..base.files import atomic_write
    from ..bench import registry, run_benchmarks

    if not registry():
        console.print("no benchmarks registered")
        return
    if out is not None:  # checked before the work: a bad --out must not cost a benchmark run
        if out.is_dir():
            raise SuperposeError(f"{out}: --out must be a file, not a folder")
        try:
            out.absolute().parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise SuperposeError(
                f"{out}: cannot make folder {out.parent} ({err.strerror})"
            ) from None
    rows = run_benchmarks(list(dict.fromkeys(only)) if only else None, quick=quick)
    table = Table("benchmark", "task", "superpose (s)", "reference (s)", "speed-up", "note")
    for r in rows:
        ref = "—" if r.reference_s is None else f"{r.reference_s:.3g}"
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}×"
        table.add_row(r.bench, r.task, f"{r.ours_s:.3g}", ref, ratio, r.note)
    print_table(table)
    if out is not None:
        atomic_write(out, json.dumps([r.to_dict() for r in rows], indent=2))
