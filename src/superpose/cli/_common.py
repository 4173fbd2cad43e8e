"""What every command shares: the stderr console, tables on stdout, common options."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..base.errors import SuperposeError

console = Console(stderr=True)


def print_table(table: Table) -> None:
    """Tables on stdout; wide enough to read when piped to a file (rich assumes 80 columns)."""
    out = Console()
    if not out.is_terminal:
        out = Console(width=160)
    out.print(table)


@contextmanager
def about(config: Path) -> Iterator[None]:
    """Errors of the work a config file asked for name that file (unless they already do)."""
    try:
        yield
    except SuperposeError as err:
        if str(err).startswith(str(config)):
            raise
        raise SuperposeError(f"{config}: {err}") from None


def device_value(value: str | None) -> str | None:
    """--device checked where it is given: auto, cpu, cuda or cuda:N."""
    if value is not None and not re.fullmatch(r"auto|cpu|cuda(:\d{1,3})?", value):
        raise typer.BadParameter(f"must be auto, cpu, cuda or cuda:N (got {value!r})")
    return value


DeviceOpt = Annotated[
    str,
    typer.Option(
        callback=device_value,
        help="Device: auto (CUDA when present, else CPU), cpu, cuda or cuda:N.",
    ),
]
ProgressOpt = Annotated[bool, typer.Option(help="Show progress bars.")]
