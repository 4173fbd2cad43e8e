"""What phase-2x1 and phase-3x2 share (TMS "Superposition as a phase change"): empirical vs
theoretical phase diagrams; each experiment's module registers its case with `register_case`."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..plots.phase import candidate_loss_curves, phase_diagrams
from ..sweep import map_grid
from ..toy import theory
from ..toy.config import ToyConfig, TrainConfig
from ..toy.exact import train_exact
from ..toy.phase import classify, grid_axes, phase_row
from ..toy.train import train
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext

#: (relative importance, density) points where sampled training is compared with exact-loss training
CHECK_POINTS: tuple[tuple[float, float], ...] = ((0.2, 0.5), (5.0, 0.8), (3.0, 0.03), (0.5, 0.02))


class PhaseConfig(FrozenConfig):
    case: Literal["2x1", "3x2"] = Field("2x1", description="2x1 (n=2, m=1) or 3x2 (n=3, m=2)")
    n_importance: int = Field(40, ge=2, le=400, description="grid points in relative importance")
    n_density: int = Field(40, ge=2, le=400, description="grid points in density 1 − S")
    seeds: int = Field(10, ge=1, le=100, description="models per grid point; the best is kept")
    steps: int = Field(200, ge=1, le=100_000, description="full-batch Adam steps on the exact loss")
    lr: float = Field(0.05, gt=0, le=10, description="peak learning rate (cosine decay)")
    nodes: int = Field(6, ge=2, le=32, description="Gauss–Legendre nodes per active feature")
    mc_samples: int = Field(
        200_000, ge=1000, le=100_000_000, description="Monte Carlo samples per activity pattern"
    )
    check_train: TrainConfig | None = Field(
        TrainConfig(steps=3000, lr=1e-2, schedule="cosine", restarts=5, eval_batch=65_536),
        description="sampled training at the check points (restarts: seeds per point; null: skip)",
    )
    workers: int = Field(1, ge=1, le=1024, description="parallel workers for the sweep")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed")


def mc_check(case: str, samples: int, seed: int) -> dict[str, float]:
    """Largest relative error of the closed forms against a stratified Monte Carlo estimate of the
    same weights' loss, over candidates × a 3×3 grid of (importance, density)."""
    n, _ = theory.CASES[case]
    worst = 0.0
    for r in (0.3, 1.0, 3.0):
        for p in (0.03, 0.3, 1.0):
            closed = theory.candidate_losses(case, torch.tensor(r), torch.tensor(p))
            imp = torch.tensor(theory.case_importance(case, r))
            for k, cand in enumerate(theory.CANDIDATES[case]):
                mc = theory.stratified_mc_loss(
                    cand.weight(), torch.zeros(n), imp, torch.full((n,), p), samples, seed + k
                )
                worst = max(worst, relative_error(float(closed[k]), float(mc)))
    return {"max_relative_error": worst}


def relative_error(closed: float, estimate: float) -> float:
    return abs(closed - estimate) / max(abs(estimate), 1e-30)


def agreement(empirical: torch.Tensor, theoretical: torch.Tensor) -> float:
    """Share of grid points where the two phase maps agree."""
    return float((empirical == theoretical).float().mean())


def sampled_check(cfg: PhaseConfig, device: str) -> dict[str, list]:
    """Phases at CHECK_POINTS by sampled training (AdamW, like the paper) and by exact-loss training."""
    n, m = theory.CASES[cfg.case]
    imps = [theory.case_importance(cfg.case, r) for r, _ in CHECK_POINTS]
    sparsity = [[1.0 - p] * n for _, p in CHECK_POINTS]
    toy = ToyConfig(
        model="relu_output",
        n_features=n,
        n_hidden=m,
        features={"sparsity": sparsity},
        importance=imps,
        train=cfg.check_train,
        seed=cfg.seed,
        device=device,
    )
    sampled = classify(train(toy, progress=False).model.W.detach().cpu())
    exact = train_exact(
        m,
        torch.tensor(imps),
        torch.tensor([[p] * n for _, p in CHECK_POINTS]),
        seeds=cfg.seeds,
        steps=cfg.steps,
        lr=cfg.lr,
        nodes=cfg.nodes,
        seed=cfg.seed,
    )
    return {"sampled": sampled.tolist(), "exact": classify(exact.W).tolist()}


def mc_claim(mc: dict[str, float]) -> Claim:
    return Claim(
        id="closed-forms-match-monte-carlo",
        statement="The closed-form expected loss of every candidate solution agrees with a "
        "Monte Carlo estimate of the same weights' loss.",
        measured=mc,
        expected="max relative error < 1 % (3×3 grid of importance × density)",
        passed=mc["max_relative_error"] < 0.01,
    )


