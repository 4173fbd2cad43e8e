"""`superpose zoo list | export NAME --out DIR`: networks with a known mechanism, as plain torch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._common import console, print_table

zoo_app = typer.Typer(
    help="Networks whose mechanism is known (built circuits, learned toy models) with their ground "
    "truth, exported as plain torch.",
    no_args_is_help=True,
)


@zoo_app.command("list")
def list_entries() -> None:
    """The entries: name, version, family, what it is (trained entries: whether cached)."""
    from ..zoo import SPECS, cache_root

    cached = {p.name.split("-v")[0] for p in cache_root().glob("*.safetensors")}
    table = Table(title="superpose zoo (superpose.zoo.load(NAME); superpose zoo export NAME)")
    for col in ("name", "version", "family", "description"):
        table.add_column(col)
    for spec in SPECS.values():
        note = " [cached]" if spec.name in cached else ""
        table.add_row(spec.name, str(spec.version), spec.family, spec.description + note)
    print_table(table)


@zoo_app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="Zoo entry (superpose zoo list).")],
    out: Annotated[Path, typer.Option(help="Folder for the export (new, or a previous export).")],
) -> None:
    """Write NAME as model.py + weights.safetensors + ground_truth.json/.safetensors + sampler.py +
    README.md: loadable with only torch and safetensors."""
    from ..base.files import check_out_folder
    from ..zoo import export as export_entry
    from ..zoo import load
    from ..zoo.export import FILES, SAVE_MARKER
    from ..zoo.registry import spec

    spec(name)  # an unknown name is one line before anything is built
    check_out_folder(out, FILES, marker=SAVE_MARKER)  # refuse before building, not after
    entry = load(name)
    paths = export_entry(entry, out)
    size = sum(p.stat().st_size for p in paths.values())
    metrics = ", ".join(f"{k} {v:.4g}" for k, v in entry.metrics.items() if isinstance(v, float))
    console.print(
        f"exported {entry.name} v{entry.version} (sha256 {entry.content_hash[:16]}…, "
        f"{size / 1e6:.1f} MB{'; ' + metrics if metrics else ''}) to {out}",
        markup=False,
    )
