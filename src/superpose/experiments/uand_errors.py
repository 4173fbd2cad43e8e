"""uand-errors (Hänni et al., REFERENCE §4): U-AND error per case vs the exact formulas."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from pydantic import Field, model_validator

from ..base.config import FrozenConfig
from ..base.device import make_generator
from ..circuits import boolean as B
from ..circuits import boolean_errors as BE
from ..circuits import boolean_inputs as BI
from ..circuits.boolean import UAndConfig
from ..plots import boolean as P
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext, with_null


class UAndErrorsConfig(FrozenConfig):
    uand: UAndConfig = Field(
        UAndConfig(m=30, d=3000, s=3, p=0.2),
        description="the U-AND layer with basis inputs, measured exhaustively over every "
        "exactly-s input (m ≤ 60, 2 ≤ s ≤ 6); its seed is replaced by each of `seeds`",
    )
    seeds: list[int] = Field([0, 1, 2], min_length=1, description="constructions averaged")
    tolerance: float = Field(0.05, gt=0, lt=1, description="relative tolerance vs the formulas")
    superposed: UAndConfig = Field(
        UAndConfig(m=2000, d=1000, s=3, inputs="superposed"),
        description="the layer of the superposed-input noise check (d0 = d by default; s = uand.s)",
    )
    super_inputs: int = Field(256, ge=8, description="sampled inputs for the superposed check")
    small: UAndConfig = Field(
        UAndConfig(m=30, d=20_000, s=2, p=0.05),
        description="the ε < 1/4 instance, measured exhaustively at s = 2 (m ≤ 60)",
    )

    @model_validator(mode="after")
    def _check(self) -> UAndErrorsConfig:
        for name in ("uand", "small"):
            layer = getattr(self, name)
            if layer.inputs != "basis" or layer.m > 60:
                raise ValueError(f"{name}: basis inputs and m ≤ 60 (measured exhaustively)")
        if not 2 <= self.uand.s <= 6:
            raise ValueError(f"uand.s = {self.uand.s} must be in 2..6")
        if self.small.s != 2:
            raise ValueError("small.s must be 2 (the linear readout's exact 1/4 is at s = 2)")
        if self.superposed.inputs != "superposed" or self.superposed.s != self.uand.s:
            raise ValueError("superposed: inputs 'superposed' and s = uand.s")
        return self


def mean_within(measured: float, predicted: float, tol: float) -> bool:
    """|measured − predicted| ≤ tol·|predicted|."""
    return abs(measured - predicted) <= tol * abs(predicted)


def formula_claim(
    measured: dict[str, float], case: str, predicted: dict[str, float], s: int, p: float, tol: float
) -> Claim:
    """One case's claim: measured mean error within tol of the exact formula."""
    text = {"both": "(s−2)p", "one": "(s−1)p", "neither": "sp − 1 + (1−p)^s"}
    return Claim(
        id=f"uand-mean-{case}",
        statement=f"With basis inputs and exactly s={s} active, the mean readout error when "
        f"{case} of the pair's inputs are on is {text[case]} = {predicted[case]:.4f} (p={p}).",
        measured=round(measured[case], 5),
        expected=f"{predicted[case]:.4f} ± {tol:.0%}",
        passed=mean_within(measured[case], predicted[case], tol),
    )


def noise_claim(measured_std: float, predicted_std: float, tol: float = 0.1) -> Claim:
    return Claim(
        id="uand-superposed-noise",
        statement="With inputs in superposition, a neuron's input noise has std ≈ √(p·m·s/d0).",
        measured=round(measured_std, 4),
        expected=f"{predicted_std:.4f} ± {tol:.0%}",
        passed=mean_within(measured_std, predicted_std, tol),
    )


def linear_vs_uand_claim(uand_worst: float, linear_worst: float) -> Claim:
    return Claim(
        id="uand-beats-linear",
        statement="The best linear readout of AND is off by exactly 1/4 in the worst case; U-AND "
        "(with enough neurons) has worst-case error below 1/4.",
        measured={"linear_worst": round(linear_worst, 6), "uand_worst": round(uand_worst, 4)},
        expected="linear = 0.25 exactly; U-AND < 0.25",
        passed=abs(linear_worst - 0.25) < 1e-6 and uand_worst < 0.25,
    )


def input_noise_std(layer: B.BooleanLayer, x: torch.Tensor) -> float:
    """Std of the neurons' input noise from superposition: (W·F x) − (W x) over inputs x."""
    exact_pre = x @ layer.conn.float().T
    noisy_pre = (layer.embed(x) @ layer.F) @ layer.conn.float().T
    return float((noisy_pre - exact_pre).std())