def agreement_claim(agree: float, n_importance: int, n_density: int) -> Claim:
    return Claim(
        id="empirical-matches-theory",
        statement="The empirical phase diagram (trained models, best of seeds) and the "
        "theoretical one (lowest closed-form loss) agree on most grid points.",
        measured={"agreement": agree, "grid": [n_importance, n_density]},
        expected="≥ 80 % of grid points",
        passed=agree >= 0.8,
    )


def sampled_claim(check: dict[str, list]) -> Claim:
    same = sum(a == b for a, b in zip(check["sampled"], check["exact"], strict=True))
    total = len(check["exact"])
    return Claim(
        id="exact-training-matches-sampled",
        statement="Training on the exact expected loss finds the same phase as ordinary "
        "sampled training (AdamW, batch 1024) at check points across the diagram.",
        measured={"points": CHECK_POINTS, **check, "same": same},
        expected=f"same phase at ≥ {total - 1} of {total} points",
        passed=same >= total - 1,
    )


def run(cfg: PhaseConfig, ctx: RunContext) -> ExperimentResult:
    n, m = theory.CASES[cfg.case]
    imp, dens = grid_axes(cfg.n_importance, cfg.n_density)
    points = [
        {
            "case": cfg.case,
            "importance": float(r),
            "densities": dens.tolist(),
            "seeds": cfg.seeds,
            "steps": cfg.steps,
            "lr": cfg.lr,
            "nodes": cfg.nodes,
            "seed": cfg.seed + i,
        }
        for i, r in enumerate(imp)
    ]
    rows = map_grid(
        phase_row,
        points,
        workers=cfg.workers,
        progress=ctx.progress,
        description=f"phase {cfg.case}",
    )
    empirical = torch.tensor([row["phase"] for row in rows])  # [R, D]
    theoretical = theory.theoretical_phase(cfg.case, imp[:, None], dens[None, :])
    agree = agreement(empirical, theoretical)
    mc = mc_check(cfg.case, cfg.mc_samples, cfg.seed)
    label = f"n={n}, m={m}"
    figures = [
        phase_diagrams(
            imp,
            dens,
            [
                (f"empirical (best of {cfg.seeds} seeds)", empirical),
                ("theoretical (closed-form candidates)", theoretical),
            ],
            ctx.figure_path(f"phase_{cfg.case}"),
            f"Phase of the extra feature, {label}",
        ),
        candidate_loss_curves(
            dens,
            theory.candidate_losses(cfg.case, torch.tensor(3.0), dens),
            [c.name for c in theory.CANDIDATES[cfg.case]],
            ctx.figure_path(f"candidate_losses_{cfg.case}"),
            f"Candidate losses at relative importance 3, {label}",
        ),
    ]
    claims = [mc_claim(mc), agreement_claim(agree, cfg.n_importance, cfg.n_density)]
    data = {
        "importance": imp,
        "density": dens,
        "empirical": empirical,
        "theoretical": theoretical,
        "best_loss": [row["loss"] for row in rows],
        # for the report's hover: each candidate's closed-form loss per cell [R, D, candidates]
        "candidates": [c.name for c in theory.CANDIDATES[cfg.case]],
        "candidate_losses": theory.candidate_losses(cfg.case, imp[:, None], dens[None, :]),
        "phase_names": list(theory.PHASES),
    }
    if cfg.check_train is not None:
        check = sampled_check(cfg, str(ctx.device))
        claims.append(sampled_claim(check))
        data["sampled_check"] = check
    return ExperimentResult(claims=claims, figures=figures, data=data)


def register_case(case: str, quick_grid: int, quick_seconds: float, full_seconds: float) -> None:
    n, m = theory.CASES[case]
    register(
        Experiment(
            name=f"phase-{case}",
            title=f"Phase diagram of an extra feature, n={n}, m={m}",
            description="Empirical (exact-loss training, best of seeds) vs theoretical "
            "(closed-form candidate losses) phase of the extra feature over relative importance "
            "× density.",
            config_cls=PhaseConfig,
            quick=PhaseConfig(
                case=case,
                n_importance=quick_grid,
                n_density=quick_grid,
                seeds=5,
                nodes=4 if case == "3x2" else 6,
                mc_samples=100_000,
                check_train=PhaseConfig().check_train.replace(steps=2000, restarts=3),
            ),
            full=PhaseConfig(case=case, nodes=4 if case == "3x2" else 6, steps=300),
            runner=run,
            quick_seconds=quick_seconds,
            full_seconds=full_seconds,
            paper="TMS 'Superposition as a phase change', phase diagrams",
        )
    )
