"""Command line: `superpose train | experiments | reproduce | …` — a thin face over the library.

One module per command group, parsing and printing only; the work is done by the library. Nothing
here imports torch at import time, so `superpose --help` is quick.
"""

from __future__ import annotations

import sys

import typer

from ..base.errors import SuperposeError
from . import bench, build, experiments, report, runs, score, sweep, train
from ._common import console

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
app.command()(experiments.reproduce)
app.command()(bench.bench)
app.command()(build.build)
app.command()(score.score)
app.command("sweep")(sweep.sweep)
app.command("report")(report.report)
app.add_typer(runs.runs_app, name="runs")


def main() -> None:
    """Entry point: bad input ends in one line on stderr, never a traceback."""
    try:
        code = app(standalone_mode=False)  # typer.Exit(n) comes back as n here
    except SuperposeError as err:
        console.print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted; finished results were kept")
        sys.exit(130)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as err:  # click usage errors and the like
        import click

        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(err.exit_code)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
