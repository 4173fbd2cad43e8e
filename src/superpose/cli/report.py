"""`superpose report --store FILE`: render a sweep's results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import console


def report(
    store: Annotated[Path, typer.Option(help="Run store to render (made by `superpose sweep`).")],
    out: Annotated[
        Path,
        typer.Option(
            help="Folder for index.html and figures: new, or a previous sweep report's (anything "
            "else in it is refused before rendering)."
        ),
    ] = Path("sweep-report"),
) -> None:
    """Render a sweep's results: an interactive explorer (pick two axes and a metric; hover a cell
    for its runs, click for links to their artifacts), static heat-maps or lines, a table of runs.
    Works offline: open OUT/index.html in a browser."""
    from ..base.files import check_out_folder
    from ..plots.interactive import ASSETS
    from ..report import render_sweep

    check_out_folder(out, {"index.html", "figures", ASSETS}, folders={"figures", ASSETS})
    index = render_sweep(store, out)
    console.print(f"report: {index}", markup=False)
