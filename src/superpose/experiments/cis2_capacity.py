"""cis2-capacity (REFERENCE §2, issue 12): the frontier — the largest T at which CiS2's laws hold.

For each width D, number of active circuits z and embedding, the largest T at which issue 12's laws
hold at z (inactive error layer L / layer 1 ≤ 2, active error at most linear — R² of a line ≥ 0.95 —,
decoded R² ≥ 0.9 at every layer, mean α ≥ 0.9 at layer L; `test: verify` uses the strict
verification instead), found by bisection (circuits.cis2_regime.frontier). The capacity law says
T* ∝ D²/(d²z): slope 2 of log T* against log D. Issue 12's allocation targets (item 3) are claims
here too (_allocation: the fraction of the pair bound at the named points and in every cell of a
grid, balance at every T; the prime-step scheme their null).

Why the slope falls short of 2 at z = 1 (measured along the frontier; each slope claim carries it):
the a0 pre-activation noise at T* matches the capacity law's 2·sqrt(S·z·T·d²/D²) within 5 % at
every width (D = 1000/2000/4000: 0.318/0.282/0.194 vs 0.331/0.288/0.201), so the law's first-order
noise model holds; but the noise the laws tolerate falls with D, because every neuron switched on by
noise feeds c = T·S·d/D hosted circuits' next readouts (a gain ∝ D at fixed load: the fixed-load
rows, inactive L/1 1.13/2.24/31.7 at T ∝ D²). The law that breaks first above T* is at every width
"active error at most linear" (R² of a line through the 5 layers ≥ 0.95); at z = 1 layer 1 is exact
(MSE 0), so the line has a kink there, and at batch 64 the R² moves ±0.02 between samples, which
makes the bisection noise-limited at D = 4000 (T = 1719 fails at 0.928, T = 2451 reads 0.948): batch
512 moves T* at D = 4000 from 1676 to ≈ 2000 (slope ≈ 1.5, still below 2). The profile bends up
below T* too (D = 1000, T = 200: layer MSE 0/0.13/0.36/0.58/1 of layer L's, line R² 0.955; T = 557:
0/0.02/0.17/0.57/1, 0.89): the fit catches the onset of compounding. The search itself is not
coarse (4 % in T, 0.03 in slope). The fixed-load switch-on spread's bar is the null's: the 95 %
quantile of max/min when the per-input rates are exchanged between widths.

Where the search starts (session of 2026-12-04, evening): the bisection used to be bracketed around
the regime criterion's prediction, and near T* the laws' figures move with the inputs, so the start
moved T*: the quick form (then batch 128) read D = 2000 as 669 from one start and 848 from another
(slope 1.26 vs 1.60), value re-centring 388/840 or 249/1012 (slope 1.11 or 2.02). The search now
brackets upwards from N/S (independent of the prediction it is compared with) and the quick form
uses the full form's 512 inputs (28 s CPU): its T* are the full form's at D = 1000, 2000. Full form
on it with the balanced allocations (alloc9; 278 s CPU): 10/22 — linked z = 1 272/712/2083 (slope
1.47), z = 2 53/240/1091 (2.18), z = 3 41/102/251; linear 209/614/1964 (1.62), 49/178/814,
41/99/236; β = 0.9, δ = 0.7 534/1717/5490 (1.68); re-centring 398/1105/2877 (1.43, pushes T* at
every width); re-centring with β = 0.9, δ = 0.7, gain 2.5 566/1768/5490 (1.64). Verdicts inside the
search's ±10 %: `linked-beats-linear-z1` (2083 vs 1964 at D = 4000; 1907 vs 2083 on the allocations
before, 2111 vs 1962 from the old start) and the quick S-chosen-per-D slope (1.61 over D = 1000–
2000, in its band by 0.01; the full form's 1.56 over 1000–4000 fails). The numbers in the
paragraphs below are from the old start unless said.

Why the active error compounds (cis2_regime.error_sources, z = 1, linked, 512 inputs; active
decoded MSE per layer with the neurons hosting no active circuit that fire — "free" — silenced
after every ReLU or not). Silenced, α stays exactly 1 (an active circuit's a0 and a1 share each
position's noise, which cancels in α = a0 − a1), so on-indicator drift is not a source of its own
but a consequence of free firing; what is left, the noise through neurons shared with inactive
circuits that stay off, is linear in depth and flat in D at fixed load (layer L
0.0022/0.0026/0.0028 at D = 1000/2000/4000, T = 286·(D/1000)²). The superlinear part is the free
neurons' (full minus silenced, layer L: 0.0059/0.024/0.118 at that fixed load, ∝ D^2.2; just above
T*, D = 1000, T = 286: 0/0/0.0013/0.0028/0.0059 against 0/0.0004/0.0010/0.0016/0.0022; D = 4000, T
= 2165: 0/0/0.0011/0.0025/0.0042 against 0/0.0003/0.0006/0.0010/0.0013). Just above T*, three
quarters of it come from free a0 neurons (fired 3–8 % of the a0 block against 0.01–0.02 % of a1),
nearly all through what the value rows read: a free a0 raises α at every position it links to, the
active circuits' a0/a1 cancel it there but their value neurons (gate ≈ 1 + δ) keep it and carry it
forward. Value re-centring (Robustness.recentre) subtracts it one layer later from a1, which holds
it: layer-L MSE 0.0081 → 0.0051 (D = 1000, T = 286), 0.0055 → 0.0030 (D = 4000, T = 2165); T*
(batch 512) 279/741/2111 → 412/1090/2846 (slope 1.46 → 1.39): the law that breaks first becomes
inactive flatness and mean α, i.e. the free firing itself, whose rate a per-neuron threshold sets
(the k-quanta bound below). With β = 0.9, δ = 0.7 and gain 2.5 (on basin from α = 0.85) it gives
552/1752/5369 (1.64; without re-centring that gain gives 490/1345/–; β = 0.9, δ = 0.7 alone
540/1683/5404, 1.66; diagnostic: β = 0.95, gain 2.5 568/1858/5863, 1.68, gain 3 575/1750/5163; the
noise-sized β with re-centring 537/1645/3109), and at the reference D = 1000, T = 557, S = 6 it
holds all four laws at z = 1 (decoded R² ≥ 0.927, mean α 0.948; β = 0.9, δ = 0.7 alone keeps mean α
0.888), not at z = 2, 3 (mean α 0.25, 0.13). On the linear embedding re-centring lowers the layer-L
error 3× (T = 150: 0.0110 → 0.0039) but leaves it flat after layer 2, which the line-fit test reads
as a failure (R² 0.69): T* 204/658/1962 → 45/103/0 under the laws, 216/594/2076 → 378/1052/2814
under the strict verification (linked: 316/998/2846 → 345/1059/2846; with β = 0.9, δ = 0.7 and gain
2.5 505/1652/4916 against 399/1336/4400 without re-centring and gain).

Pushing the frontier: `variants` measures other constructions' z = 1 frontiers at every width, each
with its own slope claim (quick: β = 0.9 with δ = 0.7, the best found, and value re-centring, with
a claim that it pushes T* at every width; full: also β = 0.9 alone, the steeper on-indicator,
Robustness.indicator_gain, and re-centring with β = 0.9, δ = 0.7, gain 2.5). A per-neuron threshold
cannot reach slope 2: a free neuron lights when k = ⌊S·β/2⌋ + 1 overlap quanta reach it (rate ∝
load^k) and compounding stays bounded while rate·c is, so T* ∝ D^(2 − 1/(k+1)) (≤ 1.67 at β = 0.5,
≤ 1.75 at β = 0.9).

S chosen per D (`redundancies`; the CiS capacity results' log factors let S grow with D): the
frontier over S at each D gets its own slope claim, beside the regime criterion's choice of S.
It does not steepen the slope. With the post's β = 0.5, T*(S) is nearly flat in S for S = 4…10
(full form: best 293/756/2111 at S = 5/4/6, slope 1.42, against 1.46 at S = 6 alone; S = 3 and 12
fall behind), and the law that breaks first is the active linear fit at every S, so the k-quanta
steepening (k = 2 for S ≤ 7, 3 for 8…11) never shows. The criterion picks S = 3/4/4 (its T*
199/756/1638) and predicts the over-S slope 1.37 (374/934/2494); its pick grows with D only slowly
(S = 3, 4, 4, 4, 6 at D = 1000 … 16000): log factors whose local slope here is ≈ 1.4. With β = 0.9,
δ = 0.7 (diagnostic, batch 512) the best S per D gives 612/1829/5622 (S = 4/4/5), slope 1.60
against 1.66 at S = 6: choosing S raises the small widths' T* more than the large ones'. (S = 4
there passes the reference's z = 1 target, T = 557 at D = 1000.) So the builder keeps S as given.
D = 1000, S = 7 (D/d = 250) takes a cyclic allocation since session 17 (1275 sets on all 250
neurons; with the local search's 1260 the first 500 rows — the networks' — left 26 neurons
unused, the recursion's top design TD(7, 32) covering 224): at T = 144–211 its layer-L decoded
MSE is 35–45 % lower (T = 211: 2.8–3.0·10⁻³ against 5.2–5.5·10⁻³, 512 inputs, 3 seeds), yet the
quick T* there reads 54 instead of 211: at T = 56 the MSE is 2·10⁻⁴ and the line fit's R² 0.944
on the bisection's inputs (0.957, 0.973 on two other seeds; 0.98–0.99 on the old allocation) —
the linear-fit law's noise on tiny errors, not a worse network.

z ≥ 2 (the 1/z claim carries, at each T*(z), the layer-L decoded error split by whether two active
circuits share a position at some layer). Full form, linked: the inputs whose active circuits
share a position (13–34 %) carry 54–83 % of the layer-L error at T*(z) (0.20–0.39 of the payload
variance each: the post's embedding-overlap error, (z − 1)·d/D per layer, independent of T), and
the disjoint ones still have 10–250× the z = 1 error on the same network (0.026–0.053 vs
0.0002–0.005), where the capacity law's z·T noise gives 2×: the other active circuits' activity
reaches an active circuit through links made by any circuit (Λ is a union), and χ removes one
circuit's worth too much (bias −χ·A per other active circuit: χ ≈ S/N with no neuron shared, as
the 'mean' readout's κ). Linear ('mean' readout): disjoint 2–17× z = 1, the overlap share 49–83 %.
At D = 1000, z = 3 (T* = 41 = N/S, no position shared) that bias alone sets T*. Tried (diagnostic,
batch 512): χ_p = (deg_p − S)/(N − deg_p) (removes only the other hosted circuits' expected bleed)
with the overlap readout makes T = 41, z = 3 exact (R² 1.0 vs 0.90) but leaves T* at
54/262/1078 (z = 2) and 47/116/283 (z = 3) and costs z = 1 (239/652/1814): not adopted. The
linear embedding with the overlap readout: 57/200/847 and 47/115/0. δ = 0.15: z = 2 57/274/1164,
z = 3 43/118/441, z = 1 331/803/1968 (slope 1.29). So z·T*(z)/T*(1) nears 1 at z = 2 only as the
T-independent overlap term fades with D (0.38/0.62/1.02), and z = 3 stays ≈ 0.4: that term takes
≈ L·C(z,2)·(S²/N)·0.3 / 0.1 of the decoded-R² budget (0.3: one shared position's error over the
payload variance; 0.54 at D = 4000, z = 2, as measured; 1.6 at z = 3), so T* ∝ 1/z needs D well
above 4000·C(z,2) here.

Would a perfect fix of the overlap restore 1/z? The claim also carries, at the T the law asks for
(T*(1)/z), the decoded R² on the inputs whose active circuits share no position at any layer
(`ceiling_point`; session 27, linked, 2048 inputs; min over layers, the laws ask ≥ 0.9): D = 1000
z = 2 (T = 136) 0.862 against 0.760 on all inputs, z = 3 (91) 0.735 / 0.632; D = 2000 z = 2 (356)
0.929 / 0.859, z = 3 (237) 0.888 / 0.780; D = 4000 z = 2 (1041) 0.947 / 0.906 (the law holds
there), z = 3 (694) 0.934 / 0.859. So the overlap alone stops the law at D = 2000, z = 2 and
D = 4000, z = 3; at D = 1000 and at D = 2000, z = 3 the disjoint inputs fail the R² law too (the
other active circuits reach them through the links and the neurons they share with inactive
circuits), and no overlap fix restores 1/z there. Nor is it free firing: with the free neurons
silenced after every ReLU (error_sources) z = 2's layer-L error stays 0.229 → 0.215 of the payload
variance (D = 1000, T = 136; z = 1, T = 272: 0.039 → 0.013), and β = 0.5 … 0.9 leaves the
disjoint inputs' R² at 0.860–0.873. Tried (prototype, not in the library): a
first-order readout correction of the value rows, U_t − Σ_a O_ta·U_a/(S(1 − κ)) with O_ta the
positions t and a share — the first term of a series for the inverse of a Gram matrix that is
singular in superposition (T·d > D) — made it worse: at D = 1000, z = 2, T = 53 min decoded R²
0.901 → 0.509, T = 100 0.802 → −0.60.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..base.fitting import fit_loglog
from ..circuits.cis2 import CiS2Config, Robustness, build_cis2, indicator_threshold
from ..circuits.cis2_regime import decoded, free_a0, frontier, laws
from ..circuits.errors import margin_noise_scale
from ..circuits.small import sample_inputs
from ..circuits.verification import r2
from ..plots import circuits as cplots
from ..sweep import map_grid
from . import register
from ._allocation import AllocationTargets, allocation_claims
from .base import Claim, Experiment, ExperimentResult, RunContext, with_null

REVERSED = "the widths reversed (each T* paired with another width)"
SHUFFLED = "T* reversed over the (D, z) points (each T* paired with another point)"
NULL_SLOPE = 1.0  # storage-like capacity, T ∝ D: the slope the capacity law must be told from


class Cis2CapacityConfig(FrozenConfig):
    net: CiS2Config = Field(
        CiS2Config(
            width=1000,
            circuits=557,
            layers=5,
            max_active=1,
            embedding="linked",
            value_margin=1 / 3,
        ),
        description="the network; width, circuits, max_active and embedding are scanned",
    )
    widths: list[int] = Field([1000, 2000, 4000], min_length=2, description="widths D")
    active: list[int] = Field([1], min_length=1, description="active circuits z")
    embeddings: list[str] = Field(
        ["linked"], min_length=1, description="embeddings compared (linear, linked)"
    )
    tolerance: float = Field(
        0.2, gt=0, le=0.5, description="allowed relative deviation of the slope from 2"
    )
    test: str = Field(
        "laws",
        pattern="^(laws|verify)$",
        description="what holds at the frontier: issue 12's four laws at z ('laws') or the strict "
        "verification at every z' ≤ z ('verify')",
    )
    batch: int = Field(64, ge=16, le=100_000, description="sampled inputs per law check")
    fixed_load: bool = Field(
        True,
        description="also measure, at z = the first of `active`, networks at the smallest width's "
        "frontier load T·d²/D² scaled to every width (T ∝ D²): first-order noise vs compounding",
    )
    null_quantile: float = Field(
        0.95,
        gt=0.5,
        lt=1,
        description="the fixed-load switch-on claim's bar: this quantile of max/min across widths "
        "when the per-input layer-2 rates are exchanged between widths (sampling noise alone)",
    )
    robustness: Robustness = Field(
        Robustness(threshold="noise"),
        description="noise robustness compared with the network's own at the first width and each "
        "z (its T* beside the fixed threshold's)",
    )
    redundancies: list[int] = Field(
        [],
        description="S values whose z = 1 frontier is measured at every width with the first "
        "embedding: the frontier over S (the largest T* at each D, S chosen per D as the capacity "
        "results' log factors suggest) gets its own slope claim, beside the regime criterion's "
        "own choice of S (the largest predicted T*)",
    )
    variants: dict[str, dict[str, Any]] = Field(
        {},
        description="constructions whose z = 1 frontier is measured at every width with the first "
        "embedding, each a name and the net fields it changes (e.g. {'indicator_threshold': 0.9, "
        "'robustness': {'indicator_gain': 4}}); each gets its own slope claim",
    )
    allocation: AllocationTargets = Field(
        AllocationTargets(),
        description="issue 12's allocation targets, claims of this run: the fraction of the pair "
        "bound at the named points and in every cell, and balance at every T",
    )


def frontier_point(point: dict[str, Any]) -> dict[str, Any]:
    """Largest T at which the laws hold at one (D, z, embedding), and at that T the a0 neurons
    hosting no active circuit: pre-activation noise RMS and switch-on per layer, beside the capacity
    law's noise 2·sqrt(S·z·T·d²/D²)."""
    cfg = CiS2Config.model_validate(point["net"]).replace(
        width=point["width"], max_active=point["active"], embedding=point["embedding"]
    )
    found = frontier(cfg, test=point["test"], batch=point["batch"])
    if found["T"]:
        net = build_cis2(cfg.replace(circuits=found["T"], max_load=100), verify=False)
        gen = torch.Generator().manual_seed(cfg.seed + 5)
        x, mask = sample_inputs(net.circuits, point["batch"], cfg.max_active, gen)
        a0 = free_a0(net, x, mask)
        found["a0_noise_rms"] = a0["rms"]
        found["switch_on"] = a0["switch_on"]
        found["noise_predicted"] = 2 * margin_noise_scale(
            cfg.redundancy, cfg.max_active, found["T"], cfg.width, cfg.circuit_width
        )
        if cfg.max_active > 1:
            found["overlap"] = overlap_split(net, cfg.max_active, point["batch"], cfg.seed + 5)
    return found


