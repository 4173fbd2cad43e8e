"""CiS2 (REFERENCE §2): per-layer errors vs theory, scaling laws, and capacity per allocation."""

from __future__ import annotations

import math
from typing import Any

import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..base.fitting import fit_loglog
from ..circuits.allocation import make_allocation
from ..circuits.cis2 import CiS2Config, build_cis2
from ..circuits.errors import (
    ErrorProfile,
    fit_c_w,
    inactive_preactivation_noise,
    linear_r2,
    margin_noise_scale,
    margins_held,
    predicted,
    run_profile,
)
from ..circuits.small import sample_inputs
from ..plots import circuits as cplots
from ..sweep import map_grid
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext

# ---------------------------------------------------------------------------------------------
# cis2-errors


class Cis2ErrorsConfig(FrozenConfig):
    width: int = Field(1000, ge=8, le=100_000, description="large width D (reference 1000)")
    check_width: int = Field(
        2000,
        ge=8,
        le=100_000,
        description="second width where the prediction (c_w fitted at D) is tested",
    )
    circuit_width: int = Field(4, ge=4, le=4, description="circuit width d (rotation circuits: 4)")
    redundancy: int = Field(6, ge=2, le=64, description="embedding redundancy S")
    circuits: int = Field(557, ge=1, le=1_000_000, description="circuits T")
    layers: int = Field(5, ge=2, le=64, description="layers L")
    active: list[int] = Field([1, 2, 3], min_length=1, description="numbers z of active circuits")
    batch: int = Field(256, ge=8, le=1_000_000, description="sampled inputs per z")
    unembedding: str = Field("mean", pattern="^(mean|plain)$", description="unembedding variant")
    seed: int = Field(0, ge=0, description="random seed")


def _net_config(cfg: Cis2ErrorsConfig, width: int) -> CiS2Config:
    return CiS2Config(
        width=width,
        circuit_width=cfg.circuit_width,
        redundancy=cfg.redundancy,
        circuits=cfg.circuits,
        layers=cfg.layers,
        max_active=max(cfg.active),
        unembedding=cfg.unembedding,
        verify_tol=1e6,
        seed=cfg.seed,
    )


def claim_layer1_exact(profiles: dict[int, ErrorProfile]) -> Claim:
    """No error at layer 1 when only one circuit is on."""
    err = profiles[1].active["total"][0] if 1 in profiles else float("nan")
    return Claim(
        id="layer1-exact-z1",
        statement="With one circuit on (z=1) the active circuit's readout at layer 1 is exact.",
        measured=err,
        expected="MSE ≤ 1e-10",
        passed=bool(err <= 1e-10),
    )


def claim_propagation_from_layer2(profiles: dict[int, ErrorProfile]) -> Claim:
    """Propagation error is zero at layer 1 and present from layer 2 on."""
    first = {z: p.active["propagation"][0] for z, p in profiles.items()}
    second = {z: p.active["propagation"][1] for z, p in profiles.items()}
    ok = all(first[z] <= 1e-12 and second[z] > 1e-6 for z in profiles)
    return Claim(
        id="propagation-from-layer-2",
        statement="The propagation error is absent at layer 1 and first appears at layer 2.",
        measured={"layer1": first, "layer2": second},
        expected="layer 1: 0; layer 2: > 1e-6, for every z",
        passed=ok,
    )


def claim_linear_depth(profiles: dict[int, ErrorProfile], min_r2: float = 0.95) -> Claim:
    """Active error grows about linearly with depth: R² of a line through error vs layer."""
    r2 = {z: linear_r2(p.active["total"]) for z, p in profiles.items()}
    return Claim(
        id="active-linear-in-depth",
        statement="The active circuits' readout error grows about linearly with depth.",
        measured={
            "R2 of linear fit": r2,
            "error by layer": {z: p.active["total"] for z, p in profiles.items()},
        },
        expected=f"R² ≥ {min_r2} for every z",
        passed=all(v >= min_r2 for v in r2.values()),
    )


