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

NET = D.DeepBooleanConfig(
    s=3,
    depth=10,
    k=3,
    k_correct=4,
    theta=0.9,
    theta_top=0.97,
    margin=0.4,
    embedding="neurons",
    readout="positive",
    and_share=0.25,
    sharing="packed",
    tie=0.005,
    verify_batch=32,
    allow_unverified=True,
)


class UAndDeepConfig(FrozenConfig):
    net: D.DeepBooleanConfig = Field(
        NET,
        description="the circuit and its emulation; m and d are set per grid point, every point "
        "is built with allow_unverified (a failing network is studied and counts as not bounded); "
        "verify_batch: sampled inputs per z, also the inputs measured per layer",
    )
    ds: list[int] = Field(
        [250, 500, 1000], min_length=1, description="network widths d (≥ 3 for the exponent)"
    )
    m_over_d: list[float] = Field(
        [0.125, 0.25, 0.375, 0.5, 0.75, 2.0],
        min_length=1,
        description="circuit widths m as multiples of d",
    )
    wide: float = Field(
        2.0,
        gt=0,
        description="the wide claim: some m ≥ wide·d stays bounded at d = wide_d (issue 12's "
        "target, 2, in both forms: a quick form that checked less would pass what the full fails)",
    )
    wide_d: int = Field(
        4000,
        ge=3,
        description="the network width of the wide claim (issue 12's target: d = 4000); when it "
        "is not in ds, the one point (wide_d, wide·wide_d) is added for that claim alone (not "
        "for the exponent, which uses ds)",
    )


