"""cis2-errors (REFERENCE §2): CiS2 per-layer errors against the theory's prediction."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from pydantic import Field, model_validator

from ..base.config import FrozenConfig
from ..base.errors import SuperposeError
from ..circuits.cis2 import CiS2Config, build_cis2
from ..circuits.cis2_regime import criterion_vs_measured, laws
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
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext, with_null


class Cis2ErrorsConfig(FrozenConfig):
    net: CiS2Config = Field(
        CiS2Config(max_active=3, allow_unverified=True),
        description="the network at width D (reference D=1000, d=4, S=6, T=557, L=5); rotation "
        "circuits (d=4), max_active ≥ every z; outside the regime at D=1000: verified, marked "
        "unverified and studied (allow_unverified), not refused",
    )
    check_width: int = Field(
        2000,
        ge=8,
        le=100_000,
        description="second width where the prediction (c_w fitted at D) is tested",
    )
    active: list[int] = Field([1, 2, 3], min_length=1, description="numbers z of active circuits")
    batch: int = Field(256, ge=8, le=1_000_000, description="sampled inputs per z")

    @model_validator(mode="after")
    def _check(self) -> Cis2ErrorsConfig:
        if self.net.circuit_width != 4 or self.net.circuit_kind != "rotation":
            raise ValueError("net: rotation circuits of circuit_width 4 (the reference's)")
        if self.net.layers < 2:
            raise ValueError("net.layers must be ≥ 2 (the propagation error starts at layer 2)")
        if max(self.active) > self.net.max_active:
            raise ValueError(f"active z = {max(self.active)} exceeds net.max_active")
        return self


def _net_config(cfg: Cis2ErrorsConfig, width: int) -> CiS2Config:
    return cfg.net.replace(width=width)


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
            net.circuits, cfg.batch, z, torch.Generator().manual_seed(cfg.net.seed + 100 + z)
        )
        dev = net.positions.device
        x, mask = x.to(dev), mask.to(dev)
        out[z] = {
            **margins_held(net, x, mask),
            "a0_noise_rms": inactive_preactivation_noise(net, x, mask, block=0),
            "a0_noise_predicted": 2
            * margin_noise_scale(
                cfg.net.redundancy, z, cfg.net.circuits, width, cfg.net.circuit_width
            ),
        }
    return out


# --- the regime (issue 12): criterion vs measurement, the laws where it says they hold -----------

# (width, circuits, z, unembedding): the reference, below it, twice its width, and the plain readout
REGIME_CASES = [
    (1000, 557, 1, "mean"),
    (1000, 557, 3, "mean"),
    (1000, 300, 1, "mean"),
    (2000, 557, 1, "mean"),
    (2000, 557, 3, "mean"),
    (2000, 557, 1, "plain"),
]
IN_REGIME = CiS2Config(
    width=2000, circuits=557, layers=5, max_active=1, embedding="linked", value_margin=1 / 3
)


def regime_cases(cfg: Cis2ErrorsConfig) -> list[dict[str, Any]]:
    """The criterion's prediction beside the measurement for each REGIME_CASES network."""
    rows = []
    for width, T, z, readout in REGIME_CASES:
        net = _net_config(cfg, width).replace(circuits=T, max_active=z, unembedding=readout)
        r = criterion_vs_measured(net, z, cfg.batch, cfg.net.seed + 200 + z)
        r.pop("laws")
        rows.append({"width": width, "circuits": T, "z": z, "readout": readout, **r})
    return rows


def claim_criterion_switch_on(pairs: list[tuple[float, float]], rel: float = 0.35) -> Claim:
    """Predicted layer-2 a0 switch-on within rel (+0.01) of the measured rate in every case;
    pairs: (predicted, measured) per REGIME_CASES row. Null: the post's Case-1 prediction, 0."""
    ok = all(abs(p - m) <= rel * m + 0.01 for p, m in pairs)
    return Claim(
        id="regime-criterion-switch-on",
        statement="The regime criterion predicts the spurious switch-on rate of on-indicator neurons "
        "hosting no active circuit at layer 2 (the post's Case-1 assumption says 0).",
        measured={"(predicted, measured) per case": pairs, "cases": REGIME_CASES},
        expected=f"|predicted − measured| ≤ {rel:.0%}·measured + 0.01 in every case",
        passed=bool(ok),
    )


