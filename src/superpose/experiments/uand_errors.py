"""uand-errors (Hänni et al., REFERENCE §4): U-AND error per case vs the exact formulas."""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from ..base.config import FrozenConfig
from ..base.device import make_generator
from ..circuits import boolean as B
from ..circuits import boolean_errors as BE
from ..circuits import boolean_inputs as BI
from ..plots import boolean as P
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext


class UAndErrorsConfig(FrozenConfig):
    m: int = Field(30, ge=4, le=60, description="features m (exhaustive over all exactly-s inputs)")
    d: int = Field(3000, ge=10, le=200_000, description="neurons d")
    s: int = Field(3, ge=2, le=6, description="exactly s features active")
    p: float = Field(0.2, gt=0, le=1, description="connection probability p")
    seeds: list[int] = Field([0, 1, 2], min_length=1, description="constructions averaged")
    tolerance: float = Field(0.05, gt=0, lt=1, description="relative tolerance vs the formulas")
    super_m: int = Field(2000, ge=10, description="features m for the superposed-input noise check")
    super_d: int = Field(1000, ge=10, description="neurons (= d0) for the superposed-input check")
    super_inputs: int = Field(256, ge=8, description="sampled inputs for the superposed check")
    small_d: int = Field(20_000, ge=10, description="neurons of the ε < 1/4 instance (s=2)")
    small_p: float = Field(0.05, gt=0, le=1, description="p of the ε < 1/4 instance")


def mean_within(measured: float, predicted: float, tol: float) -> bool:
    """|measured − predicted| ≤ tol·|predicted|."""
    return abs(measured - predicted) <= tol * abs(predicted)


def formula_claims(
    measured: dict[str, float], predicted: dict[str, float], s: int, p: float, tol: float
) -> list[Claim]:
    """One claim per case: measured mean error within tol of the exact formula."""
    text = {"both": "(s−2)p", "one": "(s−1)p", "neither": "sp − 1 + (1−p)^s"}
    return [
        Claim(
            id=f"uand-mean-{case}",
            statement=f"With basis inputs and exactly s={s} active, the mean readout error when "
            f"{case} of the pair's inputs are on is {text[case]} = {predicted[case]:.4f} (p={p}).",
            measured=round(measured[case], 5),
            expected=f"{predicted[case]:.4f} ± {tol:.0%}",
            passed=mean_within(measured[case], predicted[case], tol),
        )
        for case in ("both", "one", "neither")
    ]


def noise_claim(measured_std: float, predicted_std: float, tol: float = 0.1) -> Claim:
    return Claim(
        id="uand-superposed-noise",
        statement="With inputs in superposition, a neuron's input noise has std ≈ √(p·m·s/d0).",
        measured=round(measured_std, 4),
        expected=f"{predicted_std:.4f} ± {tol:.0%}",
        passed=mean_within(measured_std, predicted_std, tol),
    )


def linear_vs_uand_claim(linear_worst: float, uand_worst: float) -> Claim:
    return Claim(
        id="uand-beats-linear",
        statement="The best linear readout of AND is off by exactly 1/4 in the worst case; U-AND "
        "(with enough neurons) has worst-case error below 1/4.",
        measured={"linear_worst": round(linear_worst, 6), "uand_worst": round(uand_worst, 4)},
        expected="linear = 0.25 exactly; U-AND < 0.25",
        passed=abs(linear_worst - 0.25) < 1e-6 and uand_worst < 0.25,
    )