def deep_point(point: dict[str, Any]) -> dict[str, Any]:
    """Build (and verify) one deep circuit; per layer at z = s: wrong bits, recall and leak with
    and without correction on the same inputs."""
    m = 2 * max(2, round(point["m_over_d"] * point["d"] / 2))
    fields = {**point["net"], "m": m, "d": point["d"], "allow_unverified": True}
    cfg = B.make_config(D.DeepBooleanConfig, **fields)
    net = D.build_deep_construction(cfg)
    x = BI.sample_inputs(
        cfg.verify_batch, m, cfg.s, make_generator(cfg.seed + 7, torch.device("cpu"))
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


def holds(row: dict[str, Any]) -> bool:
    """A grid point is bounded: its network passed the strict verification (rows without that
    record: the uncorrected null, judged on its stats alone) and its stats are bounded."""
    return bool(row.get("verified", True)) and bounded(row["stats"])


def claim_at_2d(rows: list[dict[str, Any]], d: int, ratio: float = 2.0) -> Claim:
    """At width d, a circuit of m ≥ ratio·d wires stays bounded through every layer."""
    wide = [r for r in rows if r["d"] == d and r["m"] >= ratio * d]
    last = {r["m"]: r["stats"][-1] for r in wide}
    return Claim(
        id="deep-bounded-wide",
        statement=f"A {len(wide[0]['stats']) if wide else '?'}-layer circuit of m ≥ {ratio:g}·d "
        f"wires is emulated at d = {d}, verified, with ≤ 0.5 wrong bits per input and recall of "
        "on-wires ≥ 0.95 at every layer (the seed: width Õ(d^1.5); issue 12's target, m ≥ 2d at "
        "d = 4000, is the full form's)",
        measured={
            "wrong bits per input at the last layer": {
                m: round(s["wrong_per_input"], 3) for m, s in last.items()
            },
            "recall at the last layer": {m: round(s["recall"], 3) for m, s in last.items()},
        },
        expected=f"wrong ≤ 0.5 and recall ≥ 0.95 at every layer, for some m ≥ {ratio:g}·d",
        passed=any(holds(r) for r in wide),
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
        if holds(r):
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
    net = cfg.net.to_dict()
    points = [{"net": net, "d": d, "m_over_d": f} for d in cfg.ds for f in cfg.m_over_d]
    if cfg.wide_d not in cfg.ds:
        points.append({"net": net, "d": cfg.wide_d, "m_over_d": cfg.wide})
    raw = map_grid(deep_point, points, progress=ctx.progress, description="uand-deep")
    corr = [{**r, "stats": r["corrected"]} for r in raw]
    unc = [{"d": r["d"], "m": r["m"], "stats": r["uncorrected"]} for r in raw]
    in_ds = [r["d"] in cfg.ds for r in raw]
    widest = max(cfg.ds)
    # the widest circuit the correction keeps bounded at the widest d (else its smallest m): where
    # the correction layers matter (at small m the computation margins alone keep every bit)
    at_widest = [r for r in corr if r["d"] == widest]
    kept = [r for r in at_widest if holds(r)]
    small = max(kept, key=lambda r: r["m"]) if kept else min(at_widest, key=lambda r: r["m"])
    claims = [
        with_null(
            claim_at_2d, corr, unc, "no correction layers (same computation)", cfg.wide_d, cfg.wide
        ),
        with_null(
            claim_grows,
            small["uncorrected"],
            small["corrected"],
            "with correction layers",
            small["m"],
            widest,
        ),
        with_null(
            claim_exponent,
            [r for r, k in zip(corr, in_ds, strict=True) if k],
            [r for r, k in zip(unc, in_ds, strict=True) if k],
            "no correction layers (same computation)",
        ),
    ]
    n = cfg.net
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
            f"Wrong bits per input (z={n.s} wires on, alive at every layer), corrected; "
            f"k={n.k}, k_c={n.k_correct}, θ={n.theta}–{n.theta_value}, β={n.margin}, "
            f"AND share {n.and_share:g}, {n.embedding}",
            "wrong bits per input (floor 1e-3)",
            log=True,
        )
    ]
    failed = [f"d={r['d']}, m={r['m']}: {r['failure']}" for r in raw if not r["verified"]]
    notes = [
        "Inputs stay alive: comparator circuits keep exactly z wires on at every layer. "
        "Networks failing the strict verification were built with allow_unverified and count as "
        "not bounded: " + ("; ".join(failed) if failed else "none"),
        "Leak (Σ of the values read on wires that are off, per wire on; corrected) at layer 1 → "
        f"layer {n.depth} per m at d = {widest}: "
        + ", ".join(
            f"m={r['m']}: {r['corrected'][0]['leak']:.2f} → {r['corrected'][-1]['leak']:.2f}"
            for r in raw
            if r["d"] == widest
        ),
        "Cause of the bound (measured): wires are read straight from the previous layer's "
        "neurons (embedding: neurons), so the only interference is sharing. With few wires on "
        f"almost every on-gate is an OR, so OR gates get {1 - n.and_share:g} of the computation "
        "neurons (and_share); an OR neuron serves m·k/(2·(1 − and_share)·d) gates and, firing for "
        "an on-gate, spills 1/k into the others; a correction pair serves 2·m·k_c/d wires and "
        "spills 1/k_c into each (and a computation neuron reading F wires sums ≈ F·2·s·k_c/d of "
        "these spills: fewer pairs per wire spill less). A pair passes only when its input reaches "
        f"θ = {n.theta} ({math.ceil(n.theta * n.k)} spills of 1/k at k = {n.k}), a computation "
        f"neuron only past β = {n.margin} (more than β·k_c = {n.margin * n.k_correct:g} spilled "
        "pairs). An OR neuron with two on-wires among its inputs reads (2 − β)/(1 − β) and spills "
        f"that /k into its other gates ({(2 - n.margin) / (1 - n.margin) / n.k:.2f} here, below θ), "
        f"sharing: {n.sharing} keeps two gates from sharing two neurons (an off gate with all its "
        f"neurons shared reads on) and tie = {n.tie:g} makes a wire with exactly half its pairs "
        "passing read off. Bounded while such coincidences stay rare; past the bound the leak "
        "grows layer by layer until most "
        "wires read on. Dense random embeddings (embedding: random) add Gaussian noise ≈ "
        "sqrt(Σy²/d) per wire read on top and bound m near d/16–d/4.",
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
        full=UAndDeepConfig(ds=[1000, 2000, 4000], m_over_d=[0.25, 0.5, 0.75, 1.0, 1.5, 2.0]),
        runner=run_deep,
        quick_seconds=28,  # 5.0 GB peak (the d = 4000 point)
        full_seconds=54,  # 5.0 GB peak
        paper="Hänni et al., error-correction layers (construction reconstructed, judged by measurement)",
    )
)
