"""`superpose score NET`: score a dictionary (an SAE's weights, or an SAE trained here) against the
ground truth of a built network, layer by layer, beside the chance level for its size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..base.errors import SuperposeError
from ._common import console, print_table


def score(
    net: Annotated[
        Path,
        typer.Argument(
            help="Folder of a built network (`superpose build CONFIG --out DIR`; cis2)."
        ),
    ],
    dictionary: Annotated[
        Path | None,
        typer.Option(
            help="SAE weights to score: .safetensors (SAELens names: W_dec [k, D], optional W_enc, b_enc, b_dec, k)."
        ),
    ] = None,
    train_sae: Annotated[
        str | None, typer.Option(help="Train an SAE on each scored layer first: topk or relu.")
    ] = None,
    latents: Annotated[int, typer.Option(min=0, help="Trained SAE size (0: 4·T).")] = 0,
    k: Annotated[int, typer.Option(min=0, help="TopK: latents kept (0: active·d).")] = 0,
    l1: Annotated[float, typer.Option(min=0, help="ReLU SAE: L1 penalty.")] = 1e-3,
    steps: Annotated[int, typer.Option(min=1, help="Trained SAE: optimiser steps.")] = 2000,
    layer: Annotated[
        int, typer.Option(min=0, help="Layer to score, 1-based (0: every layer).")
    ] = 0,
    active: Annotated[
        int, typer.Option(min=0, help="Circuits on per input (0: the network's z).")
    ] = 0,
    samples: Annotated[int, typer.Option(min=16, help="Inputs the scores use.")] = 2000,
    threshold: Annotated[
        float,
        typer.Option(min=0.01, max=1.0, help="Similarity at which a circuit counts as recovered."),
    ] = 0.9,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the inputs and of a trained SAE.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for score.json and figures (and sae_layerL.safetensors)."),
    ] = None,
) -> None:
    """Score a dictionary against NET's ground truth: MMCS, Hungarian MCC, circuits recovered,
    uniqueness, ML2R, dead latents, latents as detectors of circuit activity, each beside chance."""
    from ..circuits.construction import load_construction
    from ..scoring import network_truth
    from ..scoring import score as score_fn
    from ..scoring.sae import SAEConfig
    from ..scoring.sae import train_sae as fit_sae

    if (dictionary is None) == (train_sae is None):
        raise SuperposeError(
            "score: pass exactly one of --dictionary FILE or --train-sae topk|relu"
        )
    if train_sae not in (None, "topk", "relu"):
        raise SuperposeError(f"--train-sae {train_sae!r}: must be topk or relu")
    built = load_construction(net)
    z = active or built.max_active
    layers = list(range(built.n_layers)) if layer == 0 else [layer - 1]
    if layers[-1] >= built.n_layers:
        raise SuperposeError(f"--layer {layer}: the network has layers 1..{built.n_layers}")
    results = []
    for l in layers:
        truth = network_truth(built, l, samples, z, seed)
        dic = dictionary
        if train_sae is not None:
            d = len(truth.groups) // truth.n_groups
            cfg = SAEConfig(
                kind=train_sae,
                latents=latents or 4 * truth.n_groups,
                k=k or z * d,
                l1=l1,
                steps=steps,
                seed=seed + l,
            )
            pool = network_truth(built, l, max(4 * cfg.batch, 20_000), z, seed + 1000).acts
            trained = fit_sae(pool, cfg).sae
            dic = trained
            if out is not None:
                from safetensors.torch import save_file

                out.mkdir(parents=True, exist_ok=True)
                save_file(trained.tensors(), str(out / f"sae_layer{l + 1}.safetensors"))
        results.append(score_fn(dic, truth, threshold=threshold, seed=seed))
    table = Table(
        title=f"{results[0].name} vs {net} ({results[0].n_latents} latents, {z} circuits on)"
    )
    table.add_column("metric")
    for l in layers:
        table.add_column(f"layer {l + 1}", justify="right")
    table.add_column("chance", justify="right")
    rows = [r.rows() for r in results]
    for i, (name, _, chance) in enumerate(rows[0]):
        cells = [_fmt(r[i][1]) for r in rows]
        table.add_row(name, *cells, _fmt(chance))
    print_table(table)
    if out is not None:
        from ..plots.scoring import recovery_vs_layer, similarity_matrix

        out.mkdir(parents=True, exist_ok=True)
        (out / "score.json").write_text(
            json.dumps(
                {f"layer{l + 1}": r.to_dict() for l, r in zip(layers, results, strict=True)},
                indent=2,
            )
        )
        for l, r in zip(layers, results, strict=True):
            similarity_matrix(r, out / f"similarity_layer{l + 1}.png")
        recovery_vs_layer({results[0].name: results}, out / "recovery_vs_layer.png", f"{net}")
        console.print(f"scores and figures saved to {out}")


def _fmt(v: float | int | None) -> str:
    if v is None:
        return "—"
    return str(v) if isinstance(v, int) else f"{v:.3f}"