def sharing(net: Any, mask: torch.Tensor) -> torch.Tensor:
    """Whether two of an input's active circuits share a position at some layer: mask [batch, T]
    with z active per row → [batch] bool."""
    batch, z = len(mask), int(mask[0].sum())
    pos = net.positions[:, mask.nonzero()[:, 1].view(batch, z)]  # [L, batch, z, S]
    same = (pos[:, :, :, None, :, None] == pos[:, :, None, :, None, :]).any(-1).any(-1)
    same &= ~torch.eye(z, dtype=torch.bool, device=same.device)  # [L, batch, z, z]: distinct pairs
    return same.flatten(2).any(2).any(0)


def point_network(point: dict[str, Any]) -> tuple[CiS2Config, Any]:
    """The config and network of one scan point (width, T, active, embedding), built without the
    strict verification: these points lie past T*, where the laws are measured, not required."""
    cfg = CiS2Config.model_validate(point["net"]).replace(
        width=point["width"],
        circuits=point["T"],
        max_active=point["active"],
        embedding=point["embedding"],
        max_load=100,
    )
    return cfg, build_cis2(cfg, verify=False)


def ceiling_point(point: dict[str, Any]) -> dict[str, Any]:
    """At the T the 1/z law asks for at one (D, z, embedding) — point["T"] = T*(1)/z —, the active
    circuits' decoded R² at every layer over all inputs and over the inputs whose active circuits
    share no position at any layer: the most a perfect fix of the embedding overlap could give (the
    laws ask for R² ≥ 0.9 at every layer). 4× the law checks' inputs: the split keeps part."""
    cfg, net = point_network(point)
    batch = 4 * point["batch"]
    gen = torch.Generator().manual_seed(cfg.seed + 5)
    x, mask = sample_inputs(net.circuits, batch, cfg.max_active, gen)
    reads, exact = net.readouts(net.forward(x)), net.circuits.forward(x)
    share = sharing(net, mask)

    def per_layer(keep: torch.Tensor) -> list[float]:
        out = []
        for got, want in zip(reads, exact, strict=True):
            v_r, _ = decoded(net, got[keep][mask[keep]])
            v_e, _ = decoded(net, want[keep][mask[keep]])
            out.append(r2(v_r.reshape(len(v_r), -1), v_e.reshape(len(v_e), -1)))
        return out

    return {
        "T": point["T"],
        "inputs sharing": float(share.float().mean()),
        "decoded R² per layer, all inputs": per_layer(torch.ones_like(share)),
        "decoded R² per layer, no position shared": per_layer(~share),
    }


