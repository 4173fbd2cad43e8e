"""`superpose build CONFIG --out DIR`: build any registered construction from its config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import about, console


def build(
    config: Annotated[
        Path,
        typer.Argument(help="Construction config YAML with a `construction:` field (configs/)."),
    ],
    out: Annotated[Path, typer.Option(help="Folder for weights, ground truth and errors.")],
    batch: Annotated[
        int,
        typer.Option(
            min=8, max=100_000, help="Sampled inputs for the error statistics saved beside."
        ),
    ] = 256,
) -> None:
    """Build, verify and save the network of CONFIG (cis1, cis2, uand, chosen_gates, deep_boolean):
    config.yaml, weights.safetensors, ground_truth.json and its measured errors."""
    from ..base.config import unless_dump
    from ..base.files import check_out_folder
    from ..circuits.construction import (
        SAVE_MARKER,
        load_construction_config,
        save_construction,
        saved_files,
    )
    from ..circuits.construction import build as build_net

    cfg = load_construction_config(config)
    # refused before building, not after; so is a config the save would replace
    check_out_folder(
        out, saved_files(cfg.construction), unless_dump(config, cfg), marker=SAVE_MARKER
    )
    with about(config):
        net = build_net(cfg)
    measured = net.measure(batch)
    save_construction(net, out, measured)
    console.print(f"{net.summary(measured)}; saved to {out}", markup=False)
