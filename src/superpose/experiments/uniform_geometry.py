"""TMS "The geometry of superposition — uniform superposition": D* vs 1/(1−S) and per-feature D_i.

n equally important, equally sparse features in m dimensions (n ≥ 200, m ≥ 20). Dimensions per
feature D* = m/‖W‖²_F is ≈ 1 when dense and "sticks" near 1/2 (antipodal pairs) over a range of
sparsity; per-feature dimensionalities D_i cluster at sticky fractions (1, 3/4, 2/3, 1/2, 2/5, 3/8).
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
import torch
from pydantic import Field, model_validator

from ..base.config import FrozenConfig
from ..plots import plt, save_figure
from ..toy import metrics
from ..toy.config import ToyConfig, TrainConfig
from . import register
from .base import (
    Claim,
    Experiment,
    ExperimentResult,
    RunContext,
    same_norms_random,
    train_on,
    untrained,
    with_null,
)

STICKY_WINDOW = 0.05


class UniformGeometryConfig(FrozenConfig):
    model: ToyConfig = Field(
        ToyConfig(
            model="relu_output",
            n_features=400,
            n_hidden=30,
            importance=1.0,
            train=TrainConfig(steps=10_000, batch_size=1024, lr=1e-3, schedule="constant"),
        ),
        description="the models, n equally important features in m dimensions; one instance per "
        "inverse density (its features.sparsity is set from inverse_density)",
    )
    inverse_density: list[Annotated[float, Field(ge=1, le=1e9)]] = Field(
        [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.5, 8.0, 10.0, 15.0, 25.0, 50.0, 100.0, 300.0],
        min_length=4,
        description="1/(1−S) per instance, each ≥ 1",
    )

    @model_validator(mode="after")
    def _sparsity_from_inverse_density(self) -> UniformGeometryConfig:
        if self.model.features.sparsity != 0.0 or self.model.n_instances is not None:
            raise ValueError(
                "model.features.sparsity and model.n_instances are set from inverse_density"
            )
        return self


def toy_config(cfg: UniformGeometryConfig) -> ToyConfig:
    """cfg.model with one instance per inverse density (densest first): S = 1 − 1/x."""
    inv = torch.tensor(sorted(cfg.inverse_density))
    return cfg.model.replace(**{"features.sparsity": (1 - 1 / inv).tolist()})


def level_crossing(x: np.ndarray, y: np.ndarray, level: float) -> float | None:
    """First x (linear interpolation) where a decreasing series y drops to `level`."""
    for k in range(len(y) - 1):
        if y[k] >= level >= y[k + 1] and y[k] != y[k + 1]:
            return float(x[k] + (y[k] - level) / (y[k] - y[k + 1]) * (x[k + 1] - x[k]))
    return None


def plateau_widths(inv_density: torch.Tensor, dstar: torch.Tensor) -> dict[str, float | None]:
    """Widths in ln(1/(1−S)) over which D* falls through the bands [0.55, 0.65] (above 1/2),
    [0.45, 0.55] (at 1/2) and [0.35, 0.45] (below). A plateau at 1/2: the middle band is wider."""
    x, y = np.log(inv_density.numpy()), dstar.numpy()
    c = {lv: level_crossing(x, y, lv) for lv in (0.65, 0.55, 0.45, 0.35)}
    widths: dict[str, float | None] = {"above": None, "at_half": None, "below": None}
    if c[0.65] is not None and c[0.55] is not None:
        widths["above"] = c[0.55] - c[0.65]
    if c[0.55] is not None and c[0.45] is not None:
        widths["at_half"] = c[0.45] - c[0.55]
    if c[0.45] is not None and c[0.35] is not None:
        widths["below"] = c[0.35] - c[0.45]
    return widths


def dense_claim(dstar_dense: float) -> Claim:
    return Claim(
        id="dstar-one-when-dense",
        statement="With dense features (1/(1−S) = 1) every dimension holds one feature: D* ≈ 1.",
        measured=dstar_dense,
        expected="|D* − 1| < 0.1",
        passed=abs(dstar_dense - 1) < 0.1,
    )


def plateau_claim(widths: dict[str, float | None]) -> Claim:
    ok = all(v is not None for v in widths.values())
    ratio = None
    if ok:
        ratio = widths["at_half"] / max(1e-9, (widths["above"] + widths["below"]) / 2)
    return Claim(
        id="dstar-sticks-at-half",
        statement="D* sticks near 1/2 over a range of sparsity: it falls through the band "
        "1/2 ± 0.05 more slowly (in log 1/(1−S)) than through the neighbouring bands.",
        measured={**widths, "ratio": ratio},
        expected="width of the band at 1/2 ≥ 1.5 × the mean width of the bands above and below",
        passed=bool(ratio is not None and ratio >= 1.5),
    )


def sticky_coverage() -> float:
    """Fraction of [0, 1] within STICKY_WINDOW of some sticky fraction: the share D_i spread
    uniformly over [0, 1] would score (≈ 0.46)."""
    grid = torch.linspace(0, 1, 10_001)
    fr = torch.tensor(list(metrics.STICKY_FRACTIONS.values()))
    return float(((grid[:, None] - fr[None]).abs() <= STICKY_WINDOW).any(1).float().mean())


def sticky_share(Di: torch.Tensor) -> dict[str, float]:
    """Share of the given D_i within STICKY_WINDOW of a sticky fraction, per fraction and total,
    and the peak contrast: total share / the share uniformly spread D_i would have."""
    fr = torch.tensor(list(metrics.STICKY_FRACTIONS.values()))
    near = (Di[:, None] - fr[None]).abs() <= STICKY_WINDOW
    out = {
        name: float(near[:, k].float().mean()) for k, name in enumerate(metrics.STICKY_FRACTIONS)
    }
    out["total"] = float(near.any(1).float().mean()) if len(Di) else 0.0
    out["contrast"] = out["total"] / sticky_coverage()
    out["features"] = len(Di)
    return out


def sticky_claim(Di: torch.Tensor, bar: float) -> Claim:
    """D_i of represented features pile up at the sticky fractions: peak contrast ≥ bar (the
    larger of 1 — D_i spread uniformly — and the 99th percentile of random directions with the
    trained column norms)."""
    share = sticky_share(Di)
    return Claim(
        id="sticky-fraction-share",
        statement="Feature dimensionalities of represented features (‖W_i‖ > 0.5, all "
        "sparsities) pile up at the sticky fractions: their share within "
        f"{STICKY_WINDOW} of one, over the share uniformly spread D_i would have (peak contrast), "
        "is above what uniformly spread D_i and random directions of the same norms give.",
        measured=share,
        expected=f"peak contrast ≥ {bar:.3g} (the larger of 1 = D_i spread uniformly, share "
        f"{sticky_coverage():.2f}, and the 99th percentile over random directions with the "
        "trained norms)",
        passed=share["contrast"] >= bar,
    )


def null_dimensionality(W: torch.Tensor, rep: torch.Tensor, seed: int) -> torch.Tensor:
    """D_i of the represented features of a random matrix with W's column norms (flat)."""
    return metrics.feature_dimensionality(same_norms_random(W, seed))[rep]


