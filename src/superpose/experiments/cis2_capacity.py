"""cis2-capacity (REFERENCE §2): how many circuits each neuron allocation hosts."""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field

from ..base.config import FrozenConfig
from ..base.fitting import fit_loglog
from ..circuits.allocation import make_allocation
from ..circuits.cis2 import CiS2Config, build_cis2
from ..circuits.errors import (
    run_profile,
)
from ..plots import circuits as cplots
from ..sweep import map_grid
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext


class Cis2CapacityConfig(FrozenConfig):
    widths: list[int] = Field([500, 1000, 2000], min_length=2, description="widths D")
    net: CiS2Config = Field(
        CiS2Config(
            circuit_width=4,
            redundancy=5,
            layers=3,
            max_active=1,
            circuit_kind="random",
            max_load=100,
            allow_unverified=True,
        ),
        description="the network (d, S, L, z = max_active; 1: no T-independent active-active "
        "overlap floor); width, circuits and allocation are set per grid point",
    )
    target: float = Field(
        0.05, gt=0, le=10, description="target relative MSE of active circuits at the last layer"
    )
    schemes: list[str] = Field(
        ["prime", "affine", "random"], min_length=1, description="allocation schemes"
    )
    steps: int = Field(
        6, ge=2, le=30, description="T values on a geometric grid up to the allocation maximum"
    )
    batch: int = Field(128, ge=8, le=1_000_000, description="sampled inputs per evaluation")
    tolerance: float = Field(
        0.2, gt=0, le=1, description="allowed relative deviation of the slope from 2"
    )


def capacity_point(point: dict[str, Any]) -> dict[str, Any]:
    """Largest T whose last-layer active relative MSE stays ≤ target (interpolated on a log grid)."""
    net = CiS2Config.model_validate(point["net"])
    D, d, S, z = point["width"], net.circuit_width, net.redundancy, net.max_active
    alloc = make_allocation(point["scheme"], D // d, S, seed=net.seed)

    def rel_error(T: int) -> float:
        cfg = net.replace(width=D, circuits=T, allocation=point["scheme"])
        prof = run_profile(build_cis2(cfg, allocation=alloc), z, point["batch"], net.seed + 3)
        return prof.active["total"][-1] / prof.a2[-1]

    # error at a geometric grid of T, then log-log interpolation at the target crossing
    lo, hi = max(z, 8), alloc.capacity
    n = point["steps"]
    Ts = sorted({round(lo * (hi / lo) ** (k / (n - 1))) for k in range(n)})
    errs = [rel_error(T) for T in Ts]
    target = point["target"]
    if errs[-1] <= target:
        return {"T": hi, "capacity": hi, "allocation_limited": True, "grid": Ts, "errors": errs}
    if errs[0] > target:
        return {"T": Ts[0], "capacity": hi, "allocation_limited": False, "grid": Ts, "errors": errs}
    k = max(i for i, e in enumerate(errs) if e <= target)
    t0, t1, e0, e1 = Ts[k], Ts[k + 1], errs[k], errs[k + 1]
    frac = math.log(target / e0) / math.log(e1 / e0) if e1 > e0 else 0.0
    T = math.exp(math.log(t0) + frac * math.log(t1 / t0))
    return {"T": T, "capacity": hi, "allocation_limited": False, "grid": Ts, "errors": errs}


def capacity_claim(
    scheme: str, widths: list[int], ts: list[float], limited: list[bool], tolerance: float
) -> Claim:
    """Largest T at fixed error grows as D² (fit over error-limited points when ≥ 2 exist)."""
    keep = [k for k, lim in enumerate(limited) if not lim]
    if len(keep) < 2:
        keep = list(range(len(ts)))
    slope = fit_loglog([widths[k] for k in keep], [ts[k] for k in keep])[0]
    return Claim(
        id=f"capacity-slope-{scheme}",
        statement=f"With the {scheme} allocation, the largest T at fixed error grows as D² (T ≲ D²/(d²z)).",
        measured={
            "slope": slope,
            "T": ts,
            "allocation_limited": limited,
            "fitted_widths": [widths[k] for k in keep],
        },
        expected=f"slope within {tolerance:.0%} of 2",
        passed=abs(slope - 2) <= 2 * tolerance,
    )


def run_capacity(cfg: Cis2CapacityConfig, ctx: RunContext) -> ExperimentResult:
    base = {"net": cfg.net.to_dict(), "target": cfg.target, "steps": cfg.steps, "batch": cfg.batch}
    points = [{**base, "width": D, "scheme": s} for s in cfg.schemes for D in cfg.widths]
    res = map_grid(capacity_point, points, progress=ctx.progress, description="cis2-capacity")
    found: dict[str, list[float]] = {}
    limited: dict[str, list[bool]] = {}
    for p, r in zip(points, res, strict=True):
        found.setdefault(p["scheme"], []).append(r["T"])
        limited.setdefault(p["scheme"], []).append(r["allocation_limited"])
    d, z = cfg.net.circuit_width, cfg.net.max_active
    theory = [D**2 / (d * d * z) for D in cfg.widths]
    first = next(iter(found.values()))
    scale = first[0] / theory[0]
    claims = [
        capacity_claim(scheme, cfg.widths, ts, limited[scheme], cfg.tolerance)
        for scheme, ts in found.items()
    ]
    fig = cplots.capacity(
        cfg.widths,
        found,
        [t * scale for t in theory],
        ctx.figure_path("capacity"),
        f"CiS2 capacity at relative MSE ≤ {cfg.target:g} (d={d}, S={cfg.net.redundancy}, z={z}, L={cfg.net.layers})",
    )
    return ExperimentResult(
        claims=claims,
        figures=[fig],
        data={
            "widths": cfg.widths,
            "largest_T": found,
            "allocation_limited": limited,
            "D2_over_d2z": theory,
        },
        notes=[
            "A point marked allocation_limited hit the allocation's maximum T before the error target."
        ],
    )


register(
    Experiment(
        name="cis2-capacity",
        title="CiS2 capacity: largest T at a target error vs D, per allocation",
        description="Error on a log grid of T for each width and allocation scheme (prime steps, affine plane, random), against D²/(d²z).",
        config_cls=Cis2CapacityConfig,
        quick=Cis2CapacityConfig(batch=64),
        full=Cis2CapacityConfig(widths=[500, 1000, 2000, 4000], batch=512, steps=10),
        runner=run_capacity,
        quick_seconds=60,
        full_seconds=900,
        paper="CiS2 (seed 001), capacity T ≲ D²/(d²z)",
    )
)
