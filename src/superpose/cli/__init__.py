"""Command line: `superpose train | experiments | reproduce | …` — a thin face over the library.

One module per command group, parsing and printing only; the work is done by the library. Nothing
here imports torch at import time, so `superpose --help` is quick.
"""

from __future__ import annotations

import sys

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