def claim_inactive_flat(
    profiles: dict[int, ErrorProfile], width: int, max_ratio: float = 2.0
) -> Claim:
    """Inactive error flat in depth: last layer / first layer ≤ max_ratio."""
    ratio = {
        z: p.inactive["total"][-1] / max(p.inactive["total"][0], 1e-30) for z, p in profiles.items()
    }
    return Claim(
        id=f"inactive-flat-D{width}",
        statement=f"At D={width} the inactive circuits' readout error is flat in depth.",
        measured={"last/first": ratio},
        expected=f"last/first ≤ {max_ratio} for every z",
        passed=all(v <= max_ratio for v in ratio.values()),
    )


def claim_overlap_formula(profiles: dict[int, ErrorProfile], tol: float = 0.3) -> Claim:
    """Inactive embedding-overlap MSE ≈ z·d/D·⟨a²⟩ (no fitted constant)."""
    rel = {}
    for z, p in profiles.items():
        pred = predicted(p, 0.0)["overlap_inactive"]
        rel[z] = max(abs(m / q - 1) for m, q in zip(p.inactive["overlap"], pred, strict=True))
    return Claim(
        id="overlap-formula",
        statement="The inactive circuits' embedding-overlap error matches z·d/D·⟨a²⟩ (no fitted constant).",
        measured={"max relative deviation": rel},
        expected=f"≤ {tol:.0%} at every layer and z",
        passed=all(v <= tol for v in rel.values()),
    )


def claim_within_factor(
    profiles: dict[int, ErrorProfile], c_w: float, width: int, factor: float = 2.0
) -> Claim:
    """Measured active total at layers ≥ 2 within `factor` of the prediction with c_w fitted once."""
    worst = {}
    for z, p in profiles.items():
        pred = predicted(p, c_w)["total_active"]
        worst[z] = max(
            max(m / q, q / m)
            for m, q in zip(p.active["total"][1:], pred[1:], strict=True)
            if m > 0 and q > 0
        )
    return Claim(
        id=f"prediction-within-2x-D{width}",
        statement=f"At D={width} the active error at layers ≥ 2 is within {factor:g}× of §2's formula (c_w fitted once at the reference width).",
        measured={"worst ratio": worst, "c_w": c_w},
        expected=f"worst ratio ≤ {factor:g} for every z",
        passed=all(v <= factor for v in worst.values()),
    )


def claim_linear_if_margins_hold(
    held: dict[int, dict[str, list[float]]], min_r2: float = 0.95, max_ratio: float = 2.0
) -> Claim:
    """§2's depth behaviour under its own Case-1 assumption (neurons hosting no active circuit off)."""
    r2 = {z: linear_r2(h["active"]) for z, h in held.items()}
    ratio = {z: h["inactive"][-1] / max(h["inactive"][0], 1e-30) for z, h in held.items()}
    return Claim(
        id="linear-depth-if-margins-hold",
        statement="With §2's assumption enforced (large neurons hosting no active circuit stay off), "
        "the active error grows about linearly with depth and the inactive error stays flat.",
        measured={"R2 active": r2, "inactive last/first": ratio},
        expected=f"R² ≥ {min_r2} and inactive last/first ≤ {max_ratio} for every z",
        passed=all(r2[z] >= min_r2 and ratio[z] <= max_ratio for z in held),
    )


def _margin_diagnostics(net, cfg: Cis2ErrorsConfig, width: int) -> dict[int, dict]:
    """Per z: oracle errors (margins held) and the pre-activation noise at inactive a0 neurons."""
    out = {}
    for z in cfg.active:
        x, mask = sample_inputs(
            net.circuits, cfg.batch, z, torch.Generator().manual_seed(cfg.seed + 100 + z)
        )
        dev = net.positions.device
        x, mask = x.to(dev), mask.to(dev)
        out[z] = {
            **margins_held(net, x, mask),
            "a0_noise_rms": inactive_preactivation_noise(net, x, mask, block=0),
            "a0_noise_predicted": 2
            * margin_noise_scale(cfg.redundancy, z, cfg.circuits, width, cfg.circuit_width),
        }
    return out