def switch_on_pairs(rows: list[dict[str, Any]]) -> list[tuple[float, float]]:
    return [(r["predicted_switch_on"][1], r["measured_switch_on"][1]) for r in rows]


def claim_criterion_side(got: list[tuple[bool, bool]]) -> Claim:
    """The criterion's side (noise growth ≤ 2) matches measured inactive flatness in every case;
    got: (predicted inside, measured flat) per case. Null: the old capacity check z·T·d²/D² ≤
    max_load as the prediction."""
    return Claim(
        id="regime-criterion-side",
        statement="The regime criterion says on which side a configuration lies: predicted inside "
        "⇔ measured inactive error flat (layer L / layer 1 ≤ 2).",
        measured={"(predicted inside, measured flat) per case": got, "cases": REGIME_CASES},
        expected="agreement in every case",
        passed=bool(all(a == m for a, m in got)),
    )


def criterion_sides(rows: list[dict[str, Any]], max_load: float | None = None) -> list:
    """(predicted inside, measured flat) per case; with max_load, the load check predicts."""
    return [
        (
            r["predicted_inside"] if max_load is None else z * T * 16 / w**2 <= max_load,
            r["measured_flat"],
        )
        for r, (w, T, z, _) in zip(rows, REGIME_CASES, strict=True)
    ]


def claim_laws_in_regime(found: tuple[dict[str, Any], bool]) -> Claim:
    """At D=2000, T=557, z=1 the laws hold and the network passes the strict verification
    (found: the laws and the verdict). Null: the same network with a fresh random position subset
    per layer (the scheme before issue 12)."""
    held, verified = found
    return Claim(
        id="laws-hold-in-regime-D2000",
        statement="Inside the regime (D=2000, T=557, z=1; linked embedding, δ=1/3) CiS2's laws hold: "
        "inactive error flat, active error at most linear, decoded R² ≥ 0.9 at every layer, mean "
        "α ≥ 0.9 at layer L — and the network passes the strict verification.",
        measured={
            "laws": held["held"],
            "decoded R² by layer": held["decoded_r2"],
            "active linear-fit R²": held["active_linear_r2"],
            "inactive last/first": held["inactive_last_over_first"],
            "alpha by layer": held["alpha_mean"],
            "verified": verified,
        },
        expected="every law holds and verified",
        passed=bool(held["all_held"] and verified),
    )


def claim_readout(row: dict[str, Any]) -> Claim:
    """The corrected readout keeps the inactive error flat at D=2000, T=557, z=1 (row: its
    criterion_vs_measured case). Null: the post's plain Eᵀ/S readout on the same network."""
    return Claim(
        id="corrected-readout-vs-plain",
        statement="The block-mean-corrected readout U_t = (E_tᵀ − κ·1)/(S(1 − κ)) keeps the inactive "
        "error flat in depth at D=2000, T=557, z=1; the post's plain E_tᵀ/S readout (the null) keeps "
        "the noise's positive mean and compounds.",
        measured={
            "readout": row["readout"],
            "inactive last/first": row["measured_inactive_last_over_first"],
            "a0 switch-on by layer": row["measured_switch_on"],
        },
        expected="inactive last/first ≤ 2",
        passed=bool(row["measured_flat"]),
    )


def claim_reference_refused(found: tuple[str | None, list[dict[str, Any]]]) -> Claim:
    """The reference configuration lies outside the regime: refused by the strict verification
    (found: the refusal, None if built, and its criterion rows). Null: the in-regime network."""
    message, ref = found
    return Claim(
        id="reference-outside-regime",
        statement="The reference configuration (D=1000, T=557, z ≤ 3) lies outside the regime: the "
        "criterion says so and the strict verification refuses it (one line).",
        measured={
            "refusal": message,
            "predicted inside": [r["predicted_inside"] for r in ref],
            "measured inactive last/first": [r["measured_inactive_last_over_first"] for r in ref],
        },
        expected="refused, predicted outside for every z studied",
        passed=bool(message and ref and not any(r["predicted_inside"] for r in ref)),
    )


