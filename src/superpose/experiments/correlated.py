"""TMS §"Correlated and anticorrelated features": correlated features are placed orthogonally (local
almost-orthogonal bases in larger models), anticorrelated features prefer negative interference
(antipodal), and correlated features collapse to their principal component when there is no room
(three correlated pairs in m=2: hexagon when sparse → PCA when dense)."""

from __future__ import annotations

import math
from typing import Any

import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..plots.toy import feature_geometry_2d, wtw_and_norms
from ..sweep import map_grid
from ..toy import metrics
from ..toy.config import ToyConfig, TrainConfig
from ..toy.train import train
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext, untrained, with_null


class CorrelatedConfig(FrozenConfig):
    pair_sparsities: list[float] = Field(
        [0.9, 0.97, 0.99],
        min_length=1,
        description="set sparsities of the n=4, m=2 models (two correlated / anticorrelated pairs)",
    )
    large_n_features: int = Field(20, ge=4, le=10_000, description="features of the large model")
    large_n_hidden: int = Field(10, ge=2, le=10_000, description="hidden m of the large model")
    large_sets: int = Field(2, ge=2, le=100, description="correlated sets in the large model")
    large_sparsity: float = Field(0.99, ge=0, lt=1, description="set sparsity, large model")
    sweep_sparsities: list[float] = Field(
        [0.3, 0.5, 0.7, 0.9, 0.95, 0.99, 0.997],
        min_length=2,
        description="three correlated pairs in m=2: set sparsities, densest first (S=0 has no "
        "correlation: values are independent, only co-activation correlates them)",
    )
    train: TrainConfig = Field(
        TrainConfig(steps=10_000, lr=1e-3, restarts=10),
        description="training of every setup (best of `restarts` seeds per setting)",
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed")


def train_point(point: dict[str, Any]) -> dict[str, Any]:
    """One setup: train the ToyConfig in point['toy']; weights [instances, hidden, features]."""
    res = train(ToyConfig(**point["toy"]), progress=False)
    return {"W": res.model.W.detach().cpu(), "loss": res.final_loss.cpu()}


#: Thresholds of the m=2 claims. The paper states none (its figures show cos = 0 for correlated
#: pairs, −1 for anticorrelated ones, 1 after the PCA collapse and a hexagon), so each is the
#: NULL_TAIL point of its own statistic on the claim's null, untrained weights: the init is i.i.d.
#: Gaussian, so every column direction is isotropic, and a random model passes each bar with
#: probability NULL_TAIL. Measured on 10⁶ isotropic draws, and on `untrained` weights of 1000 seeds
#: (`tests/experiments/test_toy_claims.py::test_correlated_thresholds_are_the_nulls_tail`).
NULL_TAIL = 0.01

#: mean |cos| of two random pairs in 2-D: its 1st percentile is 0.1106 (analytic ≈ π/√800 = 0.111:
#: P(mean < t) ≈ 8t²/π²); 1000 untrained seeds × 2 instances: 0.126. The old bar, 0.2, was met by
#: 3 % of random pairs.
ORTHOGONAL_TOL = 0.11


def claim_correlated_orthogonal(
    W: torch.Tensor, set_size: int = 2, tol: float = ORTHOGONAL_TOL
) -> Claim:
    """Features of a correlated set are orthogonal: mean |cos| within sets < tol (all instances),
    tol = the 1st percentile of the same mean on random directions (ORTHOGONAL_TOL)."""
    c = metrics.pair_cosines(W, set_size).abs().mean(-1)
    return Claim(
        id="correlated-orthogonal",
        statement="Correlated features (n=4 in two correlated pairs, m=2) are placed orthogonally.",
        measured={"mean |cos| within pairs per sparsity": c.tolist()},
        expected=f"< {tol:g} at every sparsity (the 1st percentile of random directions; the "
        "paper: cos = 0)",
        passed=bool((c < tol).all()),
    )


#: mean cos of two random pairs in 2-D: its 1st percentile is −0.969 (analytic −1 + π/100: the
#: sum of the two 1 + cos has P(< y) = y/(2π)); 1000 untrained seeds × 2 instances: −0.970. The old
#: bar, −0.9, was met by 3 % of random pairs.
ANTIPODAL_TOL = -0.97


def claim_anticorrelated_antipodal(
    W: torch.Tensor, set_size: int = 2, tol: float = ANTIPODAL_TOL
) -> Claim:
    """Anticorrelated features are antipodal: mean within-set cos < tol (all instances); the paper
    shows them at cos = −1, tol is the 1st percentile of the same mean on random directions
    (ANTIPODAL_TOL)."""
    c = metrics.pair_cosines(W, set_size).mean(-1)
    return Claim(
        id="anticorrelated-negative-interference",
        statement="Anticorrelated features (n=4 in two anticorrelated pairs, m=2) prefer negative "
        "interference (antipodal).",
        measured={"mean cos within pairs per sparsity": c.tolist()},
        expected=f"< {tol:g} at every sparsity (the 1st percentile of random directions; the "
        "paper: cos = −1)",
        passed=bool((c < tol).all()),
    )


#: permutation-test level for the within-set contrast: the share of random regroupings of the
#: features into sets whose within-set mean |cos| is as low must be below it (the null's 1 % tail)
LOCAL_ALPHA = 0.01


def within_set_null_tail(m: int, n: int, set_size: int, draws: int = 1000) -> float:
    """The NULL_TAIL quantile of the within-set mean |cos| of `draws` random [m, n] matrices
    (isotropic directions, the untrained init's): the bar local-orthogonal-bases must beat. It
    depends on m and the set size only, so it is measured for the run's shape (seeded, the same
    every call): n=20, m=10, 2 sets of 10 (both forms) gives 0.221 (1000 untrained seeds: 0.219,
    median 0.258); the old fixed bar, 0.2, was below it."""
    R = torch.randn(draws, m, n, generator=torch.Generator().manual_seed(0))
    return float(metrics.pair_cosines(R, set_size).abs().mean(-1).quantile(NULL_TAIL))


def claim_local_orthogonal_bases(W: torch.Tensor, set_size: int, tol: float | None = None) -> Claim:
    """Large model: within each correlated set features are nearly orthogonal (mean |cos| < tol,
    by default the 1st percentile of random directions of the same shape, `within_set_null_tail`)
    AND that is a property of the sets, not of the whole matrix: fewer than LOCAL_ALPHA of random
    regroupings of the features into sets of the same size (2000 draws) are as orthogonal within
    (a permutation test), while the model as a whole is in superposition (more than
    m features represented). W: [1, hidden, features]."""
    m, n = W.shape[-2], W.shape[-1]
    tol = within_set_null_tail(m, n, set_size) if tol is None else tol
    unit = W / metrics.feature_norms(W).clamp_min(1e-12)[:, None, :]
    cos = (unit.transpose(-1, -2) @ unit)[0].abs()
    sets = torch.arange(n) // set_size
    same = (sets[:, None] == sets[None, :]) & ~torch.eye(n, dtype=torch.bool)
    within, between = float(cos[same].mean()), float(cos[~same & ~torch.eye(n).bool()].mean())
    gen = torch.Generator().manual_seed(0)
    regrouped = []
    for _ in range(2000):
        s = sets[torch.randperm(n, generator=gen)]
        regrouped.append(cos[(s[:, None] == s[None, :]) & ~torch.eye(n, dtype=torch.bool)].mean())
    p = float((torch.stack(regrouped) <= within + 1e-9).float().mean())
    n_rep = int(metrics.represented(W).sum())
    return Claim(
        id="local-orthogonal-bases",
        statement=f"In a larger model (n={n}, m={m}, {n // set_size} correlated sets) each set is "
        "nearly orthogonal while the model as a whole is in superposition.",
        measured={
            "mean |cos| within sets": within,
            "between sets": between,
            "random regroupings p": p,
            "represented": n_rep,
        },
        expected=f"within < {tol:.3g} (the 1st percentile of random directions), p < "
        f"{LOCAL_ALPHA:g} that random regroupings are as orthogonal within, represented > {m}",
        passed=within < tol and p < LOCAL_ALPHA and n_rep > m,
    )


def sorted_angle_gaps(w: torch.Tensor) -> torch.Tensor:
    """Gaps in degrees between consecutive feature directions around the circle. w: [2, features]."""
    ang = torch.atan2(w[1], w[0]).sort().values
    return torch.rad2deg(torch.diff(torch.cat([ang, ang[:1] + 2 * math.pi])))


#: largest |gap − 60°| of six random directions in 2-D: its 1st percentile is 30.9° (10⁶ isotropic
#: draws; 1000 untrained seeds × 2 instances: 31.1°), rounded down. The paper's hexagon is not
#: regular either (correlated partners side by side: this run's gaps alternate ≈ 54°/65°). The old
#: bar, 15°, was met by 0.03 % of random directions.
HEXAGON_TOL_DEG = 30.0


def claim_hexagon_when_sparse(W: torch.Tensor, tol_deg: float = HEXAGON_TOL_DEG) -> Claim:
    """Sparsest setting (last instance): all 6 features represented, in a hexagon (every angular gap
    60° ± tol, the 1st percentile of random directions) with correlated partners side by side
    (cos > 0)."""
    w = W[-1]
    n_rep = int(metrics.represented(w[None]).sum())
    gaps = sorted_angle_gaps(w)
    pair_cos = metrics.pair_cosines(w[None], 2)[0]
    ok = (
        n_rep == w.shape[-1]
        and bool(((gaps - 60).abs() < tol_deg).all())
        and bool((pair_cos > 0).all())
    )
    return Claim(
        id="hexagon-when-sparse",
        statement="Three correlated pairs in m=2, very sparse: a hexagon with correlated features "
        "side by side.",
        measured={"represented": n_rep, "gaps (deg)": gaps.tolist(), "pair cos": pair_cos.tolist()},
        expected=f"6 represented, gaps 60 ± {tol_deg:g}° (the 1st percentile of random "
        "directions), pair cos > 0",
        passed=ok,
    )


#: two random pairs in 2-D both have cos > t with probability (arccos t / π)², so the NULL_TAIL
#: point is t = cos(π √NULL_TAIL) = cos 18° = 0.951 (10⁶ isotropic draws: 0.9509). The claim needs
#: at least m = 2 represented pairs, so no random model passes more often. The old bar, 0.9, was
#: met by 2 % of random directions.
PCA_TOL = math.cos(math.pi * math.sqrt(NULL_TAIL))


def claim_pca_when_dense(W: torch.Tensor, tol: float = PCA_TOL) -> Claim:
    """Densest setting (first instance): the pairs collapse to their principal components — at
    least m pairs (as many components as a PCA in m dims keeps) have a represented member, and
    every such pair has its two features (nearly) parallel, cos > tol (PCA_TOL: 2 random pairs
    pass with probability NULL_TAIL)."""
    w = W[0]
    m = w.shape[0]
    rep = metrics.represented(w[None])[0].view(-1, 2).any(-1)
    pair_cos = metrics.pair_cosines(w[None], 2)[0]
    ok = int(rep.sum()) >= min(m, len(rep)) and bool((pair_cos[rep] > tol).all())
    return Claim(
        id="pca-collapse-when-dense",
        statement="Three correlated pairs in m=2, dense: the represented pairs (at least m) each "
        "collapse onto their principal component (a+b)/√2 (members parallel).",
        measured={"pair represented": rep.tolist(), "pair cos": pair_cos.tolist()},
        expected=f"≥ {m} pairs represented, each with cos > {tol:.3g} (2 random pairs pass with "
        f"probability {NULL_TAIL:g}; the paper: cos = 1)",
        passed=ok,
    )


def run(cfg: CorrelatedConfig, ctx: RunContext) -> ExperimentResult:
    common = {
        "model": "relu_output",
        "seed": cfg.seed,
        "device": str(ctx.device),
        "train": cfg.train.to_dict(),
    }
    set_size = cfg.large_n_features // cfg.large_sets
    setups = {
        "correlated": {
            **common,
            "n_features": 4,
            "n_hidden": 2,
            "features": {"structure": "correlated", "sparsity": cfg.pair_sparsities},
        },
        "anticorrelated": {
            **common,
            "n_features": 4,
            "n_hidden": 2,
            "features": {"structure": "anticorrelated", "sparsity": cfg.pair_sparsities},
        },
        "large": {
            **common,
            "n_features": set_size * cfg.large_sets,
            "n_hidden": cfg.large_n_hidden,
            "features": {
                "structure": "correlated",
                "set_size": set_size,
                "sparsity": cfg.large_sparsity,
            },
        },
        "pairs3": {
            **common,
            "n_features": 6,
            "n_hidden": 2,
            "features": {"structure": "correlated", "sparsity": cfg.sweep_sparsities},
        },
    }
    out = map_grid(
        train_point,
        [{"toy": t} for t in setups.values()],
        progress=ctx.progress,
        description="correlated setups",
    )
    W = {name: o["W"] for name, o in zip(setups, out, strict=True)}
    pair_labels = [f"S={s:g}" for s in cfg.pair_sparsities]
    figures = [
        feature_geometry_2d(
            W["correlated"],
            pair_labels,
            ctx.figure_path("correlated_pairs"),
            "Two correlated pairs (0,1), (2,3), m=2",
        ),
        feature_geometry_2d(
            W["anticorrelated"],
            pair_labels,
            ctx.figure_path("anticorrelated_pairs"),
            "Two anticorrelated pairs (0,1), (2,3), m=2",
        ),
        wtw_and_norms(
            W["large"],
            [f"S={cfg.large_sparsity:g}"],
            ctx.figure_path("local_orthogonal_bases"),
            f"{cfg.large_sets} correlated sets of {set_size}, m={cfg.large_n_hidden}: WᵀW",
        ),
        feature_geometry_2d(
            W["pairs3"],
            [f"S={s:g}" for s in cfg.sweep_sparsities],
            ctx.figure_path("three_pairs_sweep"),
            "Three correlated pairs (0,1), (2,3), (4,5), m=2: dense → sparse",
        ),
    ]
    init = {name: untrained(ToyConfig(**toy)).W.detach() for name, toy in setups.items()}
    kind = "untrained: this run's init weights"
    claims = [
        with_null(claim_correlated_orthogonal, W["correlated"], init["correlated"], kind),
        with_null(
            claim_anticorrelated_antipodal, W["anticorrelated"], init["anticorrelated"], kind
        ),
        with_null(claim_local_orthogonal_bases, W["large"], init["large"], kind, set_size),
        with_null(claim_hexagon_when_sparse, W["pairs3"], init["pairs3"], kind),
        with_null(claim_pca_when_dense, W["pairs3"], init["pairs3"], kind),
    ]
    return ExperimentResult(
        claims=claims,
        figures=figures,
        data={
            "pair_sparsities": cfg.pair_sparsities,
            "sweep_sparsities": cfg.sweep_sparsities,
            "three_pairs_cos": metrics.pair_cosines(W["pairs3"], 2),
            "three_pairs_represented": metrics.represented(W["pairs3"]).sum(-1),
        },
    )


register(
    Experiment(
        name="correlated",
        title="Correlated and anticorrelated features",
        description="Correlated features are placed orthogonally, anticorrelated ones antipodally; "
        "three correlated pairs in m=2 go from a hexagon (sparse) to PCA (dense).",
        config_cls=CorrelatedConfig,
        quick=CorrelatedConfig(
            train=TrainConfig(steps=3000, lr=3e-3, restarts=4),
            pair_sparsities=[0.9, 0.99],
            sweep_sparsities=[0.5, 0.9, 0.99, 0.997],
        ),
        full=CorrelatedConfig(),
        runner=run,
        quick_seconds=8,
        full_seconds=57,
        paper="TMS §'Correlated and anticorrelated features'",
    )
)
