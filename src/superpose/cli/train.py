"""`superpose train CONFIG --out DIR`: train a batch of toy models and save them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import ProgressOpt, about, console, device_value


def train(
    config: Annotated[Path, typer.Argument(help="Toy-model config YAML (see configs/).")],
    out: Annotated[Path, typer.Option(help="Folder to write config, weights and metrics into.")],
    device: Annotated[
        str | None,
        typer.Option(
            callback=device_value, help="Override the config's device (auto, cpu, cuda, cuda:N)."
        ),
    ] = None,
    progress: ProgressOpt = True,
) -> None:
    """Train a batch of toy models from CONFIG and save them to OUT."""
    import torch

    from ..base.config import load_yaml, unless_dump
    from ..base.errors import SuperposeError
    from ..base.files import check_out_folder
    from ..toy.config import ToyConfig
    from ..toy.io import FILES, SAVE_MARKER, save_trained
    from ..toy.train import train as train_models

    cfg = load_yaml(ToyConfig, config)
    if device is not None:
        cfg = cfg.replace(device=device)
    # refused before training, not after; so is a config the save would replace
    check_out_folder(out, FILES, unless_dump(config, cfg), marker=SAVE_MARKER)
    with about(config):
        result = train_models(cfg, progress=progress)
    bad = (~torch.isfinite(result.final_loss)).nonzero().flatten().tolist()
    if bad:  # a model of NaNs is not saved as if it were one
        shown = ", ".join(map(str, bad[:5])) + (", …" if len(bad) > 5 else "")
        raise SuperposeError(
            f"{config}: training diverged (final loss not finite in instance(s) {shown}); lower "
            "train.lr, importance or the train penalties (l1_hidden, weight_decay); nothing was saved"
        )
    save_trained(result, out)
    losses = ", ".join(f"{v:.4g}" for v in result.final_loss.tolist()[:10])
    console.print(f"trained {cfg.instances} instance(s) in {result.seconds:.1f} s; loss {losses}")
    console.print(f"saved to {out}", markup=False)
