"""`superpose runs ls|show|export`: look into a run store."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..base.errors import SuperposeError
from ..base.files import atomic_write
from ._common import console
from ._lists import ListCommand

runs_app = typer.Typer(
    help="Look into a run store: list, show and export runs.", no_args_is_help=True
)

StoreArg = Annotated[Path, typer.Argument(help="Run store file (made by `superpose sweep`).")]


def _open(store: Path):
    from ..store import RunStore

    return RunStore(store)


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


@runs_app.command("ls", cls=ListCommand)
def runs_ls(
    store: StoreArg,
    status: Annotated[
        str | None, typer.Option(help="Only runs with this status: pending, ok or error.")
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME…",
            help="Metric columns to show: --metric a b, or --metric a --metric b "
            "(default: the first 4).",
        ),
    ] = None,
) -> None:
    """One line per run: index, key, status, axis values, metrics, seconds."""
    from ..store import STATUSES

    if status is not None and status not in STATUSES:
        raise SuperposeError(f"--status must be one of {', '.join(STATUSES)} (got {status!r})")
    with _open(store) as db:
        runs = db.runs(status)
        meta = db.meta()
        counts = db.counts()
    axes = meta.get("axes") or sorted({k for r in runs for k in r.point})
    seen: dict[str, None] = {}
    for r in runs:
        seen.update(dict.fromkeys(r.scalars()))
    names = list(metric) if metric else list(seen)[:4]
    unknown = [m for m in names if m not in seen]
    if unknown and seen:
        raise SuperposeError(
            f"--metric {unknown[0]!r} is not a metric here; known: {', '.join(seen)}"
        )
    title = meta.get("description")
    table = Table(title=None if title is None else Text(str(title)))
    for head in ("#", "key", "status", *axes, *names, "s"):
        table.add_column(Text(str(head)))
    for r in runs:
        sc = r.scalars()
        cells = (
            str(r.idx),
            r.key[:8],
            r.status,
            *(_fmt(r.point.get(a, "")) for a in axes),
            *(_fmt(sc[m]) if m in sc else "" for m in names),
            "" if r.seconds is None else f"{r.seconds:.1f}",
        )
        table.add_row(*(Text(c) for c in cells))  # store text is never read as markup
    Console().print(table)
    Console().print(", ".join(f"{n} {s}" for s, n in counts.items()), markup=False)


@runs_app.command("show")
def runs_show(
    store: StoreArg,
    run: Annotated[str, typer.Argument(help="Grid index or (prefix of) run key.")],
) -> None:
    """Everything stored about one run, as JSON."""
    with _open(store) as db:
        r = db.get(run)
    sys.stdout.write(json.dumps(r.to_dict(), indent=2) + "\n")


@runs_app.command("export")
def runs_export(
    store: StoreArg,
    out: Annotated[Path, typer.Option(help="File to write: .csv or .jsonl.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl (default: from OUT's suffix).")
    ] = None,
) -> None:
    """Write all runs to CSV (axes + scalar metrics, one row each) or JSON Lines (everything)."""
    suffix = out.suffix.lstrip(".").lower()
    fmt = fmt or suffix
    if fmt not in ("csv", "jsonl"):
        raise SuperposeError(
            f"--format must be csv or jsonl (got {fmt!r}; or name OUT *.csv/*.jsonl)"
        )
    if suffix in ("csv", "jsonl") and suffix != fmt:
        raise SuperposeError(f"{out}: a .{suffix} file, but --format {fmt}; make them agree")
    from ..store import SIDE_FILES

    real = store.resolve()
    if out.resolve() in {real, *(real.with_name(real.name + s) for s in SIDE_FILES)}:
        raise SuperposeError(
            f"{out}: is the run store {store} (or one of its files); choose another --out "
            "(nothing was changed)"
        )
    with _open(store) as db:
        runs = db.runs()
        meta = db.meta()
    try:
        out.absolute().parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SuperposeError(f"{out}: cannot make folder {out.parent} ({err.strerror})") from None

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="") as fh:
            if fmt == "jsonl":
                for r in runs:
                    fh.write(json.dumps(r.to_dict()) + "\n")
            else:
                write_csv(fh, runs, meta.get("axes") or [])

    atomic_write(out, write)
    console.print(f"wrote {len(runs)} runs to {out}", markup=False)


def write_csv(fh, runs, axes: list[str]) -> None:
    axes = list(axes) or sorted({k for r in runs for k in r.point})
    metrics: dict[str, None] = {}
    for r in runs:
        metrics.update(dict.fromkeys(r.scalars()))
    head = ["idx", "key", "status", *axes, *metrics, "seconds", "error", "artifact"]
    w = csv.writer(fh)
    w.writerow(head)
    for r in runs:
        sc = r.scalars()
        err = (r.error or "").splitlines()[0] if r.error else ""
        w.writerow(
            [r.idx, r.key, r.status]
            + [
                json.dumps(r.point.get(a)) if isinstance(r.point.get(a), list) else r.point.get(a)
                for a in axes
            ]
            + [sc.get(m, "") for m in metrics]
            + ["" if r.seconds is None else r.seconds, err, r.artifact or ""]
        )