def run_errors(cfg: Cis2ErrorsConfig, ctx: RunContext) -> ExperimentResult:
    profiles: dict[int, dict[int, ErrorProfile]] = {}
    margins: dict[int, dict[int, dict]] = {}
    for width in (cfg.width, cfg.check_width):
        net = build_cis2(_net_config(cfg, width)).to(ctx.device)
        profiles[width] = {
            z: run_profile(net, z, cfg.batch, cfg.seed + 100 + z) for z in cfg.active
        }
        margins[width] = _margin_diagnostics(net, cfg, width)
    ref, chk = profiles[cfg.width], profiles[cfg.check_width]
    c_w = fit_c_w(list(ref.values()))
    other = "plain" if cfg.unembedding == "mean" else "mean"
    zmax = max(cfg.active)
    alt_net = build_cis2(_net_config(cfg, cfg.width).replace(unembedding=other)).to(ctx.device)
    alt = run_profile(alt_net, zmax, cfg.batch, cfg.seed + 100 + zmax)
    unembedding_cmp = {
        f"{cfg.unembedding} (used)": ref[zmax].active["total"],
        other: alt.active["total"],
    }
    figures = []
    for width, profs in profiles.items():
        curves: dict[str, tuple[list[float], dict]] = {}
        for j, (z, p) in enumerate(profs.items()):
            color = f"C{j}"
            curves[f"active z={z}"] = (p.active["total"], {"color": color, "marker": "o"})
            curves[f"inactive z={z}"] = (
                p.inactive["total"],
                {"color": color, "ls": "--", "marker": "s"},
            )
            curves[f"predicted active z={z}"] = (
                predicted(p, c_w)["total_active"],
                {"color": color, "ls": ":"},
            )
        figures.append(
            cplots.error_vs_layer(
                curves,
                ctx.figure_path(f"errors_D{width}"),
                f"CiS2 readout error vs layer (D={width}, T={cfg.circuits}, S={cfg.redundancy}; c_w={c_w:.2f} fitted at D={cfg.width})",
            )
        )
    parts = {
        f"{who} {part}": getattr(ref[zmax], who)[part]
        for who in ("active", "inactive")
        for part in ("overlap", "relu", "propagation")
    }
    figures.append(
        cplots.decomposition(
            parts,
            ctx.figure_path("decomposition"),
            f"Error decomposition at D={cfg.width}, z={zmax}",
        )
    )
    claims = [
        claim_layer1_exact(ref),
        claim_propagation_from_layer2(ref),
        claim_linear_depth(ref),
        claim_inactive_flat(ref, cfg.width),
        claim_inactive_flat(chk, cfg.check_width),
        claim_overlap_formula(ref),
        claim_within_factor(ref, c_w, cfg.width),
        claim_within_factor(chk, c_w, cfg.check_width),
        claim_linear_if_margins_hold(margins[cfg.width]),
    ]
    m_ref = margins[cfg.width]
    return ExperimentResult(
        claims=claims,
        figures=figures,
        data={
            "c_w": c_w,
            f"active error by layer per unembedding (D={cfg.width}, z={zmax})": unembedding_cmp,
            "profiles": {
                str(w): {str(z): p.to_dict() for z, p in ps.items()} for w, ps in profiles.items()
            },
            "margins held (oracle) and a0 pre-activation noise": {
                str(w): {str(z): v for z, v in ms.items()} for w, ms in margins.items()
            },
        },
        notes=[
            "Large neurons switched on by noise although no active circuit uses them (inactive margins "
            f"broken), by layer, z={zmax}: "
            + "; ".join(
                f"D={w}: " + ", ".join(f"{v:.2%}" for v in ps[zmax].spurious_on)
                for w, ps in profiles.items()
            )
            + ". Where this grows with depth, errors compound instead of adding up linearly.",
            "Why the depth claims fail at D=1000: a large neuron hosts T·S·d/D circuits; each inactive one is "
            "read off with MSE ≈ z·d/D, so the summed noise at a neuron hosting no active circuit has RMS ≈ "
            "sqrt(S·z·T·d²/D²) in units of the on-state (×2 for the on-indicator a0 = ReLU(2α − 0.5)). "
            "Measured at layer 2 vs predicted, a0 neurons, D="
            + "; D=".join(
                f"{w}: "
                + ", ".join(
                    f"z={z} {v['a0_noise_rms'][1]:.2f} vs {v['a0_noise_predicted']:.2f}"
                    for z, v in ms.items()
                )
                for w, ms in margins.items()
            )
            + ". The a0 margin is 0.5 (value neurons: 1), so at the reference configuration the noise is "
            "comparable to the margins: §2's assumption that neurons used only by inactive circuits stay off "
            "(its Case 1) does not hold, and the switched-on neurons carry error forward. Enforcing that "
            "assumption in the same network (oracle: neurons hosting no active circuit zeroed) gives, at D="
            f"{cfg.width}, active R² "
            + ", ".join(f"z={z}: {linear_r2(v['active']):.3f}" for z, v in m_ref.items())
            + " and inactive last/first "
            + ", ".join(
                f"z={z}: {v['inactive'][-1] / max(v['inactive'][0], 1e-30):.2f}"
                for z, v in m_ref.items()
            )
            + ". So the failure is a property of the configuration (S·z·T·d²/D² = "
            + ", ".join(
                f"{margin_noise_scale(cfg.redundancy, z, cfg.circuits, cfg.width, cfg.circuit_width) ** 2:.3f}"
                for z in cfg.active
            )
            + " for z = "
            + ", ".join(str(z) for z in cfg.active)
            + " against the a0 margin in units of α, 0.25² = 0.0625), not of the embedding: per-layer re-permutation is on, each large neuron "
            "gets one circuit's bias (the mean over hosted circuits, not their sum), and the mean-corrected "
            "readout keeps the noise zero-mean (the plain E_tᵀ/S readout biases it positive and is worse). "
            "A steeper on-indicator (a0 = ReLU(5α − 2), a1 = ReLU(5α − 3), value margin 2) cut layer-2 "
            "switch-ons but raised the weights' gain and still compounded (diagnostic run, batch 256: R² 0.88/0.92/0.97 for z = 1/2/3).",
            "Tried while building (not tuned to pass): value-neuron gain/margin (g, δ) = (3, 1.5), (2, 1), "
            "(2, 0.75); at D=1000 the active error grew faster than linearly with depth in all three, and "
            "about linearly at D=2000. (2, 1) is used.",
            "Errors are MSE per circuit neuron of the linear readout U_t A^l against the exact circuits.",
            f"Unembedding: {cfg.unembedding} (the plain U=E_tᵀ/S readout blows up with depth at the reference configuration).",
        ],
    )