def overlap_split(net: Any, active: int, batch: int, seed: int) -> dict[str, float]:
    """Layer-L decoded MSE of the active circuits (over the payload variance) at z = active, split
    by whether two active circuits share a position at some layer (the post's embedding-overlap
    error, independent of T) or not (what reaches them through other neurons: noise via inactive
    circuits, and with the linked embedding the other active circuits' activity through links made
    by any circuit), beside z = 1 on the same network; "overlap share": the part of the error
    carried by the inputs that share."""
    out: dict[str, float] = {}
    for z in (1, active):
        x, mask = sample_inputs(net.circuits, batch, z, torch.Generator().manual_seed(seed))
        v_r, _ = decoded(net, net.readouts(net.forward(x))[-1][mask])
        v_e, _ = decoded(net, net.circuits.forward(x)[-1][mask])
        var = float(v_e.reshape(-1, v_e.shape[-1]).var(0).mean())
        err = (v_r - v_e).pow(2).reshape(batch, -1).mean(1) / var  # per input
        if z == 1:
            out["z=1"] = float(err.mean())
            continue
        share = sharing(net, mask)
        out |= {
            f"z={z}": float(err.mean()),
            f"z={z}, two active circuits sharing a position": float(err[share].mean())
            if share.any()
            else 0.0,
            f"z={z}, disjoint": float(err[~share].mean()) if (~share).any() else 0.0,
            "inputs sharing": float(share.float().mean()),
            "overlap share": float(err[share].sum() / err.sum().clamp_min(1e-12)),
        }
    return out


