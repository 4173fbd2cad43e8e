"""Empirical phase diagrams of the "extra" feature (TMS "Superposition as a phase change").

The grid is relative importance r of the last feature × density p of all features. Each importance
row is one sweep point: `phase_row(point)` trains seeds × densities models on the exact loss
(`toy.exact`), keeps the best seed per density and classifies what happened to the extra feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from . import theory
from .config import ToyConfig, TrainConfig
from .exact import ExactTrainConfig, train_exact
from .metrics import interference

#: ‖W_extra‖ below this: not learned; interference of the extra feature above SUPERPOSED: superposition
LEARNED_NORM = 0.5
SUPERPOSED = 0.25


def classify(W: torch.Tensor) -> torch.Tensor:
    """Phase of the last ("extra") feature of each model W [instances, hidden, features]:
    0 not learned, 1 superposition, 2 dedicated dimension; int [instances]."""
    norm = W[:, :, -1].norm(dim=-1)
    inter = interference(W)[:, -1]
    phase = torch.where(inter > SUPERPOSED, theory.SUPERPOSITION, theory.DEDICATED)
    return torch.where(norm < LEARNED_NORM, theory.NOT_LEARNED, phase)


def row_point(
    case: str, importance: float, densities: Sequence[float], exact: ExactTrainConfig, seed: int
) -> dict[str, Any]:
    """The `phase_row` point of one importance row: JSON values, `exact`'s fields flattened in."""
    return {
        "case": case,
        "importance": float(importance),
        "densities": [float(p) for p in densities],
        **exact.to_dict(),
        "seed": seed,
    }


def phase_row(point: dict[str, Any]) -> dict[str, Any]:
    """One importance row of an empirical diagram (a `map_grid` point of JSON values, `row_point`).

    point: case ("2x1" | "3x2"), importance (r of the extra feature), densities (list), the
    `ExactTrainConfig` fields (seeds, steps, lr, nodes), seed. Returns phases and best exact losses
    per density (lists).
    """
    case = point["case"]
    n, m = theory.CASES[case]
    dens = torch.tensor(point["densities"], dtype=torch.float32)
    imp = torch.tensor(theory.case_importance(case, point["importance"]))
    exact = ExactTrainConfig(**{k: point[k] for k in ExactTrainConfig.model_fields})
    res = train_exact(
        m,
        imp.expand(len(dens), n).contiguous(),
        dens[:, None].expand(len(dens), n).contiguous(),
        **exact.to_dict(),
        seed=point["seed"],
    )
    return {
        "phase": classify(res.W).tolist(),
        "loss": res.loss.tolist(),
        "W": res.W.tolist(),
        "b": res.b.tolist(),
    }


def sampled_config(
    case: str,
    points: Sequence[tuple[float, float]],
    train: TrainConfig,
    seed: int = 0,
    device: str = "cpu",
) -> ToyConfig:
    """The ReLU-output models of `case` trained by sampling (the paper's procedure), one instance per
    (relative importance r, density p) point."""
    n, m = theory.CASES[case]
    return ToyConfig(
        model="relu_output",
        n_features=n,
        n_hidden=m,
        features={"sparsity": [[1.0 - float(p)] * n for _, p in points]},
        importance=[theory.case_importance(case, float(r)) for r, _ in points],
        train=train,
        seed=seed,
        device=device,
    )


def grid_axes(
    n_importance: int, n_density: int, importance_range=(0.1, 10.0), density_range=(1.0, 0.01)
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-spaced relative importances [n_importance] and densities [n_density]."""
    lo, hi = importance_range
    imp = torch.logspace(torch.log10(torch.tensor(lo)), torch.log10(torch.tensor(hi)), n_importance)
    d0, d1 = density_range
    dens = torch.logspace(torch.log10(torch.tensor(d0)), torch.log10(torch.tensor(d1)), n_density)
    return imp, dens