register(
    Experiment(
        name="cis2-errors",
        title="CiS2 readout error vs layer at the reference configuration (D=1000, d=4, S=6, T=557, L=5)",
        description="Per-layer error of active and inactive circuits for z = 1, 2, 3, decomposed into overlap, "
        "ReLU and propagation parts, against §2's formulas with c_w fitted once; checked again at D=2000.",
        config_cls=Cis2ErrorsConfig,
        quick=Cis2ErrorsConfig(batch=128),
        full=Cis2ErrorsConfig(batch=2048),
        runner=run_errors,
        quick_seconds=15,
        full_seconds=120,
        paper="CiS2 (seed 001), error calculation and summary",
    )
)

# ---------------------------------------------------------------------------------------------
# cis2-scaling

PREDICTED_SLOPES = {
    ("circuits", "propagation"): 1.0,
    ("width", "propagation"): -2.0,
    ("width", "overlap"): -1.0,
    ("circuit_width", "propagation"): 2.0,
    ("circuit_width", "overlap"): 1.0,
    ("active", "propagation"): 1.0,
    ("active", "overlap"): 1.0,
}


class Cis2ScalingConfig(FrozenConfig):
    width: int = Field(2400, ge=24, le=100_000, description="base width D (divisible by every d)")
    circuit_width: int = Field(4, ge=3, le=64, description="base circuit width d")
    circuits: int = Field(600, ge=1, le=1_000_000, description="base number of circuits T")
    active: int = Field(2, ge=1, le=100, description="base number of active circuits z")
    redundancy: int = Field(5, ge=2, le=64, description="embedding redundancy S")
    T_values: list[int] = Field([150, 300, 600, 1200], min_length=3, description="T grid")
    D_values: list[int] = Field([1200, 2400, 4800], min_length=3, description="D grid")
    d_values: list[int] = Field([3, 4, 6, 8], min_length=3, description="d grid")
    z_values: list[int] = Field([1, 2, 4, 8], min_length=3, description="z grid")
    T_scan_active: int = Field(
        1,
        ge=1,
        le=100,
        description="z used in the T grid (1 isolates the inactive circuits' propagation)",
    )
    batch: int = Field(256, ge=8, le=1_000_000, description="sampled inputs per point")
    tolerance: float = Field(0.2, gt=0, le=1, description="allowed relative deviation of a slope")
    seed: int = Field(0, ge=0, description="random seed")