def fixed_load_point(point: dict[str, Any]) -> dict[str, Any]:
    """Laws, measured a0 switch-on and the regime criterion of one network (T ∝ D² scan)."""
    cfg, net = point_network(point)
    z, batch = cfg.max_active, point["batch"]
    x, mask = sample_inputs(net.circuits, batch, z, torch.Generator().manual_seed(cfg.seed + 5))
    found = laws(net, z, batch, cfg.seed + 5)
    pred = net.verification["regime"][str(z)]
    a0 = free_a0(net, x, mask)
    return {
        "width": cfg.width,
        "T": cfg.circuits,
        "hosted c": pred["hosted"],
        "measured_switch_on": a0["switch_on"],
        "layer2_per_input": a0["per_input"][1],
        "predicted_switch_on": pred["switch_on"],
        "predicted_noise_growth": pred["noise_growth"],
        "inactive_last_over_first": found["inactive_last_over_first"],
        "decoded_r2": found["decoded_r2"],
    }


def exchange_bar(groups: list[list[float]], quantile: float, seed: int = 0) -> float:
    """The `quantile` of max/min of the group means when the per-input values are exchanged
    between groups (1000 permutations): how far apart equal rates look from sampling alone."""
    vals = np.concatenate([np.asarray(g, dtype=float) for g in groups])
    cuts = np.cumsum([len(g) for g in groups])[:-1]
    rng = np.random.default_rng(seed)
    ratios = []
    for _ in range(1000):
        means = [p.mean() for p in np.split(rng.permutation(vals), cuts)]
        ratios.append(max(means) / max(min(means), 1e-12))
    return float(np.quantile(ratios, quantile))


def fixed_load_claims(rows: list[dict[str, Any]], bar: float) -> list[Claim]:
    """At T ∝ D²: first-order noise the same at every width, compounding growing with c ∝ D."""
    return [first_order_claim(rows, bar), compounding_claim(rows)]