def run(cfg: UniformGeometryConfig, ctx: RunContext) -> ExperimentResult:
    inv = torch.tensor(sorted(cfg.inverse_density))
    toy = toy_config(cfg)
    res = train_on(toy, ctx)
    W = res.model.W.detach().cpu()
    dstar = metrics.dimensions_per_feature(W)
    Di = metrics.feature_dimensionality(W)
    rep = metrics.represented(W)
    widths = plateau_widths(inv, dstar)
    dstar0 = metrics.dimensions_per_feature(untrained(toy).W.detach())
    kind = "untrained: the init weights training started from"
    draws = torch.tensor(
        [
            sticky_share(null_dimensionality(W, rep, toy.seed + 1 + d))["contrast"]
            for d in range(100)
        ]
    )
    # two nulls: D_i spread uniformly over [0, 1] (contrast 1) and random directions of the
    # trained norms (their 99th percentile); the claim must beat both
    bar = max(1.0, float(draws.quantile(0.99)))
    figures = [dstar_figure(inv, dstar, Di, rep, ctx, cfg)]
    claims = [
        with_null(dense_claim, float(dstar[0]), float(dstar0[0]), kind)
        if math.isclose(float(inv[0]), 1.0)
        else None,
        with_null(plateau_claim, widths, plateau_widths(inv, dstar0), kind),
        with_null(
            sticky_claim,
            Di[rep],
            null_dimensionality(W, rep, toy.seed),
            "random directions with the trained column norms",
            bar,
        ),
    ]
    return ExperimentResult(
        claims=[c for c in claims if c is not None],
        figures=figures,
        data={
            "inverse_density": inv,
            "dstar": dstar,
            "represented": rep.sum(1),
            "loss": res.final_loss.cpu(),
        },
    )


def dstar_figure(inv, dstar, Di, rep, ctx: RunContext, cfg: UniformGeometryConfig):
    """D* line over the D_i scatter, sticky fractions marked."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k in range(len(inv)):
        d = Di[k][rep[k]].numpy()
        ax.scatter(np.full(len(d), float(inv[k])), d, s=6, alpha=0.3, color="tab:blue")
    ax.scatter([], [], s=6, color="tab:blue", label="D_i of represented features")
    ax.plot(inv.numpy(), dstar.numpy(), "-o", color="black", ms=3, label="D* = m / ‖W‖²_F")
    for name, v in metrics.STICKY_FRACTIONS.items():
        ax.axhline(v, ls=":", lw=0.8, color="grey")
        ax.text(inv.max().item() * 1.05, v, name, fontsize=6, va="center")
    ax.set_xscale("log")
    ax.set_xlabel("1 / (1 − S)")
    ax.set_ylabel("dimensions per feature")
    ax.set_ylim(0, 1.1)
    ax.set_title(f"Uniform superposition, n={cfg.model.n_features}, m={cfg.model.n_hidden}")
    ax.legend(fontsize=7, loc="lower left")
    return save_figure(fig, ctx.figure_path("dstar_and_dimensionality"))


register(
    Experiment(
        name="uniform-geometry",
        title="Uniform superposition: D* sticks at 1/2; feature dimensionalities cluster",
        description="n equally important features: D* vs 1/(1−S) and the per-feature D_i scatter "
        "with the sticky fractions.",
        config_cls=UniformGeometryConfig,
        quick=UniformGeometryConfig(
            model=UniformGeometryConfig().model.replace(
                n_features=200,
                n_hidden=20,
                train=TrainConfig(steps=1200, batch_size=1024, lr=1e-2, schedule="cosine"),
            ),
            inverse_density=[1.0, 1.6, 2.2, 2.8, 3.5, 4.5, 6.0, 10.0, 30.0, 100.0],
        ),
        full=UniformGeometryConfig(),
        runner=run,
        quick_seconds=60,
        full_seconds=3600,
        paper="TMS 'The geometry of superposition', uniform superposition",
    )
)
