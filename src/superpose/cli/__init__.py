"""Command line: `superpose train | experiments | reproduce | …` — a thin face over the library.

One module per command group, parsing and printing only; the work is done by the library. Nothing
here imports torch at import time, so `superpose --help` is quick.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from . import bench, build, compile, experiments, report, runs, score, sweep, train, zoo
from ._common import console
from ._lists import ListCommand

app = typer.Typer(
    name="superpose",
    help="Computation in superposition: train toy models, build circuits in superposition, "
    "reproduce the papers' results with checked claims.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def version_line() -> str:
    """superpose's version beside Python's and the installed torch's and numpy's (read from the
    package metadata, so torch is not imported): what a bug report or a saved result needs."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from ..base.version import __version__

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return (
        f"superpose {__version__} (Python {platform.python_version()}, torch {installed('torch')}, "
        f"numpy {installed('numpy')})"
    )


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_line())  # stdout, as --version conventionally prints
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print superpose's version and those of Python, torch and numpy, then exit.",
        ),
    ] = False,
) -> None:
    pass


app.command()(train.train)
app.command()(experiments.experiments)
app.command(cls=ListCommand)(experiments.reproduce)  # --only a b
app.command(cls=ListCommand)(bench.bench)
app.command()(build.build)
app.command("compile")(compile.compile_)
app.command()(score.score)
app.command("sweep")(sweep.sweep)
app.command("report")(report.report)
app.add_typer(runs.runs_app, name="runs")
app.add_typer(zoo.zoo_app, name="zoo")


def print_error(text: str) -> None:
    """One line on stderr; the text is never read as rich markup."""
    from rich.text import Text

    console.print(Text.assemble(("error: ", "red"), text), highlight=False, soft_wrap=True)


def main() -> None:
    """Entry point: any failure ends in one line on stderr (base.failure), never a traceback."""
    import os

    from ..base.failure import TRACEBACK_ENV, one_line

    try:
        code = app(standalone_mode=False)  # typer.Exit(n) comes back as n here
    except KeyboardInterrupt:
        console.print("interrupted; finished results were kept")
        sys.exit(130)
    except Exception as err:
        if os.environ.get(TRACEBACK_ENV):
            raise
        text, code = one_line(err)
        if text is not None:
            print_error(text)
        sys.exit(code)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