def frontier_cause(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What sets T* at each width: the law that failed first above it, and at T* the a0 noise
    (layer 2, measured vs 2·sqrt(S·z·T·d²/D²)) and switch-on (layers 2 and L)."""
    return {
        "law failed just above T*": [r.get("why") for r in rows],
        "a0 noise RMS at layer 2 at T* (measured)": [
            r.get("a0_noise_rms", [0, 0])[1] for r in rows
        ],
        "a0 noise at T* (capacity law, 2·sqrt(S·z·T·d²/D²))": [
            r.get("noise_predicted", 0.0) for r in rows
        ],
        "a0 switch-on at T*, layer 2 → L": [
            (r["switch_on"][1], r["switch_on"][-1]) if r.get("switch_on") else None for r in rows
        ],
    }


def best_redundancy(rows: list[dict[str, Any]], widths: list[int]) -> tuple[list[int], dict]:
    """The frontier over S: at each width the largest T* over the S measured, with the S that gave
    it, beside the regime criterion's choice (the S with the largest predicted T*) and its T*."""
    keys = ("S with the largest T*", "regime criterion's S (largest predicted T*)")
    cause: dict[str, Any] = {keys[0]: [], keys[1]: [], "T* at the criterion's S": []}
    cause["T* at each S"] = {}
    best = []
    for D in widths:
        mine = [r for r in rows if r["width"] == D]
        top = max(mine, key=lambda r: r["T"])
        pick = max(mine, key=lambda r: r["predicted_T"])
        best.append(top["T"])
        cause[keys[0]].append(top["S"])
        cause[keys[1]].append(pick["S"])
        cause["T* at the criterion's S"].append(pick["T"])
        for r in mine:
            cause["T* at each S"].setdefault(f"S={r['S']}", {})[f"D={D}"] = r["T"]
    return best, cause


def robustness_claim(found: dict[str, dict[int, Any]], width: int) -> Claim:
    """The noise-sized threshold keeps the laws to a larger T than the fixed one at every z. Where
    2σ < β₀ (T < β₀²·D²/(16·S·z·d²): 81 at D = 1000, z = 2) the noise-sized β is β₀ and the two
    networks are the same, so a T* there cannot move: the β measured at the fixed T* says where."""
    fixed, robust = found["fixed"], found["noise"]
    ok = all(robust[z] > fixed[z] for z in fixed)
    return Claim(
        id=f"noise-sized-threshold-pushes-frontier-D{width}",
        statement=f"At D={width} an on-indicator threshold sized from the predicted noise "
        "(β = clip(2σ, β₀, 0.9), σ = 2·sqrt(S·z·T·d²/D²)) keeps the laws to a larger T than the "
        "post's fixed β = 0.5, at every z measured.",
        measured={
            "T* fixed β": fixed,
            "T* noise-sized β": robust,
            "noise-sized β at the fixed T* (where it is β₀, the same network)": found.get(
                "β at the fixed T*", {}
            ),
        },
        expected="noise-sized T* > fixed T* at every z (the null: fixed compared with itself)",
        passed=bool(ok),
    )


def recentre_claim(found: dict[str, list[int]], widths: list[int]) -> Claim:
    """Value re-centring keeps the laws to a larger T than the construction without it, at every
    width (z = 1, the first embedding)."""
    base, rc = found["without"], found["recentre"]
    return Claim(
        id="recentre-pushes-frontier-z1",
        statement="Value re-centring (Robustness.recentre: each value row subtracts the α-gate noise "
        "carried in a1) keeps the laws to a larger T than the same construction without it, at "
        "every width.",
        measured={"widths": widths, "T* without": base, "T* with re-centring": rc},
        expected="T* with > T* without at every width (the null: without compared with itself)",
        passed=all(b > a for a, b in zip(base, rc, strict=True)),
    )


def first_order_claim(rows: list[dict[str, Any]], bar: float) -> Claim:
    """Layer-2 switch-on rate the same at every width (max/min within sampling noise: bar)."""
    first = [r["measured_switch_on"][1] for r in rows]
    pred = [r["predicted_switch_on"][1] for r in rows]
    ratio = max(first) / max(min(first), 1e-12)
    return Claim(
        id="fixed-load-first-order-noise",
        statement="At a fixed load T·d²/D² (T ∝ D²) the layer-2 switch-on rate of a0 neurons "
        "hosting no active circuit is the same at every width (first-order noise obeys the "
        "capacity law).",
        measured={
            "widths": [r["width"] for r in rows],
            "T": [r["T"] for r in rows],
            "switch_on_layer2": first,
            "max/min": ratio,
            "criterion's layer-2 switch-on (finite c: a position hosts c − 1 others)": pred,
            "criterion's max/min": max(pred) / max(min(pred), 1e-12),
        },
        expected=f"max/min ≤ {bar:.3g} (the {bar:.3g} is the null's: rates exchanged between "
        "widths, sampling noise alone)",
        passed=bool(ratio <= bar),
    )


def compounding_claim(rows: list[dict[str, Any]]) -> Claim:
    """Inactive growth over layers rising with D, measured and predicted, leaving the law at the end."""
    growth = [r["inactive_last_over_first"] for r in rows]
    pred = [r["predicted_noise_growth"] for r in rows]
    rising = all(b > a for a, b in pairwise(growth))
    pred_rising = all(b > a for a, b in pairwise(pred))
    return Claim(
        id="fixed-load-compounding-grows",
        statement="At the same fixed load the inactive error's growth over layers rises with "
        "D (each switched-on neuron feeds c = T·S·d/D ∝ D circuits), as the regime "
        "criterion predicts — why the frontier's slope is below 2.",
        measured={
            "widths": [r["width"] for r in rows],
            "hosted c": [r["hosted c"] for r in rows],
            "inactive L/1 measured": growth,
            "noise growth predicted": pred,
        },
        expected="measured and predicted growth both rise with D, and the widest network leaves "
        "the flatness law (L/1 > 2)",
        passed=bool(rising and pred_rising and growth[-1] > 2),
    )


def frontier_check(
    found: tuple[list[int], list[float]],
    embedding: str,
    z: int,
    tol: float,
    cause: dict[str, Any] | None = None,
    variant: str = "",
) -> Claim:
    """`slope_claim` on one measurement (widths, T*); cause: figures measured at each T*."""
    return slope_claim(embedding, z, list(found[0]), list(found[1]), tol, cause, variant)


def slope_claim(
    embedding: str,
    z: int,
    widths: list[int],
    ts: list[float],
    tol: float,
    cause: dict[str, Any] | None = None,
    variant: str = "",
) -> Claim:
    """log T* against log D has slope 2 (capacity law) and not 1 (the storage-like null);
    variant: the name of a construction variant (Cis2CapacityConfig.variants), if any."""
    keep = [k for k, t in enumerate(ts) if t > 0]
    slope = fit_loglog([widths[k] for k in keep], [ts[k] for k in keep])[0] if len(keep) > 1 else 0
    ok = abs(slope - 2) <= 2 * tol and abs(slope - NULL_SLOPE) > 2 * tol
    tag = "".join(ch if ch.isalnum() or ch == "." else "-" for ch in variant).strip("-")
    return Claim(
        id=f"frontier-slope-{embedding}-z{z}" + (f"-{tag}" if tag else ""),
        statement=f"With the {embedding} embedding at z={z}"
        + (f" and {variant}" if variant else "")
        + ", the largest T at which the laws hold grows as D² (T ≲ D²/(d²z)).",
        measured={"slope": slope, "widths": widths, "largest T": ts, **(cause or {})},
        expected=f"slope within {tol:.0%} of 2 and more than {2 * tol:g} from {NULL_SLOPE:g} "
        "(the null: storage-like T ∝ D)",
        passed=bool(ok),
    )


def pooled_claim(rows: list[dict[str, Any]], embedding: str, d: int, tol: float) -> Claim:
    """All frontiers against D²/(d²z) on one log-log line of slope 1 (the capacity law's form)."""
    pts = [(r["width"] ** 2 / (d * d * r["active"]), r["T"]) for r in rows if r["T"] > 0]
    slope = fit_loglog([p[0] for p in pts], [p[1] for p in pts])[0] if len(pts) > 1 else 0.0
    return Claim(
        id=f"frontier-vs-capacity-law-{embedding}",
        statement=f"Pooled over D and z, the largest T at which the {embedding} embedding's laws "
        "hold is proportional to D²/(d²z).",
        measured={"slope of log T* vs log D²/(d²z)": slope, "points": pts},
        expected=f"slope within {tol:.0%} of 1",
        passed=bool(abs(slope - 1) <= tol),
    )


def z_claim(rows: list[dict[str, Any]], embedding: str, tol: float) -> Claim:
    """At every width, z·T*(z)/T*(z=1) is 1 (the capacity law's 1/z), within tolerance."""
    first = {r["width"]: r["T"] for r in rows if r["active"] == 1}
    ratios = {
        f"D={r['width']}, z={r['active']}": r["active"] * r["T"] / first[r["width"]]
        for r in rows
        if r["active"] > 1 and first.get(r["width"])
    }
    overlap = {f"D={r['width']}, z={r['active']}": r["overlap"] for r in rows if r.get("overlap")}
    ceiling = {
        f"D={r['width']}, z={r['active']}, T={c['T']}": {
            "no position shared": min(c["decoded R² per layer, no position shared"]),
            "all inputs": min(c["decoded R² per layer, all inputs"]),
            "inputs sharing": c["inputs sharing"],
        }
        for r in rows
        if (c := r.get("ceiling"))
    }
    return Claim(
        id=f"frontier-vs-z-{embedding}",
        statement=f"At fixed width the {embedding} embedding's largest T falls as 1/z.",
        measured={
            "z·T*(z)/T*(1)": ratios,
            "at T*(z): layer-L decoded MSE / payload variance, split by active overlap": overlap,
            "at T = T*(1)/z (the law's): min decoded R² over layers (the laws ask ≥ 0.9) on the "
            "inputs whose active circuits share no position — a perfect overlap fix's ceiling — "
            "and on all": ceiling,
        },
        expected=f"every ratio within {tol:.0%} of 1",
        passed=bool(ratios) and all(abs(v - 1) <= tol for v in ratios.values()),
    )


def embedding_claim(found: dict[tuple[str, int], list[float]], widths: list[int]) -> Claim:
    """The post's linked embedding holds its laws at larger T than the linear sum at z = 1."""
    lin, lnk = found.get(("linear", 1)), found.get(("linked", 1))
    ok = lin is not None and lnk is not None and all(b > a for a, b in zip(lin, lnk, strict=True))
    return Claim(
        id="linked-beats-linear-z1",
        statement="At z=1 the post's linked embedding (shared weights through the capped link "
        "matrix) keeps its laws to a larger T than counting every linking circuit once.",
        measured={"widths": widths, "linear": lin, "linked": lnk},
        expected="linked T* > linear T* at every width (the null: equal or smaller)",
        passed=bool(ok),
    )


def run_capacity(cfg: Cis2CapacityConfig, ctx: RunContext) -> ExperimentResult:
    net = cfg.net.to_dict()
    points = [
        {"net": net, "width": D, "active": z, "embedding": e, "test": cfg.test, "batch": cfg.batch}
        for e in cfg.embeddings
        for z in cfg.active
        for D in cfg.widths
    ]
    res = map_grid(frontier_point, points, progress=ctx.progress, description="cis2-capacity")
    rows = [
        {**{k: p[k] for k in ("width", "active", "embedding")}, **r}
        for p, r in zip(points, res, strict=True)
    ]
    found: dict[tuple[str, int], list[float]] = {}
    for r in rows:
        found.setdefault((r["embedding"], r["active"]), []).append(r["T"])
    t1 = {(r["embedding"], r["width"]): r["T"] for r in rows if r["active"] == 1}
    at_law = [  # the 1/z law's T at each z ≥ 2: is the overlap what stops it there?
        (r, {**p, "T": round(t1[(r["embedding"], r["width"])] / r["active"])})
        for p, r in zip(points, rows, strict=True)
        if r["active"] > 1 and t1.get((r["embedding"], r["width"]), 0) >= r["active"]
    ]
    ceilings = map_grid(
        ceiling_point, [p for _, p in at_law], progress=ctx.progress, description="1/z ceiling"
    )
    for (r, _), c in zip(at_law, ceilings, strict=True):
        r["ceiling"] = c
    d = cfg.net.circuit_width
    claims = [
        with_null(
            frontier_check,
            (cfg.widths, ts),
            (cfg.widths[::-1], ts),
            REVERSED,
            e,
            z,
            cfg.tolerance,
            frontier_cause([r for r in rows if (r["embedding"], r["active"]) == (e, z)]),
        )
        for (e, z), ts in found.items()
    ]
    if len(cfg.active) > 1:
        for e in cfg.embeddings:
            mine = [r for r in rows if r["embedding"] == e]
            shuffled = [{**r, "T": q["T"]} for r, q in zip(mine, mine[::-1], strict=True)]
            claims.append(with_null(pooled_claim, mine, shuffled, SHUFFLED, e, d, cfg.tolerance))
            if 1 in cfg.active:
                claims.append(with_null(z_claim, mine, shuffled, SHUFFLED, e, cfg.tolerance))
    if {"linear", "linked"} <= set(cfg.embeddings) and 1 in cfg.active:
        same = {**found, ("linear", 1): found[("linked", 1)]}
        claims.append(
            with_null(embedding_claim, found, same, "linked compared with itself", cfg.widths)
        )
    e0, z0 = next(iter(found))
    robust_points = [
        {**p, "net": cfg.net.replace(robustness=cfg.robustness).to_dict()}
        for p in points
        if p["embedding"] == e0 and p["width"] == cfg.widths[0]
    ]
    robust_rows = map_grid(
        frontier_point, robust_points, progress=ctx.progress, description="noise-sized β"
    )
    by_z = {
        "fixed": {
            r["active"]: r["T"]
            for r in rows
            if r["embedding"] == e0 and r["width"] == cfg.widths[0]
        },
        "noise": {p["active"]: r["T"] for p, r in zip(robust_points, robust_rows, strict=True)},
    }
    by_z["β at the fixed T*"] = {  # β₀ where 2σ < β₀: there the two networks are the same
        p["active"]: indicator_threshold(
            CiS2Config.model_validate(p["net"]).replace(
                width=p["width"],
                max_active=p["active"],
                circuits=max(by_z["fixed"][p["active"]], 1),
            )
        )
        for p in robust_points
    }
    claims.append(
        with_null(
            robustness_claim,
            by_z,
            {**by_z, "noise": by_z["fixed"]},
            "the fixed threshold compared with itself",
            cfg.widths[0],
        )
    )

    def z1_slope(ts: list[int], cause: dict[str, Any], tag: str) -> Claim:
        """The z = 1 slope claim of one more frontier (T* per width) of the first embedding."""
        widths = (cfg.widths, ts)
        reverse = (cfg.widths[::-1], ts)
        return with_null(
            frontier_check, widths, reverse, REVERSED, e0, 1, cfg.tolerance, cause, tag
        )

    variant_rows: dict[str, list[dict[str, Any]]] = {}
    for name, change in cfg.variants.items():
        net_v = CiS2Config.model_validate({**net, **change}).to_dict()
        v_points = [
            {**p, "net": net_v} for p in points if p["embedding"] == e0 and p["active"] == 1
        ]
        v_rows = map_grid(frontier_point, v_points, progress=ctx.progress, description=name)
        variant_rows[name] = v_rows
        claims.append(z1_slope([r["T"] for r in v_rows], frontier_cause(v_rows), name))
        if name in RECENTRE and 1 in cfg.active:
            base = [r["T"] for r in rows if (r["embedding"], r["active"]) == (e0, 1)]
            pushed = {"without": base, "recentre": [r["T"] for r in v_rows]}
            claims.append(
                with_null(
                    recentre_claim,
                    pushed,
                    {**pushed, "recentre": base},
                    "without re-centring compared with itself",
                    cfg.widths,
                )
            )
    s_rows: list[dict[str, Any]] = []
    if cfg.redundancies and 1 in cfg.active:
        s_points = [
            {**p, "net": {**net, "redundancy": S}, "S": S}
            for S in cfg.redundancies
            for p in points
            if p["embedding"] == e0 and p["active"] == 1 and p["width"] // d > S * (S - 1)
        ]
        found_s = map_grid(frontier_point, s_points, progress=ctx.progress, description="S per D")
        s_rows = [
            {"width": p["width"], "S": p["S"], **r} for p, r in zip(s_points, found_s, strict=True)
        ]
        claims.append(z1_slope(*best_redundancy(s_rows, cfg.widths), "S chosen per D"))
    load_rows: list[dict[str, Any]] = []
    null_rows: list[dict[str, Any]] = []
    T0 = found[(e0, z0)][0]
    if cfg.fixed_load and T0 > 0:
        load_points = [
            {**p, "T": round(T0 * (p["width"] / cfg.widths[0]) ** 2)}
            for p in points
            if p["embedding"] == e0 and p["active"] == z0
        ]
        fixed_T = [{**p, "T": T0} for p in load_points]
        both = map_grid(
            fixed_load_point, load_points + fixed_T, progress=ctx.progress, description="fixed load"
        )
        load_rows, null_rows = both[: len(load_points)], both[len(load_points) :]
        kind = f"T fixed at {T0} at every width (load falling as 1/D²)"
        bar = exchange_bar([r["layer2_per_input"] for r in load_rows], cfg.null_quantile)
        claims += [
            with_null(first_order_claim, load_rows, null_rows, kind, bar),
            with_null(compounding_claim, load_rows, null_rows, kind),
        ]
    claims += allocation_claims(cfg.allocation, ctx)
    first = found[(e0, z0)]
    law = [D * D / (d * d * z0) for D in cfg.widths]
    scale = first[0] / law[0] if first[0] else 1.0
    fig = cplots.capacity(
        cfg.widths,
        {
            **{f"{e}, z={z}": ts for (e, z), ts in found.items()},
            **{f"{e0}, z=1, {n}": [r["T"] for r in v] for n, v in variant_rows.items()},
        },
        [t * scale for t in law],
        ctx.figure_path("frontier"),
        f"CiS2 frontier: largest T with the laws held (S={cfg.net.redundancy}, L={cfg.net.layers})",
    )
    return ExperimentResult(
        claims=claims,
        figures=[fig],
        data={
            "frontier": rows,
            f"frontier with {cfg.robustness} at D={cfg.widths[0]}": robust_rows,
            "widths": cfg.widths,
            "variants (z = 1, every width)": variant_rows,
            "frontier over S (z = 1)": s_rows,
            "fixed_load": load_rows,
            "fixed_T (null of the fixed-load claims)": null_rows,
            "predicted frontier (regime criterion)": {
                f"{e}, z={z}": [
                    r["predicted_T"] for r in rows if (r["embedding"], r["active"]) == (e, z)
                ]
                for e, z in found
            },
        },
        notes=[
            f"T* is the largest T at which {'the laws hold at z' if cfg.test == 'laws' else 'the strict verification passes'} "
            "(bisection on a log scale to 4 %, bracketed upwards from T = N/S, where no neuron is "
            "shared, in steps of 1.6×, up to the allocation's capacity); the "
            "first failing T, the failed law with its figure and every T tried are kept in data.",
            f"Network: {cfg.net.allocation} allocation, {cfg.net.positions} positions, "
            f"{cfg.net.unembedding} readout, β = {cfg.net.indicator_threshold:g}, "
            f"δ = {cfg.net.value_margin:.3g}.",
            "Two terms the capacity law leaves out set the frontier at L = 5. z = 1: compounding — "
            "each neuron switched on by noise feeds c = T·S·d/D circuits' next readouts, a gain ∝ D "
            "at fixed load, so T* grows slower than D² although the a0 noise at T* is the capacity "
            "law's 2·sqrt(S·z·T·d²/D²) (slope claims: measured vs predicted at each width). z ≥ 2: "
            "the active circuits' own overlap error (∝ (z − 1)·d/D, independent of T, Case 1 "
            "holding) accumulates linearly over the layers and uses the decoded-R² budget (1 − 0.9) "
            "before any T-dependent error does: at D = 1000, T* is 53 (z = 2) and 41 = N/S, no "
            "neuron shared (z = 3), with the fixed or the noise-sized threshold alike.",
            "Noise robustness (diagnostic run: cis2_regime.frontier(net, test='laws', batch=512) "
            "at D = 1000, linked, δ = 1/3): the noise-sized threshold "
            "(β = clip(2σ, 0.5, 0.9)) moves T* from 279 to 537 at z = 1 (fails at 553: decoded "
            "R² 0.900, mean α 0.887 — the reference's T = 557 just out of reach), and leaves z = 2 "
            "(53) and z = 3 (41) unchanged; fixed β = 0.8 gives 491, β = 0.9 gives 537; raising "
            "the value margin with β (δ = β/(2 − β)) at β = 0.65/0.8 gives 381/474 at z = 1 but "
            "48/46 at z = 2 and none at z = 3 (more bleed per active neighbour); redundancy S = 5 "
            "gives 252/62/50 at z = 1/2/3 (S = 6: 279/53/41), S = 8 268 at z = 1. At D = 2000/4000 the noise-sized threshold gives 1462/1951 (z = 1), the D = 4000 "
            "point again limited by the linear-fit test (0.949 at T = 2001).",
            "Pushing the frontier (diagnostic runs, z = 1, linked, batch 128 unless said; T* at "
            "D = 1000/2000/4000): β = 0.9 537/1597/3010; β = 0.9 with δ = 0.7 509/1680/5385 "
            "(slope 1.70; batch 512: 540/1680/5385, 1.66) — the best found, bound by mean α at "
            "layer L (0.88–0.89: with β = 0.9 the on state saturates only from α̂ = 0.95 and the "
            "unstable point is 0.9, so negative noise at the active positions erodes α); δ = 0.5 "
            "479/1697/4502, δ = 1 527/1677/5257, β = 0.8 with δ = 0.7 436/–/3910; S = 5 / 7 / 8 / 10 "
            "with β = 0.9, δ = 0.7 580/1751/5301 (slope 1.60; z = 1 passes T = 557 at D = 1000, "
            "but with S = 5, not the reference's 6), 425/1493/4523, 451/1431/4396, 413/1236/3875. Error correction per layer: the "
            "steeper on-indicator (Robustness.indicator_gain, a snap of α to {0, 1} with a wider on "
            "basin) did not help — with the unstable point kept at 0.5, gain 4 (off threshold 0.375) "
            "308/840/2215 and gain 10 (0.45) 272/862/2451; gain 3 / 4 with the off threshold at "
            "0.45 (β = 0.9) 450/1156/3010 and 400/1156/3010, with δ = 0.5 465/–/4245 and "
            "401/–/3032; in this run gain 4, β = 0.9 (with / without δ = 0.7) 369–382/1150–1174/"
            "3068–3077 (a lit free neuron carries g/2× more, which costs more than "
            "the on basin gains); a cleanup ReLU stage after every layer (an identity circuit layer "
            "interleaved, 9 large layers for 5 circuit layers; prototype, not in the library) gave "
            "280/–/2250 at β = 0.5 and 445/–/4474 at β = 0.9, δ = 0.7 (each stage adds its own "
            "noise from the c circuits a neuron hosts). Why no per-neuron threshold reaches slope "
            "2 (derived, heuristic): a free neuron lights when ≥ k overlap quanta (1/S of α each) "
            "reach it, k = ⌊S·β/2⌋ + 1, rate ∝ λ^k with λ = S³·z·T·d²/D²; compounding stays "
            "bounded while rate·c is, c = T·S·d/D, so T* ∝ D^(2 − 1/(k+1)): ≤ 1.67 at β = 0.5 "
            "(k = 2), ≤ 1.75 at β = 0.9 (k = 3), measured 1.42 and 1.66–1.70. z ≥ 2: the "
            "active circuits' own overlap (a shared neuron carries the other active circuit's "
            "value, ≈ 1/S of it per shared position, S²/N of positions per layer) binds at "
            "every T > N/S, not noise: β = 0.9, δ = 0.7 gives 46/149/243 (z = 2) and none at "
            "D = 1000 (z = 3); linear embedding with the overlap readout 51/195/846 and "
            "45/115/none; the linked embedding's χ correction alone adds ≈ 0.004 decoded MSE per "
            "layer at z = 3 with no neuron shared (T = 41, D = 1000), the linear one is exact "
            "there. So the reference configuration (D = 1000, T = 557, z ≤ 3) is not met by any "
            "construction tried: z = 1 reaches 509–540, z = 2 ≈ 50, z = 3 ≈ 41. Under the strict "
            "verification (cis2_regime.frontier(test='verify'), z = 1, 64 inputs) the largest "
            "verified T is 316/998/2756 with the post's β = 0.5 (slope 1.56) and 399/1334/4649 "
            "with β = 0.9, δ = 0.7 (slope 1.77; it fails first on an active α falling to β). "
            "On the linear embedding (full run with it first) the variants' z = 1 frontiers are "
            "137/485/1800 (β = 0.9), 135/476/1814 (with δ = 0.7), 174/673/2299 (snap gain 4, "
            "β = 0.9: there the snap helps, +27 %) and 157/500/1728, against 203/658/2019 with "
            "β = 0.5: steeper slopes (1.73–1.87) from lower starts.",
            "Why the active error compounds (cis2_regime.error_sources): neurons hosting no active "
            "circuit that fire (mostly a0, 3–8 % of the block just above T*) reach the active "
            "circuits' value neurons through the α gate; silenced, the error is linear and flat in "
            "D at fixed load, α stays 1. Value re-centring (Robustness.recentre, exact in the small "
            "circuits) subtracts that noise one layer later from a1: full form T* 272/712/2083 "
            "→ 398/1105/2877 (slope 1.47 → 1.43), and the free firing itself binds (inactive "
            "flatness, mean α); with β = 0.9, δ = 0.7, gain 2.5 566/1768/5490 (1.64). Module "
            "docstring: the numbers.",
            "S chosen per D (`redundancies`, its own slope claim): T*(S) is nearly flat in S for "
            "S = 4…10 at every width and the active linear fit breaks first at every S, so the best "
            "S per D (S = 5/4/6 in the full form) gives slope 1.42, not 2; the regime criterion "
            "picks S = 3–4 and predicts 1.37; with β = 0.9, δ = 0.7 (diagnostic) the best S per D "
            "(4/4/5: 612/1829/5622) gives 1.60 against 1.66 at S = 6. Module docstring: the "
            "numbers and the heuristic.",
            "z ≥ 2 (the 1/z claim's split at each T*(z)): inputs whose active circuits share a "
            "position carry about half or more of the error (the post's T-independent overlap "
            "term); the rest is cross-talk through links (linked) or the mean readout's bias, "
            "10–250× the z = 1 error at the same T where the capacity law says 2×. A χ that removes "
            "only other circuits' expected bleed, the overlap readout and a smaller δ did not "
            "restore 1/z (module docstring). At T*(1)/z the claim also gives the R² of the inputs "
            "whose active circuits share no position: where it is below 0.9 too, no fix of the "
            "overlap alone could make the law hold.",
        ],
    )


#: noise-robustness ideas measured at every width (z = 1): β = 0.9 puts the off threshold at
#: α = 0.45; δ = 0.7 the value neurons' margin; snap4 steepens the on-indicator (gain 4, a per-layer
#: snap of α to {0, 1}, on basin from α* = 0.6)
BEST = {"beta0.9-delta0.7": {"indicator_threshold": 0.9, "value_margin": 0.7}}
#: value re-centring (Robustness.recentre) on the post's β = 0.5: the diagnosed error path removed
RECENTRE = {"recentre": {"robustness": {"recentre": True}}}
VARIANTS = {
    "beta0.9": {"indicator_threshold": 0.9},
    **BEST,
    "snap4-beta0.9": {"indicator_threshold": 0.9, "robustness": {"indicator_gain": 4}},
    "snap4-beta0.9-delta0.7": {
        "indicator_threshold": 0.9,
        "value_margin": 0.7,
        "robustness": {"indicator_gain": 4},
    },
    **RECENTRE,
    "recentre-beta0.9-delta0.7-gain2.5": {
        "indicator_threshold": 0.9,
        "value_margin": 0.7,
        "robustness": {"recentre": True, "indicator_gain": 2.5},
    },
}
# the linked embedding first: robustness, variants and the fixed-load scan use the first (as quick)
FULL = Cis2CapacityConfig(
    active=[1, 2, 3],
    embeddings=["linked", "linear"],
    batch=512,
    variants=VARIANTS,
    redundancies=[3, 4, 5, 6, 7, 8, 10, 12],
    allocation=AllocationTargets(  # issue 12: ≥ 85 % and balance at every T in every cell
        widths=list(range(100, 1001, 10)), balanced_widths=list(range(100, 1001, 10))
    ),
)

register(
    Experiment(
        name="cis2-capacity",
        title="CiS2 frontier: the largest T at which the laws hold, vs D (capacity T ≲ D²/(d²z))",
        description="For each D, z and embedding, bisect T for the largest network passing the strict "
        "verification; fit log T* against log D (slope 2) and against D²/(d²z). Also issue 12's "
        "allocation targets: the fraction of the pair bound, and balance at every T.",
        config_cls=Cis2CapacityConfig,
        quick=Cis2CapacityConfig(
            widths=[1000, 2000],
            active=[1, 2],
            batch=512,  # the full form's: at 128 the start of the bisection moved T* by ±25 %
            fixed_load=False,
            variants={**BEST, **RECENTRE},
            redundancies=[4, 5, 6, 7, 8],
        ),
        full=FULL,
        runner=run_capacity,
        quick_seconds=47,
        full_seconds=1848,
        paper="CiS2 (seed 001), capacity T ≲ D²/(d²z); issue 12",
    )
)