# the null of the formulas and of U-AND's worst case: the same wiring without the AND threshold
LINEAR = "the same wiring with bias 0 instead of −1 (no AND threshold: linear in the inputs)"


def run_errors(cfg: UAndErrorsConfig, ctx: RunContext) -> ExperimentResult:
    device = str(ctx.device)
    s, p = cfg.uand.s, cfg.uand.p_value
    predicted = BE.predicted_mean_errors(s, p)
    layers = [B.build_uand(cfg.uand.replace(seed=seed, device=device)) for seed in cfg.seeds]
    per_seed = [BE.exhaustive_stats(layer, s) for layer in layers]
    stats = {
        c: {k: float(np.mean([st[c][k] for st in per_seed])) for k in per_seed[0][c]}
        for c in B.CASES
    }
    for c in B.CASES:
        stats[c]["worst"] = max(st[c]["worst"] for st in per_seed)
    measured = {c: stats[c]["mean"] for c in B.CASES}

    # inputs in superposition: neuron input noise vs √(p m s / d0)
    sup = cfg.superposed.replace(device=device)
    layer = B.build_uand(sup)
    gen = make_generator(sup.seed + 1000, ctx.device)
    x = BI.sample_inputs(cfg.super_inputs, sup.m, s, gen, ctx.device)
    noise_std = input_noise_std(layer, x)
    pred_std = math.sqrt(sup.p_value * sup.m * s / sup.d0_value)
    sup_err, sup_case = BE.sampled_case_errors(layer, s, cfg.super_inputs, 4, gen)
    sup_stats = BE.case_stats(sup_err, sup_case)

    # ε < 1/4: exhaustive worst case at s = 2 vs the linear baseline's exact 1/4
    small = B.build_uand(cfg.small.replace(device=device))
    small_stats = BE.exhaustive_stats(small, cfg.small.s)
    uand_worst = max(v["worst"] for v in small_stats.values())
    xs = BI.exact_inputs(cfg.small.m, cfg.small.s, ctx.device)
    pairs = BI.all_pairs(cfg.small.m)
    linear_worst = float((BI.linear_and_baseline(xs, pairs) - BI.and_truth(xs, pairs)).abs().max())

    # nulls: the claims' checks on layers that should fail them
    null_stats = BE.exhaustive_stats(dataclasses.replace(layers[0], bias=0.0), s)
    null_means = {c: null_stats[c]["mean"] for c in B.CASES}
    null_small = BE.exhaustive_stats(dataclasses.replace(small, bias=0.0), cfg.small.s)
    narrow = B.build_uand(sup.replace(d0=max(1, sup.d0_value // 4)))
    null_noise = input_noise_std(narrow, x)
    claims = [
        *(
            with_null(
                formula_claim, measured, null_means, LINEAR, c, predicted, s, p, cfg.tolerance
            )
            for c in ("both", "one", "neither")
        ),
        with_null(
            noise_claim,
            noise_std,
            null_noise,
            f"the same layer embedding its inputs in d0/4 = {narrow.F.shape[0]} dimensions "
            "(the prediction kept at d0)",
            pred_std,
        ),
        with_null(
            linear_vs_uand_claim,
            uand_worst,
            max(v["worst"] for v in null_small.values()),
            LINEAR,
            linear_worst,
        ),
    ]
    figures = [
        P.case_errors(
            stats,
            predicted,
            ctx.figure_path("uand_case_errors"),
            f"U-AND, basis inputs: m={cfg.uand.m}, d={cfg.uand.d}, s={s}, p={p}, "
            f"exhaustive, {len(cfg.seeds)} seeds",
        ),
        P.case_errors(
            sup_stats,
            predicted,
            ctx.figure_path("uand_case_errors_superposed"),
            f"U-AND, superposed inputs: m={sup.m}, d={sup.d}, d0={sup.d0_value}, s={s}, "
            f"p={sup.p_value:.3f} (orange: basis formula at p={p}, for scale)",
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
        full=UAndErrorsConfig().replace(
            **{
                "uand.m": 40,
                "uand.d": 6000,
                "seeds": [0, 1, 2, 3, 4],
                "superposed.m": 8000,
                "superposed.d": 3000,
                "small.m": 40,
            }
        ),
        runner=run_errors,
        quick_seconds=1,
        full_seconds=11,
        paper="Hänni et al., U-AND construction (basis and superposed inputs)",
    )
)
