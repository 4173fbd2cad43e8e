"""`superpose score NET`: score a dictionary (an SAE's weights, or an SAE trained here) against the
ground truth of a zoo entry or a built network, layer by layer, beside the chance level for its size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..base.errors import SuperposeError
from ._common import console, print_table


def score(
    net: Annotated[
        str,
        typer.Argument(
            help="A zoo entry (superpose zoo list) or the folder of a built network "
            "(`superpose build CONFIG --out DIR` or `superpose compile`: cis1, cis2, compiled, uand, "
            "deep_boolean)."
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
    latents: Annotated[
        int, typer.Option(min=0, max=1_000_000, help="Trained SAE size (0: 4·T).")
    ] = 0,
    k: Annotated[
        int,
        typer.Option(
            min=0,
            max=100_000,
            help="TopK: latents kept (0: mean circuits on × directions per circuit).",
        ),
    ] = 0,
    l1: Annotated[float, typer.Option(min=0, max=1000, help="ReLU SAE: L1 penalty.")] = 1e-3,
    steps: Annotated[
        int, typer.Option(min=1, max=10_000_000, help="Trained SAE: optimiser steps.")
    ] = 2000,
    layer: Annotated[
        int, typer.Option(min=0, help="Layer to score, 1-based (0: every layer with truth).")
    ] = 0,
    active: Annotated[
        int,
        typer.Option(
            min=0, help="Circuits on per input (0: the network's z; learned models: their p)."
        ),
    ] = 0,
    samples: Annotated[
        int, typer.Option(min=16, max=1_000_000, help="Inputs the scores use.")
    ] = 2000,
    threshold: Annotated[
        float,
        typer.Option(min=0.01, max=1.0, help="Similarity at which a circuit counts as recovered."),
    ] = 0.9,
    seed: Annotated[
        int, typer.Option(min=0, max=2**62, help="Seed of the inputs and of a trained SAE.")
    ] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for score.json and figures (and sae_layerL.safetensors): new, or a "
            "previous score's (anything else in it is refused before scoring)."
        ),
    ] = None,
) -> None:
    """Score a dictionary against NET's ground truth: MMCS, Hungarian MCC, circuits recovered,
    uniqueness, ML2R, dead latents, latents as detectors of circuit activity, each beside chance."""
    from ..scoring import score as score_fn
    from ..scoring.sae import SAEConfig, sae_size
    from ..scoring.sae import train_sae as fit_sae

    if (dictionary is None) == (train_sae is None):
        raise SuperposeError(
            "score: pass exactly one of --dictionary FILE or --train-sae topk|relu"
        )
    if train_sae not in (None, "topk", "relu"):
        raise SuperposeError(f"--train-sae {train_sae!r}: must be topk or relu")
    entry = _target(net)
    if layer:
        layers = [entry.layer_index(layer)]
    else:
        layers = [i for i, l in enumerate(entry.layers) if l.truth]
    if out is not None:  # refuse before scoring, not after
        from ..base.files import check_out_folder

        check_out_folder(out, _saved(len(entry.layers)))
    z = active or None
    results = []
    for l in layers:
        truth = entry.truth(l + 1, samples=samples, seed=seed, active=z)
        dic = dictionary
        if train_sae is not None:
            size, top = sae_size(truth, latents, k)
            cfg = SAEConfig(
                kind=train_sae,
                latents=size,
                k=top,
                l1=l1,
                steps=steps,
                seed=seed + l,
            )
            pool = entry.truth(l + 1, max(4 * cfg.batch, 20_000), seed + 1000, z).acts
            trained = fit_sae(pool, cfg).sae
            dic = trained
            if out is not None:
                from safetensors.torch import save_file

                from ..base.files import atomic_write

                out.mkdir(parents=True, exist_ok=True)
                tensors = {n: t.detach().contiguous() for n, t in trained.tensors().items()}
                atomic_write(
                    out / f"sae_layer{l + 1}.safetensors",
                    lambda tmp, t=tensors: save_file(t, str(tmp)),
                )
        results.append(score_fn(dic, truth, threshold=threshold, seed=seed))
    on = f"{z} circuits on" if z else "default activity"
    table = Table(title=f"{results[0].name} vs {net} ({results[0].n_latents} latents, {on})")
    table.add_column("metric")
    rows = [r.rows() for r in results]
    one_chance = all([c for _, _, c in r] == [c for _, _, c in rows[0]] for r in rows)
    for l in layers:
        table.add_column(f"layer {l + 1}", justify="right")
        if not one_chance:  # layers of different widths: each beside its own chance level
            table.add_column(f"chance {l + 1}", justify="right")
    if one_chance:
        table.add_column("chance", justify="right")
    for i, (name, _, chance) in enumerate(rows[0]):
        if one_chance:
            cells = [*(_fmt(r[i][1]) for r in rows), _fmt(chance)]
        else:
            cells = [_fmt(v) for r in rows for v in (r[i][1], r[i][2])]
        table.add_row(name, *cells)
    print_table(table)
    if out is not None:
        from ..base.files import atomic_write
        from ..plots.scoring import recovery_vs_layer, similarity_matrix

        out.mkdir(parents=True, exist_ok=True)
        atomic_write(
            out / "score.json",
            json.dumps(
                {f"layer{l + 1}": r.to_dict() for l, r in zip(layers, results, strict=True)},
                indent=2,
            ),
        )
        for l, r in zip(layers, results, strict=True):
            similarity_matrix(r, out / f"similarity_layer{l + 1}.png")
        recovery_vs_layer({results[0].name: results}, out / "recovery_vs_layer.png", f"{net}")
        console.print(f"scores and figures saved to {out}")


def _saved(n_layers: int) -> set[str]:
    """The files a score of a network with n_layers writes into --out."""
    per_layer = ("similarity_layer{}.png", "sae_layer{}.safetensors")
    return {"score.json", "recovery_vs_layer.png"} | {
        f.format(l) for l in range(1, n_layers + 1) for f in per_layer
    }


def _target(net: str) -> Any:
    """A zoo entry by name, or a built network's folder (`superpose build`) as a zoo entry."""
    from ..zoo import from_construction, load, names

    path = Path(net)
    if net in names() and not (path / "config.yaml").is_file():  # not a built network's folder
        return load(net)  # (e.g. `zoo export NAME --out NAME` beside it)
    if not path.is_dir():
        raise SuperposeError(
            f"NET {net!r}: neither a zoo entry ({', '.join(names())}) nor a built network's folder"
        )
    from ..circuits.construction import load_construction

    return from_construction(load_construction(path), str(path))


def _fmt(v: float | int | None) -> str:
    if v is None:
        return "—"
    return str(v) if isinstance(v, int) else f"{v:.3f}"
