"""TMS "Non-uniform superposition": n=5 features in m=2 dimensions, one feature's density varied.

At uniform density 0.05 the model learns a regular pentagon; making one feature denser pushes its
neighbours away from it, making it sparser pulls them in (the pentagon deforms); sparse enough, it
collapses to two antipodal pairs (digons) with that feature at zero: a first-order phase change
where the loss curves of the two geometries cross. Models are trained on the exact expected loss
(`toy.exact`: no sampling noise), best of seeds; the two geometries are then each continued across
all densities from their own solution to trace both loss curves.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..plots import plt, save_figure
from ..plots.geometry import competing_losses, geometry_panels
from ..toy import metrics
from ..toy.exact import ExactTrainConfig, train_exact
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext, same_norms_random, with_null

N, M, VARIED = 5, 2, 4


class NonuniformConfig(FrozenConfig):
    base_density: float = Field(0.05, gt=0, le=1, description="density of the other four features")
    min_density: float = Field(1e-3, gt=0, le=1, description="sparsest density of the varied one")
    max_density: float = Field(0.3, gt=0, le=1, description="densest density of the varied one")
    n_density: int = Field(12, ge=3, le=200, description="log-spaced densities (plus the base)")
    exact: ExactTrainConfig = Field(
        ExactTrainConfig(seeds=16, steps=1000, lr=0.02, nodes=4),
        description="exact-loss training of every density (seeds per density, the best is kept)",
    )
    continue_steps: int = Field(
        300, ge=1, le=100_000, description="steps continuing a geometry (at exact.lr / 10)"
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed")


def angle_gaps(W: torch.Tensor, min_norm: float = metrics.REPRESENTED) -> torch.Tensor:
    """Angular gaps (degrees) between consecutive represented features of W [2, features], in
    counter-clockwise order; the gap after feature i is at the position of i in that order."""
    keep = (W.norm(dim=0) >= min_norm).nonzero().flatten()
    ang = torch.rad2deg(torch.atan2(W[1, keep], W[0, keep])).sort().values
    return torch.diff(torch.cat([ang, ang[:1] + 360]))


def pentagon_error(W: torch.Tensor) -> float:
    """Largest deviation (degrees) of the gaps from 72° when all five features are represented,
    else inf."""
    gaps = angle_gaps(W)
    return float((gaps - 72).abs().max()) if len(gaps) == N else math.inf


def digon_collapse(W: torch.Tensor, varied: int = VARIED) -> dict[str, float]:
    """Norm of the varied feature and, over the others, the worst best-partner cosine
    (−1 when every other feature has an exactly antipodal partner)."""
    others = [i for i in range(W.shape[1]) if i != varied]
    Wo = W[:, others]
    unit = Wo / Wo.norm(dim=0).clamp_min(1e-12)
    cos = unit.T @ unit
    partner = cos.min(dim=1).values
    return {
        "varied_norm": float(W[:, varied].norm()),
        "worst_partner_cos": float(partner.max()),
        "min_other_norm": float(Wo.norm(dim=0).min()),
    }


#: The digon claim's norms use the project's 'represented' (metrics.REPRESENTED), not a bar of its
#: own: "the varied feature at zero" is "not represented" and the four others are.
#: The paper shows the four other features in two antipodal pairs (cos = −1) and states no
#: tolerance, so the bar is the 1 % tail of the statistic on the claim's null, random directions
#: (the trained norms): the worst best-partner cosine of four isotropic directions has its 1st
#: percentile at −0.9841 (10⁶ draws; analytic to leading order −cos(π √(0.01/3)) = −0.9836: the
#: three pairings each pass with probability (δ/π)²), rounded down; 0.94 % of draws pass it. The
#: old bar, −0.95, was met by 3.3 %.
DIGON_COS = -0.985


def is_digon(W: torch.Tensor) -> bool:
    c = digon_collapse(W)
    return (
        c["varied_norm"] < metrics.REPRESENTED
        and c["worst_partner_cos"] < DIGON_COS
        and c["min_other_norm"] > metrics.REPRESENTED
    )


def neighbour_gaps(W: torch.Tensor, varied: int = VARIED) -> list[float]:
    """The two angular gaps (degrees) on either side of the varied feature (needs it represented)."""
    ang = torch.rad2deg(torch.atan2(W[1], W[0]))
    rel = (ang - ang[varied]) % 360
    rel[varied] = float("nan")
    others = rel[~rel.isnan()]
    return [float(others.min()), float(360 - others.max())]


#: The paper shows a regular pentagon (every gap 72°) and states no tolerance, so the bar is the
#: 1 % tail of the statistic on the claim's null, random directions (the trained norms, all five
#: represented): the largest |gap − 72°| of five isotropic directions has its 1st percentile at
#: 29.3° (10⁶ draws; 0.1 %: 16°), rounded down. The old bar, 5°, was met by 0.001 %.
PENTAGON_TOL_DEG = 29.0


def pentagon_claim(W: torch.Tensor, density: float) -> Claim:
    err = pentagon_error(W)
    return Claim(
        id="regular-pentagon-when-uniform",
        statement=f"With all five features at density {density:g} the model learns a regular "
        "pentagon.",
        measured={"gaps_deg": angle_gaps(W).tolist(), "max_deviation_deg": err},
        expected=f"5 features represented, every angular gap within {PENTAGON_TOL_DEG:g}° of 72° "
        "(the 1st percentile of random directions; the paper: 0°)",
        passed=err <= PENTAGON_TOL_DEG,
    )


def collapse_claim(W: torch.Tensor, density: float) -> Claim:
    c = digon_collapse(W)
    return Claim(
        id="digon-collapse-when-sparse",
        statement=f"At density {density:g} of the varied feature the pentagon has collapsed to two "
        "antipodal pairs (digons) with the varied feature at zero.",
        measured=c,
        expected=f"varied ‖W‖ < {metrics.REPRESENTED:g} and every other > {metrics.REPRESENTED:g} (the "
        f"project's 'represented'); every other feature has a partner with cos < {DIGON_COS:g} "
        "(the 1st percentile of random directions; the paper: −1)",
        passed=is_digon(W),
    )


def crossing_claim(losses: tuple[torch.Tensor, torch.Tensor], density: torch.Tensor) -> Claim:
    """losses = (pentagon, digons): [D] losses of the continued geometries (density ascending)."""
    pent, digon = losses
    diff = pent - digon
    sign = torch.sign(diff)
    changes = int((sign[1:] != sign[:-1]).sum())
    crossing = None
    if changes:
        k = int((sign[1:] != sign[:-1]).nonzero()[0])
        crossing = float(math.sqrt(density[k] * density[k + 1]))
    passed = bool(diff[0] > 0 and diff[-1] < 0)
    return Claim(
        id="loss-curves-cross",
        statement="The loss curves of the two geometries cross: digons are better when the varied "
        "feature is sparse, the pentagon when it is dense (a first-order phase change).",
        measured={
            "loss_gap_sparsest": float(diff[0]),
            "loss_gap_densest": float(diff[-1]),
            "sign_changes": changes,
            "crossing_density": crossing,
        },
        expected="pentagon − digon loss > 0 at the sparsest density and < 0 at the densest",
        passed=passed,
    )


def repel_claim(W_dense: torch.Tensor, density: float, margin: float) -> Claim:
    """Both gaps next to the denser varied feature exceed 72° by more than `margin` (the uniform
    pentagon's own largest deviation from 72°, so its noise cannot pass)."""
    gaps = neighbour_gaps(W_dense)
    return Claim(
        id="denser-feature-pushes-others-away",
        statement=f"When the varied feature is denser (density {density:g}) its neighbours move "
        "away from it: both adjacent gaps exceed the regular 72° by more than the uniform "
        "pentagon deviates from it.",
        measured={"adjacent_gaps_deg": gaps},
        expected=f"both adjacent gaps > 72° + {margin:.2g}° (the uniform pentagon's largest "
        "deviation)",
        passed=min(gaps) > 72.0 + margin,
    )


def pull_claim(W_sparse: torch.Tensor, density: float | None, margin: float) -> Claim:
    """Both gaps next to the sparser (still represented) varied feature fall short of 72° by more
    than `margin` (the uniform pentagon's largest deviation from 72°, so its noise cannot pass).
    W_sparse: the best model at the sparsest density below the base that still represents the
    varied feature (None when no such density: the claim fails)."""
    gaps = neighbour_gaps(W_sparse) if density is not None else []
    return Claim(
        id="sparser-feature-pulls-others-in",
        statement="When the varied feature is sparser but still represented (the sparsest such "
        f"density, {density if density is None else f'{density:.3g}'}) its neighbours move "
        "towards it: both adjacent gaps fall short of the regular 72° by more than the uniform "
        "pentagon deviates from it.",
        measured={"adjacent_gaps_deg": gaps, "density": density},
        expected=f"both adjacent gaps < 72° − {margin:.2g}° (the uniform pentagon's largest "
        "deviation)",
        passed=bool(gaps) and max(gaps) < 72.0 - margin,
    )


def deformation_figure(W: torch.Tensor, density: torch.Tensor, base: float, path) -> Path:
    """The paper's picture of perturbing a single feature: the best model at every density where the
    varied feature is represented, overlaid and rotated so that feature points up; colour from blue
    (sparser than the others) to yellow (denser)."""
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    norm = plt.Normalize(math.log10(float(density.min())), math.log10(float(density.max())))
    for w, d in zip(W, density, strict=True):
        if w[:, VARIED].norm() < metrics.REPRESENTED:
            continue
        turn = math.pi / 2 - math.atan2(float(w[1, VARIED]), float(w[0, VARIED]))
        rot = torch.tensor([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
        v = rot @ w
        color = plt.cm.viridis(norm(math.log10(float(d))))
        lw = 2.5 if math.isclose(float(d), base, rel_tol=1e-6) else 1.2
        for i in range(N):
            ax.plot([0, v[0, i]], [0, v[1, i]], "-", color=color, lw=lw, alpha=0.9)
        ax.plot(v[0, VARIED], v[1, VARIED], "o", color=color, ms=6)
    sm = plt.cm.ScalarMappable(norm=norm, cmap="viridis")
    fig.colorbar(sm, ax=ax, shrink=0.8, label="log10 density of the varied feature (dot)")
    ax.set_aspect("equal")
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.4, 1.4)
    ax.set_title(
        f"n=5, m=2: one feature's density varied (others {base:g}, thick);\nsparser pulls its "
        "neighbours in, denser pushes them away",
        fontsize=9,
    )
    return save_figure(fig, path)


def run(cfg: NonuniformConfig, ctx: RunContext) -> ExperimentResult:
    device = ctx.device
    grid = torch.logspace(math.log10(cfg.min_density), math.log10(cfg.max_density), cfg.n_density)
    dv = torch.unique(torch.cat([grid, torch.tensor([cfg.base_density])]))  # ascending
    D = len(dv)
    dens = torch.full((D, N), cfg.base_density)
    dens[:, VARIED] = dv
    imp = torch.ones(D, N)
    # every seed separately (seeds=1 on repeated settings) to see each geometry's loss
    ex, seeds = cfg.exact, cfg.exact.seeds
    rep = train_exact(
        M,
        imp.repeat_interleave(seeds, 0).to(device),
        dens.repeat_interleave(seeds, 0).to(device),
        **ex.replace(seeds=1).to_dict(),
        seed=cfg.seed,
    )
    W_all, b_all, L_all = rep.W.cpu(), rep.b.cpu(), rep.loss.cpu()
    L = L_all.view(D, seeds)
    best = L.argmin(1) + torch.arange(D) * seeds
    W_best, b_best = W_all[best], b_all[best]
    base = int((dv == cfg.base_density).nonzero()[0])
    # continue each geometry from its own solution across all densities
    conts = {}
    for name, idx in (("pentagon", base), ("digons", 0)):
        init = (W_best[idx].expand(D, M, N).clone(), b_best[idx].expand(D, N).clone())
        conts[name] = train_exact(
            M,
            imp.to(device),
            dens.to(device),
            **ex.replace(seeds=1, steps=cfg.continue_steps, lr=ex.lr / 10).to_dict(),
            seed=cfg.seed,
            init=(init[0].to(device), init[1].to(device)),
        )
    pent_loss, digon_loss = conts["pentagon"].loss.cpu(), conts["digons"].loss.cpu()
    is_pent = torch.tensor([pentagon_error(w) <= 10 for w in W_all])
    figures = [
        geometry_panels(
            list(W_best),
            [f"density {d:.3g}" for d in dv],
            VARIED,
            ctx.figure_path("geometries"),
            "Best model per density of the varied feature (canonicalised)",
        ),
        competing_losses(
            dv,
            [("pentagon (continued)", pent_loss), ("two digons (continued)", digon_loss)],
            (dv.repeat_interleave(seeds), L_all, is_pent),
            ctx.figure_path("loss_curves"),
            "Loss of competing geometries, n=5, m=2",
            scatter_labels=("seeds: pentagon-like (gaps within 10° of 72°)", "seeds: other"),
        ),
    ]
    # the sparsest density below the base at which the best model still represents the varied one
    below = [k for k in range(base) if W_best[k][:, VARIED].norm() >= metrics.REPRESENTED]
    sparse = below[0] if below else None
    figures.append(deformation_figure(W_best, dv, cfg.base_density, ctx.figure_path("deformation")))
    rnd = "random directions with the trained feature norms"
    claims = [
        with_null(
            pentagon_claim,
            W_best[base],
            same_norms_random(W_best[base], cfg.seed),
            rnd,
            cfg.base_density,
        ),
        with_null(
            collapse_claim, W_best[0], same_norms_random(W_best[0], cfg.seed), rnd, float(dv[0])
        ),
        with_null(
            crossing_claim,
            (pent_loss, digon_loss),
            (digon_loss, pent_loss),
            "the two geometries' loss curves swapped",
            dv,
        ),
        with_null(
            pull_claim,
            W_best[sparse] if sparse is not None else W_best[base],
            W_best[base],
            "the uniform-density pentagon (the varied feature not sparser)",
            float(dv[sparse]) if sparse is not None else None,
            pentagon_error(W_best[base]),
        ),
        with_null(
            repel_claim,
            W_best[-1],
            W_best[base],
            "the uniform-density pentagon (the varied feature not denser)",
            float(dv[-1]),
            pentagon_error(W_best[base]),
        ),
    ]
    return ExperimentResult(
        claims=claims,
        figures=figures,
        data={
            "density": dv,
            "best_loss": L.min(1).values,
            "pentagon_loss": pent_loss,
            "digon_loss": digon_loss,
            "pentagon_continued_stays": [pentagon_error(w) <= 10 for w in conts["pentagon"].W],
            "digons_continued_stay": [is_digon(w) for w in conts["digons"].W.cpu()],
            "best_is_digon": [is_digon(w) for w in W_best],
            "W_best": W_best,  # [densities, 2, 5]: the report's geometry slider
        },
    )


register(
    Experiment(
        name="nonuniform-pentagon",
        title="Non-uniform superposition: a pentagon collapsing to digons (n=5, m=2)",
        description="Vary one feature's density: the regular pentagon deforms (a sparser feature "
        "pulls its neighbours in, a denser one pushes them away), then collapses to two digons with the varied feature at zero where the geometries' loss curves cross.",
        config_cls=NonuniformConfig,
        quick=NonuniformConfig(
            n_density=7,
            exact=ExactTrainConfig(seeds=8, steps=600, lr=0.02, nodes=4),
            continue_steps=200,
        ),
        full=NonuniformConfig(
            n_density=16,
            exact=ExactTrainConfig(seeds=24, steps=1500, lr=0.02, nodes=5),
            continue_steps=400,
        ),
        runner=run,
        quick_seconds=8,
        full_seconds=208,
        paper="TMS 'Non-uniform superposition', perturbing a single feature",
    )
)