def run_errors(cfg: UAndErrorsConfig, ctx: RunContext) -> ExperimentResult:
    predicted = BE.predicted_mean_errors(cfg.s, cfg.p)
    per_seed = []
    for seed in cfg.seeds:
        layer = B.build_uand(
            B.make_config(
                B.UAndConfig, m=cfg.m, d=cfg.d, s=cfg.s, p=cfg.p, seed=seed, device=str(ctx.device)
            )
        )
        per_seed.append(BE.exhaustive_stats(layer, cfg.s))
    stats = {
        c: {k: float(np.mean([st[c][k] for st in per_seed])) for k in per_seed[0][c]}
        for c in B.CASES
    }
    for c in B.CASES:
        stats[c]["worst"] = max(st[c]["worst"] for st in per_seed)
    measured = {c: stats[c]["mean"] for c in B.CASES}

    # inputs in superposition: neuron input noise vs √(p m s / d0)
    sup = B.make_config(
        B.UAndConfig,
        m=cfg.super_m,
        d=cfg.super_d,
        s=cfg.s,
        inputs="superposed",
        seed=cfg.seeds[0],
        device=str(ctx.device),
    )
    layer = B.build_uand(sup)
    gen = make_generator(cfg.seeds[0] + 1000, ctx.device)
    x = BI.sample_inputs(cfg.super_inputs, cfg.super_m, cfg.s, gen, ctx.device)
    exact_pre = x @ layer.conn.float().T
    noisy_pre = (layer.embed(x) @ layer.F) @ layer.conn.float().T
    noise_std = float((noisy_pre - exact_pre).std())
    pred_std = math.sqrt(sup.p_value * cfg.super_m * cfg.s / sup.d0_value)
    sup_err, sup_case = BE.sampled_case_errors(layer, cfg.s, cfg.super_inputs, 4, gen)
    sup_stats = BE.case_stats(sup_err, sup_case)

    # ε < 1/4: exhaustive worst case at s = 2 vs the linear baseline's exact 1/4
    small = B.build_uand(
        B.make_config(
            B.UAndConfig,
            m=cfg.m,
            d=cfg.small_d,
            s=2,
            p=cfg.small_p,
            seed=cfg.seeds[0],
            device=str(ctx.device),
        )
    )
    small_stats = BE.exhaustive_stats(small, 2)
    uand_worst = max(v["worst"] for v in small_stats.values())
    xs = BI.exact_inputs(cfg.m, 2, ctx.device)
    pairs = BI.all_pairs(cfg.m)
    linear_worst = float((BI.linear_and_baseline(xs, pairs) - BI.and_truth(xs, pairs)).abs().max())

    claims = [
        *formula_claims(measured, predicted, cfg.s, cfg.p, cfg.tolerance),
        noise_claim(noise_std, pred_std),
        linear_vs_uand_claim(linear_worst, uand_worst),
    ]
    figures = [
        P.case_errors(
            stats,
            predicted,
            ctx.figure_path("uand_case_errors"),
            f"U-AND, basis inputs: m={cfg.m}, d={cfg.d}, s={cfg.s}, p={cfg.p}, "
            f"exhaustive, {len(cfg.seeds)} seeds",
        ),
        P.case_errors(
            sup_stats,
            predicted,
            ctx.figure_path("uand_case_errors_superposed"),
            f"U-AND, superposed inputs: m={cfg.super_m}, d=d0={cfg.super_d}, s={cfg.s}, "
            f"p={sup.p_value:.3f} (orange: basis formula at p={cfg.p}, for scale)",
        ),
    ]
    return ExperimentResult(
        claims=claims,
        figures=figures,
        data={
            "basis_stats": stats,
            "basis_stats_per_seed": per_seed,
            "predicted": predicted,
            "superposed_stats": sup_stats,
            "superposed_noise_std": noise_std,
            "superposed_noise_predicted": pred_std,
            "small_instance_stats": small_stats,
        },
    )


register(
    Experiment(
        name="uand-errors",
        title="U-AND: readout error per case vs the exact formulas",
        description="Exhaustive error statistics of the U-AND layer (bias −1, averaging readout) per "
        "case (both/one/neither input on) against (s−2)p, (s−1)p, sp−1+(1−p)^s; the neuron noise of "
        "superposed inputs against √(p m s/d0); and the linear readout's exact 1/4.",
        config_cls=UAndErrorsConfig,
        quick=UAndErrorsConfig(),
        full=UAndErrorsConfig(m=40, d=6000, seeds=[0, 1, 2, 3, 4], super_m=8000, super_d=3000),
        runner=run_errors,
        quick_seconds=10,
        full_seconds=120,
        paper="Hänni et al., U-AND construction (basis and superposed inputs)",
    )
)
