"""`superpose compile SPEC.yaml --out DIR`: compile small circuits into one verified network."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import console


def compile_(
    spec: Annotated[
        Path,
        typer.Argument(
            help="Compile spec YAML: `circuits:` (families, `family: user` with a .safetensors "
            "`file:` relative to the current folder, or `family: chain` with `stages:` of either, "
            "each reading the one before), `width:`, `max_active:` (configs/compile-*.yaml)."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Folder for weights, ground truth and errors.")],
    batch: Annotated[
        int,
        typer.Option(
            min=8, max=100_000, help="Sampled inputs for the error statistics saved beside."
        ),
    ] = 256,
) -> None:
    """Compile SPEC's circuits into one network (CiS2 construction, on-indicators added), verify it
    at every z ≤ max_active and save config.yaml, weights.safetensors, ground_truth.json, errors.json."""
    from ..base.config import read_yaml, unless_dump
    from ..base.errors import SuperposeError
    from ..base.files import check_out_folder
    from ..circuits.compiler import build_compiled
    from ..circuits.construction import (
        SAVE_MARKER,
        construction_config,
        save_construction,
        saved_files,
    )

    data = read_yaml(spec)
    if isinstance(data, dict):
        data.setdefault("construction", "compiled")
    cfg = construction_config(data, str(spec))
    # refused before building, not after; so is a spec the save would replace
    check_out_folder(out, saved_files("compiled"), unless_dump(spec, cfg), marker=SAVE_MARKER)
    if cfg.construction != "compiled":
        raise SuperposeError(
            f"{spec}: field 'construction' is {cfg.construction!r}; compile reads 'compiled' specs "
            "(superpose build builds the others)"
        )
    try:
        net = build_compiled(cfg)
    except SuperposeError as err:  # which spec the field (circuits[i]…) is in
        raise SuperposeError(f"{spec}: {err}") from None
    measured = net.measure(batch)
    save_construction(net, out, measured)
    console.print(f"{net.summary(measured)}; saved to {out}", markup=False)
