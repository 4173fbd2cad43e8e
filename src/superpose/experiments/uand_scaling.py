"""uand-scaling (Hänni et al., REFERENCE §4): the width U-AND needs as m grows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from pydantic import Field, model_validator

from ..base.config import FrozenConfig
from ..base.device import make_generator
from ..base.fitting import fit_loglog
from ..base.search import grid_boundary
from ..circuits import boolean as B
from ..circuits import boolean_errors as BE
from ..circuits.boolean import UAndConfig
from ..plots import boolean as P
from ..sweep import map_grid
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext, with_null


class UAndScalingConfig(FrozenConfig):
    ms: list[int] = Field(
        [200, 400, 800, 1600, 3200], min_length=3, description="features m (log-spaced)"
    )
    uand: UAndConfig = Field(
        UAndConfig(s=2, shared=20.0),
        description="the U-AND layer (s ≤ 10; shared = d·p², capped at d); m, d, inputs "
        "(basis and superposed) and seed are set per grid point",
    )
    target: float = Field(0.25, gt=0, lt=1, description="target error: largest per-case RMS")
    d_min: int = Field(128, ge=16, description="smallest width tried")
    d_max: int = Field(16384, ge=32, description="largest width tried")
    grid: int = Field(16, ge=4, le=64, description="log-spaced widths between d_min and d_max")
    inputs: int = Field(64, ge=8, description="sampled inputs per evaluation")
    per_case: int = Field(4, ge=1, description="pairs per case per input")
    seeds: list[int] = Field([0, 1, 2], min_length=1, description="constructions per m")
    slope_tolerance: float = Field(0.15, gt=0, description="allowed |slope − 2/3| (superposed)")
    flat_tolerance: float = Field(0.15, gt=0, description="allowed |slope| (basis)")

    @model_validator(mode="after")
    def _check(self) -> UAndScalingConfig:
        if not 2 <= self.uand.s <= 10 or self.uand.s > min(self.ms):
            raise ValueError(f"uand.s = {self.uand.s} must be in 2..10 and ≤ every m")
        return self


def max_case_rms(cfg: UAndConfig, n: int, per: int) -> float:
    """Largest per-case RMS of readout − AND on n sampled exactly-s inputs, `per` pairs per case."""
    layer = B.build_uand(cfg)
    gen = make_generator(cfg.seed + 7919, torch.device("cpu"))
    err, case = BE.sampled_case_errors(layer, cfg.s, n, per, gen)
    return max(v["rms"] for v in BE.case_stats(err, case).values())


def width_needed(point: dict[str, Any]) -> dict[str, Any]:
    """Bisection over a log grid of widths for the smallest d with error ≤ target, then log-interp."""
    grid = np.unique(
        np.round(np.geomspace(point["d_min"], point["d_max"], point["grid"])).astype(int)
    )
    uand = UAndConfig.model_validate(point["uand"])
    cache: dict[int, float] = {}

    def err(i: int) -> float:
        if i not in cache:
            d = int(grid[i])
            layer = uand.replace(d=d, shared=min(uand.shared, d))
            cache[i] = max_case_rms(layer, point["n"], point["per"])
        return cache[i]

    i = grid_boundary(len(grid), lambda k: err(k) <= point["target"], rising=True)
    evaluated = {int(grid[k]): v for k, v in sorted(cache.items())}
    if i is None or i == 0:
        d_needed = None if i is None else float(grid[0])
        return {**point, "d_needed": d_needed, "evaluated": evaluated}
    e_lo, e_hi = math.log(err(i - 1)), math.log(err(i))
    t = (e_lo - math.log(point["target"])) / (e_lo - e_hi) if e_lo != e_hi else 1.0
    log_d = math.log(grid[i - 1]) + t * (math.log(grid[i]) - math.log(grid[i - 1]))
    return {**point, "d_needed": math.exp(log_d), "evaluated": evaluated}


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
# each kind's null: the same measurement with the other kind of inputs
NULL = {
    "basis": "the same search with inputs in superposition (d0 = d), where the width must grow",
    "superposed": "the same search and fit with inputs in a basis, where the width stays flat",
}


def slope_claim(measure: dict[str, Any], kind: str, tol: float, basis_slope: float = 0.0) -> Claim:
    """Claim on the width needed vs m of one kind of inputs (NaN slope: fails). `measure`: the
    log-log slope of the median width, its per-seed range and (superposed) the two-term fit."""
    slope, spread, fit = measure["slope"], measure["spread"], measure["fit"]
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
        "target": cfg.target,
        "d_min": cfg.d_min,
        "d_max": cfg.d_max,
        "grid": cfg.grid,
        "n": cfg.inputs,
        "per": cfg.per_case,
    }
    points = [
        {
            **base,
            "kind": kind,
            "m": m,
            "seed": seed,
            "uand": cfg.uand.replace(m=m, inputs=kind, seed=seed).to_dict(),
        }
        for kind in KINDS
        for m in cfg.ms
        for seed in cfg.seeds
    ]
    rows = map_grid(width_needed, points, progress=ctx.progress, description="uand-scaling")
    series, fits, data = {}, {}, {"rows": rows}
    nan = float("nan")
    measures = {kind: {"slope": nan, "spread": (nan, nan), "fit": None} for kind in KINDS}
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
            continue
        fits[kind] = fit_loglog(ms, med)
        per_seed = []
        for seed in cfg.seeds:
            rs = sorted((r["m"], r["d_needed"]) for r in ok if r["seed"] == seed)
            if len(rs) >= 2:
                per_seed.append(fit_loglog([a for a, _ in rs], [b for _, b in rs])[0])
        spread = (min(per_seed), max(per_seed)) if per_seed else (nan, nan)
        fit = fit_two_term(*evaluated(rows, kind))
        if kind == "superposed":
            fit["per_seed"] = [
                fit_two_term(*evaluated(rows, kind, seed))["exponent"] for seed in cfg.seeds
            ]
            data["superposed_fit"] = fit
        measures[kind] = {"slope": fits[kind][0], "spread": spread, "fit": fit}
        series[kind] = (ms, med, half)
        data[f"{kind}_slope"] = fits[kind][0]
        data[f"{kind}_slope_per_seed"] = per_seed
        data[f"{kind}_d_needed"] = dict(zip(ms, med, strict=True))
    basis, superposed = measures["basis"], measures["superposed"]
    claims = [  # each kind's check on the other kind: the null of flat is growing, and back
        with_null(slope_claim, basis, superposed, NULL["basis"], "basis", cfg.flat_tolerance),
        with_null(
            slope_claim,
            superposed,
            basis,
            NULL["superposed"],
            "superposed",
            cfg.slope_tolerance,
            basis["slope"] if "basis" in fits else 0.0,
        ),
    ]
    figures = []
    if series:
        figures.append(
            P.width_scaling(
                series,
                fits,
                ctx.figure_path("uand_width_vs_m"),
                f"U-AND width for max per-case RMS ≤ {cfg.target} (s={cfg.uand.s}, "
                f"d·p²={cfg.uand.shared}); median ± half-range over {len(cfg.seeds)} seeds",
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
        quick_seconds=31,
        full_seconds=662,
        paper="Hänni et al., abstract: Õ(m^{2/3}) neurons with inputs in superposition",
    )
)