def refusal(cfg: CiS2Config) -> str | None:
    """The strict verification's one line for cfg, None when it builds."""
    try:
        build_cis2(cfg.replace(allow_unverified=False))
    except SuperposeError as err:
        return str(err)
    return None


def run_errors(cfg: Cis2ErrorsConfig, ctx: RunContext) -> ExperimentResult:
    profiles: dict[int, dict[int, ErrorProfile]] = {}
    margins: dict[int, dict[int, dict]] = {}
    nets = {}
    for width in (cfg.net.width, cfg.check_width):
        net = nets[width] = build_cis2(_net_config(cfg, width)).to(ctx.device)
        profiles[width] = {
            z: run_profile(net, z, cfg.batch, cfg.net.seed + 100 + z) for z in cfg.active
        }
        margins[width] = _margin_diagnostics(net, cfg, width)
    ref, chk = profiles[cfg.net.width], profiles[cfg.check_width]
    c_w = fit_c_w(list(ref.values()))
    other = "plain" if cfg.net.unembedding == "mean" else "mean"
    zmax = max(cfg.active)
    alt_net = build_cis2(_net_config(cfg, cfg.net.width).replace(unembedding=other)).to(ctx.device)
    alt = run_profile(alt_net, zmax, cfg.batch, cfg.net.seed + 100 + zmax)
    unembedding_cmp = {
        f"{cfg.net.unembedding} (used)": ref[zmax].active["total"],
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
                f"CiS2 readout error vs layer (D={width}, T={cfg.net.circuits}, S={cfg.net.redundancy}; c_w={c_w:.2f} fitted at D={cfg.net.width})",
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
            f"Error decomposition at D={cfg.net.width}, z={zmax}",
        )
    )
    rows = regime_cases(cfg)
    in_regime = build_cis2(IN_REGIME.replace(seed=cfg.net.seed))
    held = laws(in_regime, 1, cfg.batch, cfg.net.seed + 300)
    fresh = build_cis2(IN_REGIME.replace(seed=cfg.net.seed, positions="fresh"), verify=False)
    null = laws(fresh, 1, cfg.batch, cfg.net.seed + 300)
    by_case = {(r["width"], r["circuits"], r["z"], r["readout"]): r for r in rows}
    ref_rows = [r for r in rows if r["width"] == 1000 and r["circuits"] == 557]
    in_rows = [by_case[(2000, 557, 1, "mean")]]
    # nulls: z = 2 on the same network (another circuit overlaps at layer 1); a network sharing no
    # neuron (T = N/S: nothing to propagate); the real forward where Case 1 was enforced
    two = {1: run_profile(nets[cfg.net.width], 2, cfg.batch, cfg.net.seed + 102)}
    alone = cfg.net.width // cfg.net.circuit_width // cfg.net.redundancy
    lone = build_cis2(_net_config(cfg, cfg.net.width).replace(circuits=alone)).to(ctx.device)
    lone_prof = {z: run_profile(lone, z, cfg.batch, cfg.net.seed + 100 + z) for z in cfg.active}
    # null of inactive flatness: the construction before issue 12 at the same width (a fresh random
    # position subset per layer, the post's plain Eᵀ/S readout), which compounds
    pre12_cfg = _net_config(cfg, cfg.check_width).replace(positions="fresh", unembedding="plain")
    pre12 = build_cis2(pre12_cfg, verify=False).to(ctx.device)  # a null: studied, not verified
    pre12_prof = {z: run_profile(pre12, z, cfg.batch, cfg.net.seed + 100 + z) for z in cfg.active}
    zs = list(ref)
    real = {
        z: {"active": p.active["total"], "inactive": p.inactive["total"]} for z, p in ref.items()
    }
    claims = [
        with_null(claim_layer1_exact, ref, two, "two circuits on (another overlaps at layer 1)"),
        with_null(
            claim_propagation_from_layer2,
            ref,
            lone_prof,
            f"T = N/S = {alone} (no neuron shared, nothing to propagate)",
        ),
        with_null(
            claim_inactive_flat,
            chk,
            pre12_prof,
            "the construction before issue 12 at the same width (fresh random position subset "
            "per layer, plain Eᵀ/S readout)",
            cfg.check_width,
        ),
        with_null(
            claim_overlap_formula,
            ref,
            {
                z: replace(
                    p,
                    inactive={
                        **p.inactive,
                        "overlap": ref[zs[(i + 1) % len(zs)]].inactive["overlap"],
                    },
                )
                for i, (z, p) in enumerate(ref.items())
            },
            "each z's overlap measured at another z",
        ),
        with_null(
            claim_linear_if_margins_hold,
            margins[cfg.net.width],
            real,
            "the real forward (Case 1 not enforced)",
        ),
        with_null(
            claim_criterion_switch_on,
            switch_on_pairs(rows),
            [(0.0, m) for _, m in switch_on_pairs(rows)],
            "the post's Case-1 assumption (switch-on 0)",
        ),
        with_null(
            claim_criterion_side,
            criterion_sides(rows),
            criterion_sides(rows, CiS2Config().max_load),
            f"the capacity check z·T·d²/D² ≤ {CiS2Config().max_load:g} as the prediction",
        ),
        with_null(
            claim_laws_in_regime,
            (held, in_regime.verified),
            (null, fresh.verified),
            "a fresh random position subset per layer",
        ),
        with_null(
            claim_readout,
            by_case[(2000, 557, 1, "mean")],
            by_case[(2000, 557, 1, "plain")],
            "the plain Eᵀ/S readout",
        ),
        with_null(
            claim_reference_refused,
            (refusal(_net_config(cfg, 1000)), ref_rows),
            (refusal(IN_REGIME.replace(seed=cfg.net.seed)), in_rows),
            "the in-regime network (D=2000, T=557, z=1)",
        ),
    ]
    m_ref = margins[cfg.net.width]
    return ExperimentResult(
        claims=claims,
        figures=figures,
        data={
            "c_w": c_w,
            f"active error by layer per unembedding (D={cfg.net.width}, z={zmax})": unembedding_cmp,
            "regime criterion vs measured": rows,
            "laws in the regime (D=2000, T=557, z=1)": held,
            "laws, null with fresh positions": null,
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
            f"{cfg.net.width}, active R² "
            + ", ".join(f"z={z}: {linear_r2(v['active']):.3f}" for z, v in m_ref.items())
            + " and inactive last/first "
            + ", ".join(
                f"z={z}: {v['inactive'][-1] / max(v['inactive'][0], 1e-30):.2f}"
                for z, v in m_ref.items()
            )
            + ". So the failure is a property of the configuration (S·z·T·d²/D² = "
            + ", ".join(
                f"{margin_noise_scale(cfg.net.redundancy, z, cfg.net.circuits, cfg.net.width, cfg.net.circuit_width) ** 2:.3f}"
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
            f"Unembedding: {cfg.net.unembedding} (the plain U=E_tᵀ/S readout blows up with depth at the reference configuration).",
        ],
    )


register(
    Experiment(
        name="cis2-errors",
        title="CiS2 readout error vs layer at the reference configuration (D=1000, d=4, S=6, T=557, L=5)",
        description="Per-layer error of active and inactive circuits for z = 1, 2, 3, decomposed into overlap, "
        "ReLU and propagation parts, against §2's formulas with c_w fitted once; checked again at D=2000.",
        config_cls=Cis2ErrorsConfig,
        # The quick form takes the batch the full form had (2048; the full now 4096): at batch 128
        # the linear-depth R² (≈ 0.96–0.97, a concave profile) moves by ±0.03 with the draw, so the
        # quick verdict was the seed's (main's own family failed it at 13 of 32 seeds); at 2048 it
        # failed at 0 of 16.
        quick=Cis2ErrorsConfig(batch=2048),
        full=Cis2ErrorsConfig(batch=4096),
        runner=run_errors,
        quick_seconds=48,
        full_seconds=100,
        paper="CiS2 (seed 001), error calculation and summary",
    )
)
