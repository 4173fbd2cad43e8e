"""Deep boolean circuits in superposition wider than the network (issue 12 item 4).

Circuits are random comparator networks (each layer pairs the wires and gives each pair an AND and an
OR wire), so every input keeps exactly its number of wires on at every layer: the measurement is on
inputs that stay alive. Each (d, m) network is built with the strict verification (boolean_deep:
every z ≤ s, every layer, wrong bits per input ≤ 0.5 and recall ≥ 0.95 against the exact circuit);
networks that fail it are studied (allow_unverified) and counted as not bounded. The same computation
layers without correction are the null of the correction's claims.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..base.device import make_generator
from ..circuits import boolean as B
from ..circuits import boolean_deep as D
from ..circuits import boolean_inputs as BI
from ..circuits.verification import MAX_WRONG_BITS, MIN_RECALL
from ..plots import boolean as P
from ..sweep import map_grid
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext, with_null


class UAndDeepConfig(FrozenConfig):
    ds: list[int] = Field(
        [250, 500, 1000], min_length=1, description="network widths d (≥ 3 for the exponent)"
    )
    m_over_d: list[float] = Field(
        [0.0625, 0.125, 0.25, 2.0],
        min_length=1,
        description="circuit widths m as multiples of d",
    )
    s: int = Field(3, ge=1, description="wires on (every z ≤ s is verified)")
    depth: int = Field(10, ge=2, description="computation layers (10 for the claim)")
    k: int = Field(6, ge=1, description="neurons per gate")
    k_correct: int = Field(
        2,
        ge=1,
        description="neuron pairs per wire in correction layers (2: pairs unshared up to m = d/4; "
        "shared pairs leak, measured worse at 4 and 8)",
    )
    theta: float = Field(0.45, ge=0, lt=0.5, description="correction margin θ")
    margin: float = Field(0.4, ge=0, lt=0.5, description="computation-layer margin β")
    inputs: int = Field(32, ge=4, description="sampled inputs per z")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed")


def deep_point(point: dict[str, Any]) -> dict[str, Any]:
    """Build (and verify) one deep circuit; per layer at z = s: wrong bits and recall with and
    without correction on the same inputs."""
    m = 2 * max(2, round(point["m_over_d"] * point["d"] / 2))
    cfg = B.make_config(
        D.DeepBooleanConfig,
        m=m,
        **{k: point[k] for k in ("d", "s", "depth", "k", "k_correct", "theta", "margin", "seed")},
        verify_batch=point["inputs"],
        allow_unverified=True,
    )
    net = D.build_deep_construction(cfg)
    x = BI.sample_inputs(
        point["inputs"], m, cfg.s, make_generator(point["seed"] + 7, torch.device("cpu"))
    )
    return {
        "d": point["d"],
        "m": m,
        "verified": net.verified,
        "failure": net.verification["failure"],
        "corrected": D.depth_errors(net.net, x, corrected=True),
        "uncorrected": D.depth_errors(net.net, x, corrected=False),
    }


def bounded(stats: list[dict[str, float]]) -> bool:
    """Every layer: wrong bits per input ≤ 0.5 and recall of on-wires ≥ 0.95 (issue 12 item 4)."""
    return all(s["wrong_per_input"] <= MAX_WRONG_BITS and s["recall"] >= MIN_RECALL for s in stats)


def claim_at_2d(rows: list[dict[str, Any]], d: int) -> Claim:
    """At width d, a circuit of m ≥ 2d wires stays bounded through every layer."""
    wide = [r for r in rows if r["d"] == d and r["m"] >= 2 * d]
    last = {r["m"]: r["stats"][-1] for r in wide}
    return Claim(
        id="deep-bounded-at-2d",
        statement=f"A {len(wide[0]['stats']) if wide else '?'}-layer circuit of m ≥ 2d wires is "
        f"emulated at d = {d} with ≤ 0.5 wrong bits per input and recall of on-wires ≥ 0.95 at "
        "every layer (the seed: width Õ(d^1.5); issue 12's target at d = 4000 is the full form)",
        measured={
            "wrong bits per input at the last layer": {
                m: round(s["wrong_per_input"], 3) for m, s in last.items()
            },
            "recall at the last layer": {m: round(s["recall"], 3) for m, s in last.items()},
        },
        expected="wrong ≤ 0.5 and recall ≥ 0.95 at every layer, for some m ≥ 2d",
        passed=any(bounded(r["stats"]) for r in wide),
    )


def claim_grows(stats: list[dict[str, float]], m: int, d: int) -> Claim:
    """Errors accumulate with depth: wrong bits at the last layer > 0.5 and > at layer 1."""
    wrong = [round(s["wrong_per_input"], 3) for s in stats]
    return Claim(
        id="deep-uncorrected-grows",
        statement=f"Without correction layers (same computation layers) a circuit of m={m} wires "
        f"at d={d} accumulates wrong bits with depth; with correction it does not (its null)",
        measured={"wrong bits per input per layer": wrong},
        expected="last layer > 0.5 and > layer 1",
        passed=wrong[-1] > MAX_WRONG_BITS and wrong[-1] > wrong[0],
    )


def largest_bounded(rows: list[dict[str, Any]]) -> dict[int, int]:
    """Per d: the largest m on the grid whose errors stay bounded (0 if none)."""
    out: dict[int, int] = {}
    for r in rows:
        out.setdefault(r["d"], 0)
        if bounded(r["stats"]):
            out[r["d"]] = max(out[r["d"]], r["m"])
    return out


def claim_exponent(rows: list[dict[str, Any]]) -> Claim:
    """The largest bounded m grows faster than d: fitted exponent of m*(d) > 1 over ≥ 3 widths."""
    best = largest_bounded(rows)
    pts = [(d, m) for d, m in sorted(best.items()) if m > 0]
    slope = float("nan")
    if len(pts) >= 2:
        slope = float(
            np.polyfit([math.log(d) for d, _ in pts], [math.log(m) for _, m in pts], 1)[0]
        )
    return Claim(
        id="deep-wider-exponent",
        statement="The widest circuit emulated with bounded errors grows faster than the network "
        "(the seed: m = Õ(d^1.5)); fitted exponent of the largest bounded m on the grid vs d",
        measured={"largest bounded m per d": best, "fitted exponent": round(slope, 3)},
        expected="≥ 3 widths with a bounded m, exponent > 1",
        passed=len(pts) >= 3 and round(slope, 3) > 1,  # m* ∝ d exactly is not > 1
    )


def run_deep(cfg: UAndDeepConfig, ctx: RunContext) -> ExperimentResult:
    base = cfg.to_dict()
    for key in ("ds", "m_over_d"):
        base.pop(key)
    points = [{**base, "d": d, "m_over_d": f} for d in cfg.ds for f in cfg.m_over_d]
    raw = map_grid(deep_point, points, progress=ctx.progress, description="uand-deep")
    corr = [{**r, "stats": r["corrected"]} for r in raw]
    unc = [{**r, "stats": r["uncorrected"]} for r in raw]
    widest = max(cfg.ds)
    small = min((r for r in raw if r["d"] == widest), key=lambda r: r["m"])
    claims = [
        with_null(claim_at_2d, corr, unc, "no correction layers (same computation)", widest),
        with_null(
            claim_grows,
            small["uncorrected"],
            small["corrected"],
            "with correction layers",
            small["m"],
            widest,
        ),
        with_null(claim_exponent, corr, unc, "no correction layers (same computation)"),
    ]
    figures = [
        P.error_vs_depth(
            {
                **{
                    f"d={r['d']}, m={r['m']}": [
                        max(s["wrong_per_input"], 1e-3) for s in r["corrected"]
                    ]
                    for r in raw
                },
            },
            ctx.figure_path("deep_wrong_bits_vs_depth"),
            f"Wrong bits per input (z={cfg.s} wires on, alive at every layer), corrected; "
            f"k={cfg.k}, k_c={cfg.k_correct}, θ={cfg.theta}, β={cfg.margin}",
            "wrong bits per input (floor 1e-3)",
            log=True,
        )
    ]
    failed = [f"d={r['d']}, m={r['m']}: {r['failure']}" for r in raw if not r["verified"]]
    notes = [
        "Inputs stay alive: comparator circuits keep exactly z wires on at every layer. "
        "Networks failing the strict verification were built with allow_unverified and count as "
        "not bounded: " + ("; ".join(failed) if failed else "none"),
        "Cause of the bound (measured, not removed): a correction pair serves ⌈2·m·k_c/d⌉ wires, so "
        "an on-wire leaks 1/k_c into every wire sharing one of its pairs; and a computation neuron "
        "sums the wires of ≈ 3·m·k/(2d) gates, so the leaks and the superposition noise "
        "(≈ sqrt(z/d) per read) add past the margin β once m grows past ~d/4.",
    ]
    return ExperimentResult(claims=claims, figures=figures, data={"rows": raw}, notes=notes)


register(
    Experiment(
        name="uand-deep",
        title="Deep boolean circuits wider than the network: error correction vs depth",
        description="Random comparator circuits (AND/OR of paired wires, activity conserved) carried "
        "in superposition through computation layers with and without clamp-style correction; "
        "wrong bits and recall per layer, the largest bounded m per width d and its exponent.",
        config_cls=UAndDeepConfig,
        quick=UAndDeepConfig(),
        full=UAndDeepConfig(ds=[1000, 2000, 4000], m_over_d=[0.0625, 0.125, 0.25, 0.5, 1.0, 2.0]),
        runner=run_deep,
        quick_seconds=60,
        full_seconds=1800,
        paper="Hänni et al., error-correction layers (construction reconstructed, judged by measurement)",
    )
)