def scaling_point(point: dict[str, Any]) -> dict[str, Any]:
    """One grid point: build (L=2, random circuits, affine allocation) and measure layer-2 parts."""
    cfg = CiS2Config(
        width=point["width"],
        circuit_width=point["circuit_width"],
        redundancy=point["redundancy"],
        circuits=point["circuits"],
        layers=2,
        max_active=point["active"],
        circuit_kind="random",
        allocation="affine",
        max_load=100,
        verify_tol=1e6,
        seed=point["seed"],
    )
    prof = run_profile(build_cis2(cfg), point["active"], point["batch"], point["seed"] + 7)
    return {
        "propagation": prof.active["propagation"][1],
        "overlap": prof.inactive["overlap"][0] / prof.a2[0],
    }


def slope_claim(var: str, part: str, label: str, x: list, y: list, tolerance: float) -> Claim:
    """The fitted log-log slope of `part` against `var` is within tolerance of §2's exponent."""
    pred = PREDICTED_SLOPES[(var, part)]
    slope = fit_loglog(x, y)[0]
    return Claim(
        id=f"slope-{part}-vs-{var}",
        statement=f"The {part} error scales as {label}^{pred:g}.",
        measured={"slope": slope, "x": x, "y": y},
        expected=f"slope within {tolerance:.0%} of {pred:g}",
        passed=abs(slope - pred) <= tolerance * abs(pred),
    )


def run_scaling(cfg: Cis2ScalingConfig, ctx: RunContext) -> ExperimentResult:
    base = {
        "width": cfg.width,
        "circuit_width": cfg.circuit_width,
        "circuits": cfg.circuits,
        "active": cfg.active,
        "redundancy": cfg.redundancy,
        "batch": cfg.batch,
        "seed": cfg.seed,
    }
    grids = {
        "circuits": cfg.T_values,
        "width": cfg.D_values,
        "circuit_width": cfg.d_values,
        "active": cfg.z_values,
    }
    points = [{**base, var: v} for var, vals in grids.items() for v in vals]
    points = [
        {**p, "active": cfg.T_scan_active} if i < len(cfg.T_values) else p
        for i, p in enumerate(points)
    ]
    floor_points = [{**base, "circuits": v} for v in cfg.T_values]
    all_results = map_grid(
        scaling_point, points + floor_points, progress=ctx.progress, description="cis2-scaling"
    )
    results, floor = all_results[: len(points)], all_results[len(points) :]
    floor_prop = [r["propagation"] for r in floor]
    by_var: dict[str, dict[str, list[float]]] = {}
    i = 0
    for var, vals in grids.items():
        chunk = results[i : i + len(vals)]
        i += len(vals)
        by_var[var] = {part: [r[part] for r in chunk] for part in ("propagation", "overlap")}
    labels = {
        "circuits": "circuits T",
        "width": "width D",
        "circuit_width": "circuit width d",
        "active": "active circuits z",
    }
    claims, panels, slopes = [], [], {}
    for var, vals in grids.items():
        fits, ys = {}, {}
        for part in ("propagation", "overlap"):
            if (var, part) not in PREDICTED_SLOPES:
                continue
            slope, intercept = fit_loglog(vals, by_var[var][part])
            fit = {"slope": slope, "intercept": intercept}
            pred = PREDICTED_SLOPES[(var, part)]
            slopes[f"{part} vs {var}"] = {"fitted": fit["slope"], "predicted": pred}
            fits[f"{part} (slope {fit['slope']:.2f}, theory {pred:g})"] = fit
            ys[f"{part} (slope {fit['slope']:.2f}, theory {pred:g})"] = by_var[var][part]
            claims.append(
                slope_claim(var, part, labels[var], vals, by_var[var][part], cfg.tolerance)
            )
        panels.append(
            {"x": vals, "ys": ys, "fits": fits, "xlabel": labels[var], "title": f"vs {labels[var]}"}
        )
    fig = cplots.loglog_panels(
        panels,
        ctx.figure_path("scaling"),
        "CiS2 error scaling: propagation (layer 2, active) and overlap/⟨a²⟩ (layer 1, inactive)",
    )
    return ExperimentResult(
        claims=claims,
        figures=[fig],
        data={
            "slopes": slopes,
            "values": by_var,
            "grids": grids,
            f"propagation vs T at z={cfg.active}": {
                "y": floor_prop,
                "slope": fit_loglog(cfg.T_values, floor_prop)[0],
            },
        },
        notes=[
            "Propagation: active circuits at layer 2 (one propagation step). Overlap: inactive circuits at layer 1, divided by ⟨a²⟩.",
            "Random circuits, affine allocation, L = 2; one variable changed at a time from the base point.",
            f"The T grid runs at z={cfg.T_scan_active}: with z ≥ 2 the propagation part also carries the active circuits' "
            f"own layer-1 overlap error, a T-independent floor (the z={cfg.active} T grid and its slope are kept in data).",
        ],
    )


