"""U-AND (Hänni et al., REFERENCE §4): error per case vs the exact formulas, and width vs m."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..base.device import make_generator
from ..base.fitting import fit_loglog
from ..circuits import boolean as B
from ..circuits import boolean_errors as BE
from ..circuits import boolean_inputs as BI
from ..plots import boolean as P
from ..sweep import map_grid
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext

# ---------------------------------------------------------------- uand-errors


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

# ---------------------------------------------------------------- uand-scaling


class UAndScalingConfig(FrozenConfig):
    ms: list[int] = Field(
        [200, 400, 800, 1600, 3200], min_length=3, description="features m (log-spaced)"
    )
    s: int = Field(2, ge=2, le=10, description="exactly s features active")
    shared: float = Field(20.0, gt=0, description="expected neurons per pair d·p²")
    target: float = Field(0.25, gt=0, lt=1, description="target error: largest per-case RMS")
    d_min: int = Field(128, ge=16, description="smallest width tried")
    d_max: int = Field(16384, ge=32, description="largest width tried")
    grid: int = Field(16, ge=4, le=64, description="log-spaced widths between d_min and d_max")
    inputs: int = Field(64, ge=8, description="sampled inputs per evaluation")
    per_case: int = Field(4, ge=1, description="pairs per case per input")
    seeds: list[int] = Field([0, 1, 2], min_length=1, description="constructions per m")
    slope_tolerance: float = Field(0.15, gt=0, description="allowed |slope − 2/3| (superposed)")
    flat_tolerance: float = Field(0.15, gt=0, description="allowed |slope| (basis)")


def max_case_rms(m: int, d: int, s: int, shared: float, inputs: str, seed: int, n: int, per: int):
    """Largest per-case RMS of readout − AND on n sampled exactly-s inputs, `per` pairs per case."""
    layer = B.build_uand(
        B.make_config(B.UAndConfig, m=m, d=d, s=s, shared=min(shared, d), inputs=inputs, seed=seed)
    )
    gen = make_generator(seed + 7919, torch.device("cpu"))
    err, case = BE.sampled_case_errors(layer, s, n, per, gen)
    return max(v["rms"] for v in BE.case_stats(err, case).values())


def width_needed(point: dict[str, Any]) -> dict[str, Any]:
    """Bisection over a log grid of widths for the smallest d with error ≤ target, then log-interp."""
    grid = np.unique(
        np.round(np.geomspace(point["d_min"], point["d_max"], point["grid"])).astype(int)
    )
    args = (point["s"], point["shared"], point["kind"], point["seed"], point["n"], point["per"])
    cache: dict[int, float] = {}

    def err(i: int) -> float:
        if i not in cache:
            cache[i] = max_case_rms(point["m"], int(grid[i]), *args)
        return cache[i]

    lo, hi = 0, len(grid) - 1
    if err(hi) > point["target"]:
        return {**point, "d_needed": None, "evaluated": {int(grid[k]): v for k, v in cache.items()}}
    if err(lo) <= point["target"]:
        return {**point, "d_needed": float(grid[lo]), "evaluated": {int(grid[lo]): cache[lo]}}
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if err(mid) > point["target"]:
            lo = mid
        else:
            hi = mid
    e_lo, e_hi = math.log(err(lo)), math.log(err(hi))
    t = (e_lo - math.log(point["target"])) / (e_lo - e_hi) if e_lo != e_hi else 1.0
    log_d = math.log(grid[lo]) + t * (math.log(grid[hi]) - math.log(grid[lo]))
    return {
        **point,
        "d_needed": math.exp(log_d),
        "evaluated": {int(grid[k]): v for k, v in sorted(cache.items())},
    }


def fit_two_term(m: np.ndarray, d: np.ndarray, err: np.ndarray) -> dict[str, float]:
    """Fit err² = a/d + b·m^γ/d^β by relative least squares (a, b ≥ 0; grid over γ, β).

    With d·p² fixed, the basis-input error is ∝ p ∝ d^{-1/2} (the a/d term, independent of m); the
    second term is the interference of superposed inputs. The width its part needs scales as
    m^{γ/β} (theory: γ = 1, β = 3/2, so 2/3).
    """
    y = err**2
    best: dict[str, float] = {"sse": math.inf}
    for gamma in np.linspace(0.5, 1.5, 41):
        for beta in np.linspace(0.75, 2.25, 61):
            A = np.stack([1 / d, m**gamma / d**beta], 1) / y[:, None]
            coef, *_ = np.linalg.lstsq(A, np.ones_like(y), rcond=None)
            coef = np.clip(coef, 0, None)
            sse = float(((A @ coef - 1) ** 2).sum())
            if sse < best["sse"]:
                best = {
                    "sse": sse,
                    "gamma": float(gamma),
                    "beta": float(beta),
                    "a": float(coef[0]),
                    "b": float(coef[1]),
                }
    best["rms_relative_residual"] = math.sqrt(best["sse"] / len(y))
    best["exponent"] = best["gamma"] / best["beta"]
    return best


KINDS = ("basis", "superposed")


def slope_claim(
    kind: str,
    slope: float,
    spread: tuple[float, float],
    tol: float,
    basis_slope: float = 0.0,
    fit: dict[str, float] | None = None,
) -> Claim:
    """Claim on a fitted log-log slope of width needed vs m (NaN slope: fails)."""
    measured = {"slope": round(slope, 3), "per-seed range": [round(v, 3) for v in spread]}
    if kind == "basis":
        return Claim(
            id="uand-width-flat-basis",
            statement="With inputs in a basis, the width needed for a fixed error is flat in m "
            "(only polylog in m).",
            measured=measured,
            expected=f"|slope| ≤ {tol}",
            passed=abs(slope) <= tol,
        )
    exponent = fit["exponent"] if fit else float("nan")
    return Claim(
        id="uand-width-superposed-2/3",
        statement="With inputs in superposition (d0 = d), the width needed grows as m^{2/3}. The "
        "raw slope over a modest m range is lowered by the m-independent basis error (∝ p² ∝ 1/d "
        "at fixed d·p²), so err² = a/d + b·m^γ/d^β is fitted to every evaluated (m, d, error): the "
        "superposition term needs width ∝ m^{γ/β}.",
        measured={
            **measured,
            "basis slope": round(basis_slope, 3),
            "fitted γ/β": round(exponent, 3),
            "γ": round(fit["gamma"], 3) if fit else None,
            "β": round(fit["beta"], 3) if fit else None,
            "rms relative residual": round(fit["rms_relative_residual"], 3) if fit else None,
            "per-seed γ/β": [round(v, 3) for v in fit.get("per_seed", [])] if fit else [],
        },
        expected=f"γ/β = {2 / 3:.3f} ± {tol} and raw slope > basis slope + 0.2",
        passed=abs(exponent - 2 / 3) <= tol and slope > basis_slope + 0.2,
    )


def evaluated(
    rows: list[dict[str, Any]], kind: str, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (m, d, error) evaluated for one kind (and seed): three arrays."""
    ev = [
        (r["m"], float(d), e)
        for r in rows
        if r["kind"] == kind and (seed is None or r["seed"] == seed)
        for d, e in r["evaluated"].items()
    ]
    return tuple(np.array(v, dtype=float) for v in zip(*ev, strict=True))  # type: ignore[return-value]


