"""The `toy-train` benchmark: our trainer against the naive reference loop on the same work.

Work: the uniform-superposition geometry runs of the paper (ReLU-output model, importance 1,
AdamW lr 1e-3, batch 1024), one instance per density, densities log-uniform from 1 down to 1e-3.
Both loops run the same number of steps in the same process; we report steps per second of each,
their ratio, and how far apart the final per-instance losses are.
"""

from __future__ import annotations

import torch

from ..toy.config import ToyConfig
from ..toy.train import train
from . import BenchRow, register
from .reference import reference_train

# (features, hidden, instances) of the paper's geometry runs
SIZES: tuple[tuple[int, int, int], ...] = ((200, 20, 20), (400, 30, 50))


def geometry_sparsity(n_instances: int, min_density: float = 1e-3) -> list[float]:
    """Sparsity per instance with density log-uniform from 1 down to `min_density`."""
    density = torch.logspace(0.0, torch.log10(torch.tensor(min_density)).item(), n_instances)
    return (1.0 - density).clamp(min=0.0).tolist()


def geometry_config(
    n_features: int, n_hidden: int, n_instances: int, steps: int, batch: int = 1024, seed: int = 0
) -> ToyConfig:
    """Our trainer's config for the geometry work (paper settings, `steps` steps)."""
    return ToyConfig(
        model="relu_output",
        n_features=n_features,
        n_hidden=n_hidden,
        features={"sparsity": geometry_sparsity(n_instances)},
        train={"steps": steps, "batch_size": batch, "eval_batch": 8192},
        seed=seed,
        device="cpu",
    )


def rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over instances of |a − b| / mean(a, b): how far apart two per-instance losses are."""
    return float(((a - b).abs() / ((a + b) / 2).clamp_min(1e-12)).mean())


def compare(
    n_features: int,
    n_hidden: int,
    n_instances: int,
    steps: int,
    batch: int = 1024,
    reference_seeds: int = 1,
) -> dict:
    """Train ours and the reference (seeds 0.. `reference_seeds`−1) on the same work in this
    process. Returns steps/s of each, the ratio, final losses and their relative differences
    (ours vs reference seed 0, and reference seed 0 vs 1 as the noise yardstick)."""
    sparsity = torch.tensor(geometry_sparsity(n_instances))
    importance = torch.ones(n_features)
    ref_losses, ref_seconds = [], []
    for seed in range(reference_seeds):
        loss, sec = reference_train(
            n_features, n_hidden, n_instances, sparsity, importance, steps, batch, seed=seed
        )
        ref_losses.append(loss.detach())
        ref_seconds.append(sec)
    res = train(geometry_config(n_features, n_hidden, n_instances, steps, batch), progress=False)
    out = {
        "task": f"{n_features}→{n_hidden}×{n_instances}",
        "steps": steps,
        "batch": batch,
        "ours_s": res.loop_seconds,
        "reference_s": ref_seconds[0],
        "ours_steps_per_s": steps / res.loop_seconds,
        "reference_steps_per_s": steps / ref_seconds[0],
        "ratio": ref_seconds[0] / res.loop_seconds,
        "ours_loss": res.final_loss.tolist(),
        "reference_loss": [r.tolist() for r in ref_losses],
        "loss_rel_diff": rel_diff(res.final_loss, ref_losses[0]),
    }
    if reference_seeds > 1:
        out["reference_seed_rel_diff"] = rel_diff(ref_losses[0], ref_losses[1])
    return out


@register("toy-train", "toy-model training steps/s: superpose trainer vs the notebook loop")
def toy_train(quick: bool) -> list[BenchRow]:
    steps = (
        {(200, 20, 20): 30, (400, 30, 50): 4} if quick else {(200, 20, 20): 300, (400, 30, 50): 40}
    )
    rows = []
    for size in SIZES:
        r = compare(*size, steps=steps[size])
        rows.append(
            BenchRow(
                "toy-train",
                f"{r['task']} ({r['steps']} steps)",
                r["ours_s"],
                r["reference_s"],
                note=f"{r['ours_steps_per_s']:.1f} vs {r['reference_steps_per_s']:.1f} steps/s; "
                f"final loss rel. diff {r['loss_rel_diff']:.1%}",
            )
        )
    return rows