register(
    Experiment(
        name="cis2-scaling",
        title="CiS2 error scaling with T, D, d, z (fitted vs predicted log-log slopes)",
        description="Propagation error ∝ z·T·d²/D² and overlap error ∝ z·d/D: slopes fitted on log-log axes beside the predicted exponents.",
        config_cls=Cis2ScalingConfig,
        quick=Cis2ScalingConfig(batch=128),
        full=Cis2ScalingConfig(
            batch=1024, T_values=[150, 300, 600, 1200, 2400], D_values=[1200, 2400, 4800, 9600]
        ),
        runner=run_scaling,
        quick_seconds=30,
        full_seconds=300,
        paper="CiS2 (seed 001), error summary",
    )
)

# ---------------------------------------------------------------------------------------------
# cis2-capacity


class Cis2CapacityConfig(FrozenConfig):
    widths: list[int] = Field([500, 1000, 2000], min_length=2, description="widths D")
    circuit_width: int = Field(4, ge=3, le=64, description="circuit width d")
    redundancy: int = Field(5, ge=2, le=64, description="embedding redundancy S")
    active: int = Field(
        1,
        ge=1,
        le=100,
        description="active circuits z (1: no T-independent active-active overlap floor)",
    )
    layers: int = Field(3, ge=2, le=64, description="layers L")
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
    seed: int = Field(0, ge=0, description="random seed")


def capacity_point(point: dict[str, Any]) -> dict[str, Any]:
    """Largest T whose last-layer active relative MSE stays ≤ target (interpolated on a log grid)."""
    D, d, S = point["width"], point["circuit_width"], point["redundancy"]
    alloc = make_allocation(point["scheme"], D // d, S, seed=point["seed"])

    def rel_error(T: int) -> float:
        cfg = CiS2Config(
            width=D,
            circuit_width=d,
            redundancy=S,
            circuits=T,
            layers=point["layers"],
            max_active=point["active"],
            circuit_kind="random",
            allocation=point["scheme"],
            max_load=100,
            verify_tol=1e6,
            seed=point["seed"],
        )
        prof = run_profile(
            build_cis2(cfg, allocation=alloc), point["active"], point["batch"], point["seed"] + 3
        )
        return prof.active["total"][-1] / prof.a2[-1]

    # error at a geometric grid of T, then log-log interpolation at the target crossing
    lo, hi = max(point["active"], 8), alloc.capacity
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
    base = {
        "circuit_width": cfg.circuit_width,
        "redundancy": cfg.redundancy,
        "active": cfg.active,
        "layers": cfg.layers,
        "target": cfg.target,
        "steps": cfg.steps,
        "batch": cfg.batch,
        "seed": cfg.seed,
    }
    points = [{**base, "width": D, "scheme": s} for s in cfg.schemes for D in cfg.widths]
    res = map_grid(capacity_point, points, progress=ctx.progress, description="cis2-capacity")
    found: dict[str, list[float]] = {}
    limited: dict[str, list[bool]] = {}
    for p, r in zip(points, res, strict=True):
        found.setdefault(p["scheme"], []).append(r["T"])
        limited.setdefault(p["scheme"], []).append(r["allocation_limited"])
    d, z = cfg.circuit_width, cfg.active
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
        f"CiS2 capacity at relative MSE ≤ {cfg.target:g} (d={d}, S={cfg.redundancy}, z={z}, L={cfg.layers})",
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
