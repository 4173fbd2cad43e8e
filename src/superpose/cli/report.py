"""`superpose report --store FILE`: render a sweep's results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import console


def report(
    store: Annotated[Path, typer.Option(help="Run store to render (made by `superpose sweep`).")],
    out: Annotated[Path, typer.Option(help="Folder for index.html and figures.")] = Path(
        "sweep-report"
    ),
) -> None:
    """Render a sweep's results: an interactive explorer (pick two axes and a metric; hover a cell
    for its runs, click for links to their artifacts), static heat-maps or lines, a table of runs.
    Works offline: open OUT/index.html in a browser."""
    from ..report import render_sweep

    index = render_sweep(store, out)
    console.print(f"report: {index}", markup=False)
