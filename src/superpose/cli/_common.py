"""What every command shares: the stderr console, tables on stdout, common options."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)


def print_table(table: Table) -> None:
    """Tables on stdout; wide enough to read when piped to a file (rich assumes 80 columns)."""
    out = Console()
    if not out.is_terminal:
        out = Console(width=160)
    out.print(table)


DeviceOpt = Annotated[
    str, typer.Option(help="Device: auto (CUDA when present, else CPU), cpu, cuda or cuda:N.")
]
ProgressOpt = Annotated[bool, typer.Option(help="Show progress bars.")]
