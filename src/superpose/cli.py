"""Command line: `superpose train | experiments | reproduce | …` — a thin face over the library."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .base.errors import SuperposeError

app = typer.Typer(
    name="superpose",
    help="Computation in superposition: train toy models, build circuits in superposition, "
    "reproduce the papers' results with checked claims.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)


def _print_table(table: Table) -> None:
    """Tables on stdout; wide enough to read when piped to a file (rich assumes 80 columns)."""
    out = Console()
    if not out.is_terminal:
        out = Console(width=160)
    out.print(table)


DeviceOpt = Annotated[
    str, typer.Option(help="Device: auto (CUDA when present, else CPU), cpu, cuda or cuda:N.")
]
ProgressOpt = Annotated[bool, typer.Option(help="Show progress bars.")]


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="Toy-model config YAML (see configs/).")],
    out: Annotated[Path, typer.Option(help="Folder to write config, weights and metrics into.")],
    device: Annotated[
        str | None, typer.Option(help="Override the config's device (auto, cpu, cuda, cuda:N).")
    ] = None,
    progress: ProgressOpt = True,
) -> None:
    """Train a batch of toy models from CONFIG and save them to OUT."""
    from .base.config import load_yaml
    from .toy.config import ToyConfig
    from .toy.io import save_trained
    from .toy.train import train as train_models

    cfg = load_yaml(ToyConfig, config)
    if device is not None:
        cfg = cfg.replace(device=device)
    result = train_models(cfg, progress=progress)
    save_trained(result, out)
    losses = ", ".join(f"{v:.4g}" for v in result.final_loss.tolist()[:10])
    console.print(f"trained {cfg.instances} instance(s) in {result.seconds:.1f} s; loss {losses}")
    console.print(f"saved to {out}")


@app.command()
def experiments() -> None:
    """List the registered experiments with their expected run times."""
    from .experiments import registry

    table = Table("name", "title", "quick (s)", "full (s)")
    for name, exp in registry().items():
        table.add_row(name, exp.title, f"{exp.quick_seconds:g}", f"{exp.full_seconds:g}")
    _print_table(table)


@app.command()
def reproduce(
    quick: Annotated[
        bool, typer.Option("--quick/--full", help="Quick forms (minutes) or the paper's scale.")
    ] = True,
    only: Annotated[
        list[str] | None, typer.Option(help="Run only this experiment (repeatable).")
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
    import json

    from .base.device import resolve_device
    from .experiments import RunContext, get_experiment, registry, run_experiment
    from .report import render

    names = list(only) if only else list(registry())
    exps = [get_experiment(n) for n in names]
    dev = resolve_device(device)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    failed = 0
    for i, exp in enumerate(exps, 1):
        folder = out / exp.name
        prior = folder / "result.json"
        cfg = exp.config(quick)
        if resume and prior.is_file():
            rec = json.loads(prior.read_text())
            if rec.get("status") == "ok" and rec.get("config_hash") == cfg.config_hash():
                console.print(f"[{i}/{len(exps)}] {exp.name}: done before, kept")
                continue
        console.print(f"[{i}/{len(exps)}] {exp.name} ({'quick' if quick else 'full'}) …")
        ctx = RunContext(folder, quick=quick, device=dev, progress=progress)
        rec = run_experiment(exp, ctx, cfg)
        if rec["status"] != "ok":
            failed += 1
            console.print(f"  [red]failed[/red]: {rec['error']}")
        else:
            held = sum(c["passed"] for c in rec["claims"])
            console.print(f"  {held}/{len(rec['claims'])} claims hold ({rec['seconds']:.1f} s)")
        render(out)  # after each experiment, so partial results are always viewable
    index = render(out)
    console.print(f"report: {index} ({time.perf_counter() - start:.0f} s)")
    if failed:
        raise typer.Exit(1)


@app.command()
def bench(
    only: Annotated[
        list[str] | None, typer.Option(help="Run only this benchmark (repeatable).")
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

    from .bench import registry, run_benchmarks

    if not registry():
        console.print("no benchmarks registered")
        return
    rows = run_benchmarks(list(only) if only else None, quick=quick)
    table = Table("benchmark", "task", "superpose (s)", "reference (s)", "speed-up", "note")
    for r in rows:
        ref = "—" if r.reference_s is None else f"{r.reference_s:.3g}"
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}×"
        table.add_row(r.bench, r.task, f"{r.ours_s:.3g}", ref, ratio, r.note)
    _print_table(table)
    if out is not None:
        out.write_text(json.dumps([r.to_dict() for r in rows], indent=2))


# Command groups that live beside the code they drive.
from .circuits.boolean_cli import app as _uand_app  # noqa: E402
from .circuits.cli import app as _cis_app  # noqa: E402
from .sweep.cli import report as _report_cmd  # noqa: E402
from .sweep.cli import runs_app as _runs_app  # noqa: E402
from .sweep.cli import sweep as _sweep_cmd  # noqa: E402

app.command("sweep")(_sweep_cmd)
app.command("report")(_report_cmd)
app.add_typer(_runs_app, name="runs")
app.add_typer(_cis_app, name="cis")
app.add_typer(_uand_app, name="uand")


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
