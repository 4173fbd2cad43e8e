"""`superpose cis …`: build circuits-in-superposition networks from a config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import console

cis_app = typer.Typer(help="Circuits in superposition: build CiS2 networks.", no_args_is_help=True)
uand_app = typer.Typer(
    help="Boolean circuits in superposition (U-AND, chosen gates).", no_args_is_help=True
)


@cis_app.command("build")
def cis_build(
    config: Annotated[Path, typer.Argument(help="CiS2 config YAML (see configs/cis2-*.yaml).")],
    out: Annotated[Path, typer.Option(help="Folder for weights, ground truth and errors.json.")],
    batch: Annotated[int, typer.Option(min=1, help="Sampled inputs per z for errors.json.")] = 256,
) -> None:
    """Build, verify and save the network of CONFIG, with per-layer errors for z = 1 … max_active."""
    from ..base.config import load_yaml
    from ..circuits.cis2 import CiS2Config, build_cis2
    from ..circuits.errors import run_profile
    from ..circuits.io import save_cis2

    cfg = load_yaml(CiS2Config, config)
    net = build_cis2(cfg)
    errors = {
        f"z={z}": run_profile(net, z, batch, cfg.seed + 10 + z).to_dict()
        for z in range(1, cfg.max_active + 1)
    }
    save_cis2(net, cfg, out, errors)
    last = {z: f"{e['active']['total'][-1]:.4g}" for z, e in errors.items()}
    console.print(
        f"built CiS2: D={cfg.width}, T={cfg.circuits}, L={cfg.layers} "
        f"({net.allocation.scheme} allocation, capacity {net.allocation.capacity}); "
        f"last-layer active MSE {last}; saved to {out}"
    )


@uand_app.command("build")
def uand_build(
    config: Annotated[Path, typer.Argument(help="Build config YAML (see configs/uand-*.yaml).")],
    out: Annotated[Path, typer.Option(help="Folder for weights, ground truth and stats.")],
) -> None:
    """Build a U-AND or chosen-gates layer from CONFIG; write weights + ground truth + error stats."""
    from ..base.config import load_yaml
    from ..circuits.boolean_build import BuildConfig, build_and_save

    cfg = load_yaml(BuildConfig, config)
    stats = build_and_save(cfg, out, source=str(config))
    cases = stats.get("cases") or stats.get("by_inputs_on") or {}
    text = ", ".join(f"{k}: mean {v['mean']:.4f} worst {v['worst']:.3f}" for k, v in cases.items())
    console.print(f"built {cfg.construction} ({stats['method']}); errors {text}")
    console.print(f"saved to {out}")