def run_scaling(cfg: UAndScalingConfig, ctx: RunContext) -> ExperimentResult:
    base = {
        "s": cfg.s,
        "shared": cfg.shared,
        "target": cfg.target,
        "d_min": cfg.d_min,
        "d_max": cfg.d_max,
        "grid": cfg.grid,
        "n": cfg.inputs,
        "per": cfg.per_case,
    }
    points = [
        {**base, "kind": kind, "m": m, "seed": seed}
        for kind in KINDS
        for m in cfg.ms
        for seed in cfg.seeds
    ]
    rows = map_grid(width_needed, points, progress=ctx.progress, description="uand-scaling")
    claims, series, fits, data = [], {}, {}, {"rows": rows}
    notes = []
    for kind in KINDS:
        ok = [r for r in rows if r["kind"] == kind and r["d_needed"] is not None]
        missing = [(r["m"], r["seed"]) for r in rows if r["kind"] == kind and r["d_needed"] is None]
        if missing:
            notes.append(
                f"{kind}: target not reached within d ≤ {cfg.d_max} for (m, seed) {missing}"
            )
        ms = sorted({r["m"] for r in ok})
        med = [float(np.median([r["d_needed"] for r in ok if r["m"] == m])) for m in ms]
        half = [float(np.ptp([r["d_needed"] for r in ok if r["m"] == m]) / 2) for m in ms]
        if len(ms) < 2:
            claims.append(slope_claim(kind, float("nan"), (float("nan"),) * 2, 0.0))
            continue
        fits[kind] = fit_loglog(ms, med)
        per_seed = []
        for seed in cfg.seeds:
            rs = sorted((r["m"], r["d_needed"]) for r in ok if r["seed"] == seed)
            if len(rs) >= 2:
                per_seed.append(fit_loglog([a for a, _ in rs], [b for _, b in rs])[0])
        spread = (min(per_seed), max(per_seed)) if per_seed else (float("nan"),) * 2
        tol = cfg.flat_tolerance if kind == "basis" else cfg.slope_tolerance
        basis_slope = fits.get("basis", (0.0, 0.0))[0]
        fit = None
        if kind == "superposed":
            fit = fit_two_term(*evaluated(rows, kind))
            fit["per_seed"] = [
                fit_two_term(*evaluated(rows, kind, seed))["exponent"] for seed in cfg.seeds
            ]
            data["superposed_fit"] = fit
        claims.append(slope_claim(kind, fits[kind][0], spread, tol, basis_slope, fit))
        series[kind] = (ms, med, half)
        data[f"{kind}_slope"] = fits[kind][0]
        data[f"{kind}_slope_per_seed"] = per_seed
        data[f"{kind}_d_needed"] = dict(zip(ms, med, strict=True))
    figures = []
    if series:
        figures.append(
            P.width_scaling(
                series,
                fits,
                ctx.figure_path("uand_width_vs_m"),
                f"U-AND width for max per-case RMS ≤ {cfg.target} (s={cfg.s}, "
                f"d·p²={cfg.shared}); median ± half-range over {len(cfg.seeds)} seeds",
            )
        )
    return ExperimentResult(claims=claims, figures=figures, data=data, notes=notes)


register(
    Experiment(
        name="uand-scaling",
        title="U-AND: neurons needed vs features m (basis vs superposed inputs)",
        description="Smallest width d reaching a target error as m grows: flat for basis inputs, "
        "≈ m^{2/3} for inputs in superposition with d0 = d. Slopes fitted per seed and on the median.",
        config_cls=UAndScalingConfig,
        quick=UAndScalingConfig(),
        full=UAndScalingConfig(
            ms=[250, 500, 1000, 2000, 4000, 8000, 16000],
            seeds=[0, 1, 2, 3, 4],
            inputs=192,
            d_max=32768,
            grid=24,
        ),
        runner=run_scaling,
        quick_seconds=40,
        full_seconds=1200,
        paper="Hänni et al., abstract: Õ(m^{2/3}) neurons with inputs in superposition",
    )
)
