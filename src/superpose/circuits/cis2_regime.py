"""CiS2: where its laws hold (the regime criterion) and the strict verification of a built network.

Regime (issue 12, REFERENCE §2). §2's error laws assume large neurons hosting no active circuit stay
off. The weakest such neuron is the on-indicator a0 = ReLU(2α − β) (value neurons have margin 1 at
the same gain). At layer 2 its pre-activation is 2·Σ_t α̂_t − β over the c ≈ T·S/N circuits it hosts
(N = D/d), whose layer-1 readouts α̂_t are exact except where t shares positions with an active
circuit: each shared position adds 1/S (a0 − a1 = 1 there), the readout correction removes the mean.
So Y = 2a·(K − E K)/S with K ~ Binomial(n, p) the number of (hosted circuit, active circuit) shared
positions: n = c·z·S trials (each hosted circuit's S positions against each active circuit),
p = (c − 1)/(T − 1) (a position hosts c − 1 other circuits out of T − 1), a = 1/(1 − S/N) for the
mean-corrected readout and 1 + χ for the linked embedding. The neuron switches on when Y > β.
Switched-on neurons carry clip(Y − β, 0, 1) of α into the next layer's readouts of the c circuits
they host, adding Gaussian noise of variance 4a²·c·Var(clip)/S to the next layer's Y — a mean-field
recursion over layers. Inside the regime: the predicted noise variance that layer L's readouts
feed forward (a layer L + 1's Y: the readouts the inactive error at layer L is measured on) is at
most twice layer 2's, fed by layer 1's (the issue's flatness law, layer L / layer 1 ≤ 2, applied to
the noise feeding it; at L = 2 it still sees the layer-2 neurons that switch on).

Verification (always on; thresholds from issue 12's laws): for every z = 1 … max_active, on sampled
inputs with exactly z circuits on, at every layer:
- decoded outputs of active circuits R² ≥ 0.9 against their own variance (issue 12: "decoded outputs
  R² ≥ 0.9 at every layer"); the decoded value is v = a_value − (g − δ)·α, the circuits' payload;
- mean α of active circuits ≥ 0.9 (issue 12: "mean α ≥ 0.9 at layer L"; checked at every layer);
- every active α̂ > β, and at most 1 in 10⁴ inactive α̂ ≥ β (ours: a rate, not a maximum over
  batch·T readouts, which would tighten with T): β is the indicator's unstable fixed point, so a
  readout across it flips the circuit on/off in the small circuit's own dynamics (small.py);
- inactive error flat: inactive MSE at layer l ≤ 2 × layer 1 (issue 12: "layer L / layer 1 ≤ 2").
Plus layer 1 exact at z = 1 and the dense network equal to the structured one (when dense fits).
Custom circuits (no on-indicator) get the R² and flatness checks on all their neurons.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..base.errors import SuperposeError
from .allocation import Allocation, family
from .small import sample_inputs

if TYPE_CHECKING:
    from .cis2 import CiS2Network

MIN_R2 = 0.9  # issue 12: decoded outputs R² ≥ 0.9 at every layer
MIN_ALPHA = 0.9  # issue 12: on-indicators kept, mean α ≥ 0.9 at layer L
MAX_FLAT = 2.0  # issue 12: inactive error flat, layer L / layer 1 ≤ 2
FLOOR = 1e-3  # inactive MSE below this × the payload's variance counts as exact (flatness ratio)
MAX_FALSE_ON = 1e-4  # ours: at most 1 in 10⁴ inactive readouts may cross β (a rate, so the check
# does not tighten with T as a maximum over batch·T readouts would)
DENSE_CHECK_MAX_FLOPS = 3e9  # the dense cross-check runs only below this cost


# --- positions ---------------------------------------------------------------------------------


def fixed_positions(
    alloc: Allocation, n_circuits: int, n_layers: int, gen: torch.Generator
) -> torch.Tensor:
    """[L, T, S]: one fixed family — allocation.family: the allocation's first T sets, where
    those are not balanced with their overused neurons replaced — with circuits permuted over it
    per layer (REFERENCE §2: the authors keep one family and permute circuits per layer).

    The affine allocation lists whole parallel classes first, so its first T sets use every covered
    neuron ⌊T·S/(S·q)⌋ or ⌈…⌉ times; a fresh random subset per layer gives 0–16 at D=2000, T=557.
    """
    if n_circuits > alloc.capacity:
        raise SuperposeError(
            f"T = {n_circuits} circuits exceeds the {alloc.scheme} allocation's maximum "
            f"{alloc.capacity} for D/d = {alloc.n_neurons}, S = {alloc.size}"
        )
    rows = torch.from_numpy(family(alloc, n_circuits))
    return torch.stack([rows[torch.randperm(n_circuits, generator=gen)] for _ in range(n_layers)])


# --- regime criterion --------------------------------------------------------------------------


def _gauss_clip_moments(mu: np.ndarray, sd: float, lo: float) -> tuple[np.ndarray, np.ndarray]:
    """E[clip(X − lo, 0, 1)] and E[clip²] for X ~ N(mu, sd²) (Gauss–Hermite, 60 nodes)."""
    x, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()
    vals = np.clip(mu[:, None] + sd * x[None, :] - lo, 0.0, 1.0)
    return vals @ w, (vals**2) @ w


def readout_kappa(
    unembedding: str, width: int, circuit_width: int, redundancy: int, circuits: int
) -> float:
    """κ of the readout U_t = (E_tᵀ − κ·1_block)/(S(1 − κ)) (same rule as CiS2Network.kappa)."""
    N, S, T = width // circuit_width, redundancy, circuits
    if unembedding == "plain":
        return 0.0
    if unembedding == "mean":
        return S / N
    return max(T * S / N - 1, 0.0) / max(T - 1, 1)


def predict_regime(
    width: int,
    circuit_width: int,
    redundancy: int,
    circuits: int,
    active: int,
    layers: int,
    threshold: float = 0.5,
    embedding: str = "linear",
    unembedding: str = "mean",
    value_margin: float = 1.0,
    indicator_gain: float = 2.0,
) -> dict[str, Any]:
    """Predicted switch-on probability of a0 neurons hosting no active circuit, per layer, and whether
    the noise feeding them stays flat (see the module docstring for the derivation). Value neurons
    switch on when g·Σα̂ > δ (g = 1 + δ); when δ/g < β/2 they, not a0, bind: β is replaced by 2δ/g.
    indicator_gain g (Robustness.indicator_gain): a lit a0 carries clip(g/2·(Y − β), 0, 1).

    Returns {"switch_on": [L] (layer 1 is 0: inputs embedded exactly), "noise_growth":
    Var(Y_(L+1))/Var(Y_2) (second moments, so a growing mean counts), "inside": noise_growth ≤ 2,
    "hosted": c, "load": S·z·T·d²/D²}. Assumes balanced usage (every neuron hosts ≈ c circuits).
    """
    N, S, T, z = width // circuit_width, redundancy, circuits, active
    beta = min(threshold, 2 * value_margin / (1 + value_margin))
    kappa = readout_kappa(unembedding, width, circuit_width, redundancy, circuits)
    c = T * S / N
    chi = c * S / max(N - c * S, 1.0) if embedding == "linked" else 0.0
    n = max(round(c * z * S), 1)
    p = min(max(c - 1, 0.0) / max(T - 1, 1), 1.0)
    k = np.arange(n + 1)
    logpmf = (
        np.array([math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in k])
        + k * math.log(max(p, 1e-300))
        + (n - k) * math.log(max(1 - p, 1e-300))
    )
    pmf = np.exp(logpmf - logpmf.max())
    pmf /= pmf.sum()
    # layer-2 noise for each count: shared positions minus the readout's correction of the z·S
    # active positions (linked: (1 + χ)·linked − χ·all, each row summing to zero)
    if embedding == "linked":
        y_k = 2 * ((1 + chi) * k - chi * z * S) / S
    else:
        y_k = 2 * (k - c * z * S * kappa) / (S * (1 - kappa))
    # fraction of a uniform block-wide activity mean that survives the correction, per hosted circuit
    keep = 0.0 if embedding == "linked" else (S - kappa * N) / (S * (1 - kappa))
    snap = indicator_gain / 2  # a lit a0's activation per unit of Y above β, relative to the post's
    switch_on, mean_extra, var_extra, moments = [0.0], 0.0, 0.0, []
    for _ in range(1, layers):
        y = y_k + mean_extra
        sd = math.sqrt(max(var_extra, 0.0))
        if sd > 0:
            m1, m2 = _gauss_clip_moments(y * snap, sd * snap, beta * snap)
            on = float(pmf @ (0.5 * (1 + _erf((y - beta) / (sd * math.sqrt(2))))))
        else:
            m1 = np.clip((y - beta) * snap, 0, 1)
            m2 = m1**2
            on = float(pmf @ (y > beta))
        switch_on.append(on)
        moments.append(float(pmf @ y**2) + var_extra)
        mean_clip = float(pmf @ m1)
        var_clip = float(pmf @ m2) - mean_clip**2
        gain = (1 + chi) if embedding == "linked" else 1 / (1 - kappa)
        var_extra = 4 * gain**2 * c * var_clip / S
        mean_extra = 2 * c * mean_clip * keep
    # the last layer's readouts (what its inactive error is measured on) feed a layer L + 1
    moments.append(float(pmf @ (y_k + mean_extra) ** 2) + var_extra)
    growth = moments[-1] / moments[0] if moments[0] > 0 else 1.0
    return {
        "switch_on": switch_on,
        "noise_growth": growth,
        "inside": bool(growth <= MAX_FLAT),
        "hosted": c,
        "load": S * z * T * circuit_width**2 / width**2,
    }


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf)(x)


def free_a0(net: CiS2Network, x: torch.Tensor, mask: torch.Tensor) -> dict[str, Any]:
    """Block-0 (a0) neurons hosting no active circuit, per layer: RMS of their pre-activation
    noise (bias removed; compare 2·sqrt(S·z·T·d²/D²)), the fraction on (> 0), and that fraction per
    input ("per_input": L × [batch], for sampling nulls)."""
    N = net.block
    on = mask.unsqueeze(-1).expand(-1, -1, net.d).to(x)
    out: dict[str, Any] = {"rms": [], "switch_on": [], "per_input": []}
    r_t, A_t = x.permute(1, 2, 0).contiguous(), None
    for k in range(net.L):
        pre = net._layer_t(r_t, k, A_t, relu=False)
        A_t = torch.relu(pre)
        free = ~(net.scatter(on, k) > 0)[:, :N]  # [batch, N]
        noise = pre[:N].T - net.bias[k, :N].to(pre)
        lit = (A_t[:N].T > 0) & free
        out["rms"].append(float(noise[free].pow(2).mean().sqrt()) if free.any() else 0.0)
        out["switch_on"].append(float(lit.sum()) / max(int(free.sum()), 1))
        out["per_input"].append((lit.sum(1) / free.sum(1).clamp_min(1)).tolist())
        if k + 1 < net.L:
            r_t = net._read_t(A_t, k)
    return out


def measured_switch_on(net: CiS2Network, x: torch.Tensor, mask: torch.Tensor) -> list[float]:
    """Per layer: fraction of block-0 (a0) neurons hosting no active circuit that are on (> 0)."""
    return free_a0(net, x, mask)["switch_on"]


# --- strict verification -----------------------------------------------------------------------


def indicator_snap(circuits: Any) -> tuple[float, float] | None:
    """(gain g, β) of generated circuits' on-indicator a0 = ReLU(g·α − g·β/2) (None: custom)."""
    if circuits.threshold is None:
        return None
    gain = float(circuits.weights[0, 0, 0, 0])
    return gain, 2 * circuits.threshold / gain


def indicator_boundary(circuits: Any) -> float | None:
    """The on-indicator's unstable fixed point α* = g·β/(2(g − 1)) (β for the post's g = 2): a
    readout across it flips the circuit on/off in the small circuit's own dynamics."""
    snap = indicator_snap(circuits)
    if snap is None or snap[0] <= 1:  # no expanding indicator: its bias is the only boundary
        return circuits.threshold
    return snap[0] * snap[1] / (2 * (snap[0] - 1))


def decoded(net: CiS2Network, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Payload and indicator of circuit activations a: [..., d] → (values [..., d−2], α [...]).

    Generated circuits: α = a0 − a1, values a_j − (g − δ)·α. Custom circuits: all neurons, no α.
    """
    if net.circuits.threshold is None:
        return a, None
    alpha = a[..., 0] - a[..., 1]
    return a[..., 2:] - net.circuits.offset * alpha.unsqueeze(-1), alpha


def _r2(pred: torch.Tensor, true: torch.Tensor) -> float:
    """R² of pred against true: [n, k] (pooled over columns, each column's own mean)."""
    sst = (true - true.mean(0, keepdim=True)).pow(2).sum()
    return float(1 - (pred - true).pow(2).sum() / sst.clamp_min(1e-12))


def exact_active(net: CiS2Network, x: torch.Tensor, idx: torch.Tensor) -> list[torch.Tensor]:
    """Exact activations of the active circuits only: x [batch, T, d], idx [batch, z] → L ×
    [batch, z, d]. Inactive circuits' are exactly 0 (zero input, biases ≤ 0: SmallCircuits checks)."""
    a = torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, net.d))
    w, b = net.circuits.weights.to(a), net.circuits.biases.to(a)
    out = []
    for k in range(net.L):
        a = torch.relu(torch.einsum("bzij,bzj->bzi", w[idx, k], a) + b[idx, k])
        out.append(a)
    return out


def verify_cis2(net: CiS2Network, max_active: int, batch: int, seed: int) -> dict[str, Any]:
    """Strict verification (module docstring). Returns the report: "failures" lists every failed
    check as one line (figure, layer, config field to change), "failure" is the first (or None).

    Cost: one structured forward per z whose readouts are the ones the forward computes anyway
    (batch-last, no [batch, T, d] copies); exact values for the z active circuits only; inactive
    figures from sums over all circuits minus the active ones."""
    beta = indicator_boundary(net.circuits)
    dev = net.positions.device
    per_z: dict[int, dict[str, list[float]]] = {}
    failures: list[str] = []
    fail = failures.append
    T, d = net.T, net.d

    for z in range(1, max_active + 1):
        gen = torch.Generator().manual_seed(seed + z)
        x, mask = sample_inputs(net.circuits, batch, z, gen)
        x, mask = x.to(dev), mask.to(dev)
        idx = mask.nonzero()[:, 1].view(batch, z)  # active circuits per sample
        cols = torch.arange(batch, device=dev).unsqueeze(1).expand(-1, z)
        exact = exact_active(net, x, idx)
        rows: dict[str, list[float]] = {
            k: []
            for k in (
                "r2",
                "payload_var",
                "alpha_mean",
                "alpha_min",
                "inactive_alpha_max",
                "inactive_false_on",
                "inactive_mse",
            )
        }
        n_off = batch * (T - z)
        for k, read_t in enumerate(net.forward_readouts(x)):  # read_t: [T, d, batch]
            act = read_t[idx, :, cols]  # [batch, z, d]: the active circuits' readouts
            v_r, a_r = decoded(net, act)
            v_e, _ = decoded(net, exact[k])
            v_e = v_e.reshape(batch * z, -1)
            rows["r2"].append(_r2(v_r.reshape(batch * z, -1), v_e))
            rows["payload_var"].append(float(v_e.var(0).mean()))
            # inactive exact values are 0: their squared error is every readout's minus the active's
            sq = float(read_t.pow(2).sum(dtype=torch.float64) - act.pow(2).sum(dtype=torch.float64))
            rows["inactive_mse"].append(max(sq, 0.0) / max(n_off * d, 1))
            if a_r is not None:
                a_all = read_t[:, 0] - read_t[:, 1]  # [T, batch]
                a_all[idx.T, cols.T] = -math.inf  # the active ones left out
                rows["alpha_mean"].append(float(a_r.mean()))
                rows["alpha_min"].append(float(a_r.min()))
                rows["inactive_alpha_max"].append(float(a_all.max()) if n_off else 0.0)
                on = float((a_all >= beta).sum()) / n_off if n_off else 0.0
                rows["inactive_false_on"].append(on)
            if k == 0 and z == 1:
                err1 = float((act - exact[0]).abs().max())
                if err1 > 1e-4:
                    fail(
                        f"layer-1 readout of the active circuit is off by {err1:.3g} with one "
                        "circuit on (must be exact: the inputs are embedded directly)"
                    )
        per_z[z] = rows
        if rows["payload_var"][0] == 0:  # R² and the flatness floor are measured against it
            raise SuperposeError(
                "the circuits' outputs carry no variance on their sampled inputs (each computes a "
                "constant: dead ReLUs or zero weights), so there is nothing to verify; change "
                "their weights or biases so some ReLU follows the inputs, or their input domain"
            )
        where = f"with z={z} active"
        for k in range(net.L):
            lay = f"at layer {k + 1} {where}"
            if rows["r2"][k] < MIN_R2:
                fail(
                    f"decoded R² {rows['r2'][k]:.3f} of active circuits {lay} is below "
                    f"{MIN_R2}; lower `circuits` or `max_active`, or raise `width`"
                )
            floor = FLOOR * rows["payload_var"][0]
            flat = rows["inactive_mse"][k] / max(rows["inactive_mse"][0], floor)
            if rows["inactive_mse"][k] > floor and flat > MAX_FLAT:
                fail(
                    f"inactive error grew {flat:.2f}× from layer 1 {lay} (law: ≤ {MAX_FLAT:g}×, "
                    "noise switches neurons on); lower `circuits` or raise `width`"
                )
            if beta is None:
                continue
            if rows["alpha_mean"][k] < MIN_ALPHA:
                fail(
                    f"mean on-indicator α {rows['alpha_mean'][k]:.3f} of active circuits {lay} is "
                    f"below {MIN_ALPHA}; lower `circuits` or raise `width`"
                )
            if rows["alpha_min"][k] <= beta:
                fail(
                    f"an active circuit's on-indicator fell to α = {rows['alpha_min'][k]:.3f} ≤ "
                    f"β = {beta:.3g} {lay} (it switches off); lower `circuits` or raise `width`"
                )
            if rows["inactive_false_on"][k] > MAX_FALSE_ON:
                fail(
                    f"{rows['inactive_false_on'][k]:.2g} of inactive circuits' on-indicators read "
                    f"α ≥ β = {beta:.3g} {lay} (they switch on; allowed {MAX_FALSE_ON:g}); lower "
                    "`circuits`, raise `redundancy` (worst case z/S) or `width`"
                )
    report: dict[str, Any] = {"per_z": {str(z): r for z, r in per_z.items()}}
    if net.dense_fits() and net.width**2 * net.T * net.d <= DENSE_CHECK_MAX_FLOPS:
        from .cis2 import dense_forward

        x, _ = sample_inputs(net.circuits, 8, 1, torch.Generator().manual_seed(seed))
        x = x.to(dev)
        dense = dense_forward(net.dense_module().to(dev), x)
        gap = max(float((a - b).abs().max()) for a, b in zip(net.forward(x), dense, strict=True))
        report["dense_structured_max_gap"] = gap
        if gap > 1e-3:
            fail(f"dense and structured forward differ by {gap:.3g}")
    report["failures"] = failures
    report["failure"] = failures[0] if failures else None
    report["passed"] = not failures
    report["thresholds"] = {
        "decoded_r2_min": MIN_R2,
        "alpha_mean_min": MIN_ALPHA,
        "inactive_flat_max": MAX_FLAT,
        "inactive_false_on_max": MAX_FALSE_ON,
        "indicator_boundary": beta,
        "sources": "R², α, flatness: issue 12 laws; β: the on-indicator's unstable fixed point; "
        "false-on rate: ours",
    }
    return report


def summary(report: dict[str, Any]) -> dict[str, float]:
    """The verification's figures, worst over z and layers (flat numbers for sweeps and logs)."""
    rows = report["per_z"].values()
    out = {
        "passed": float(report["passed"]),
        "min_decoded_r2": min(min(r["r2"]) for r in rows),
        "max_inactive_mse": max(max(r["inactive_mse"]) for r in rows),
    }
    if all(r["alpha_mean"] for r in rows):
        out["min_alpha_mean"] = min(min(r["alpha_mean"]) for r in rows)
        out["max_inactive_false_on"] = max(max(r["inactive_false_on"]) for r in rows)
    if "dense_structured_max_gap" in report:
        out["dense_structured_max_gap"] = report["dense_structured_max_gap"]
    return out


# --- studies: the laws of one network, the frontier in T ------------------------------------


def laws(net: CiS2Network, z: int, batch: int, seed: int) -> dict[str, Any]:
    """Issue 12's laws for one network at z active: per-layer decoded MSE and R² of the active
    circuits, mean α, inactive MSE; inactive flat (L/1 ≤ 2), active at most linear (R² of a line
    through the decoded MSE ≥ 0.95, or an MSE below 1e-3 × the payload variance), R² ≥ 0.9 at every
    layer, mean α ≥ 0.9 at layer L."""
    x, mask = sample_inputs(net.circuits, batch, z, torch.Generator().manual_seed(seed))
    dev = net.positions.device
    x, mask = x.to(dev), mask.to(dev)
    exact = net.circuits.forward(x)
    reads = net.readouts(net.forward(x))
    mse, r2, alpha, inactive = [], [], [], []
    for k in range(net.L):
        v_r, a_r = decoded(net, reads[k][mask])
        v_e, _ = decoded(net, exact[k][mask])
        v_r, v_e = v_r.reshape(len(v_r), -1), v_e.reshape(len(v_e), -1)
        mse.append(float((v_r - v_e).pow(2).mean()))
        r2.append(_r2(v_r, v_e))
        alpha.append(float(a_r.mean()) if a_r is not None else 1.0)
        inactive.append(float((reads[k] - exact[k])[~mask].pow(2).mean()))
        if k == 0:
            var = float(v_e.var(0).mean())
    xs = np.arange(1, net.L + 1, dtype=float)
    coef = np.polyfit(xs, mse, 1)
    tot = float(((np.asarray(mse) - np.mean(mse)) ** 2).sum())
    lin = 1 - float(((np.asarray(mse) - np.polyval(coef, xs)) ** 2).sum()) / tot if tot else 1.0
    flat = inactive[-1] / max(inactive[0], FLOOR * var)
    held = {
        "inactive_flat": flat <= MAX_FLAT or inactive[-1] <= FLOOR * var,
        "active_linear": lin >= 0.95 or max(mse) <= FLOOR * var,
        "decoded_r2": min(r2) >= MIN_R2,
        "alpha_kept": alpha[-1] >= MIN_ALPHA,
    }
    return {
        "active_mse": mse,
        "decoded_r2": r2,
        "alpha_mean": alpha,
        "inactive_mse": inactive,
        "inactive_last_over_first": flat,
        "active_linear_r2": lin,
        "held": held,
        "all_held": all(held.values()),
    }


def error_sources(net: CiS2Network, z: int, batch: int, seed: int) -> dict[str, Any]:
    """Where the active circuits' decoded error comes from, per layer (issue 12 item 2): their
    decoded MSE in the network as built and in three copies of its forward pass in which neurons
    hosting no active circuit ("free") that fire are silenced after every ReLU — all of them (the
    post's Case-1 assumption: what is left is the noise through neurons shared with inactive
    circuits that stay off), only those of the indicator blocks (a0, a1), or the indicator ones
    only in what the value rows read. Also mean α of the active circuits in each, and the fraction
    of free neurons that fire (as built), per block."""
    x, mask = sample_inputs(net.circuits, batch, z, torch.Generator().manual_seed(seed))
    dev = net.positions.device
    x, mask = x.to(dev), mask.to(dev)
    idx = mask.nonzero()[:, 1].view(batch, z)
    cols = torch.arange(batch, device=dev).unsqueeze(1).expand(-1, z)
    exact = exact_active(net, x, idx)
    on = mask.unsqueeze(-1).expand(-1, -1, net.d).to(x)
    d, N = net.d, net.block

    def run(silence: str) -> tuple[list[float], list[float], list[list[float]]]:
        mse, alpha, fired = [], [], []
        r_t, A_t = x.permute(1, 2, 0).contiguous(), None
        free_prev = None
        for k in range(net.L):
            pre = net._layer_t(r_t, k, A_t, relu=False)
            if silence == "indicators, for the values" and free_prev is not None:
                A_c = A_t.clone().view(d, N, batch)
                A_c[:2] *= ~free_prev[:2]
                pre_c = net._layer_t(
                    net._read_t(A_c.view(-1, batch), k - 1), k, A_c.view(-1, batch), relu=False
                )
                pre.view(d, N, batch)[2:] = pre_c.view(d, N, batch)[2:]
            A_t = torch.relu(pre)
            free = ~(net.scatter(on, k).T > 0).view(d, N, batch)
            lit = (A_t.view(d, N, batch) > 0) & free
            fired.append((lit.sum((1, 2)) / free.sum((1, 2)).clamp_min(1)).tolist())
            if silence in ("all", "indicators"):
                kill = free.clone()
                if silence == "indicators":
                    kill[2:] = False
                A_t = (A_t.view(d, N, batch) * ~kill).view(-1, batch)
            free_prev = free
            r_t = net._read_t(A_t, k)
            v_r, a_r = decoded(net, r_t[idx, :, cols])
            v_e, _ = decoded(net, exact[k])
            mse.append(float((v_r - v_e).pow(2).mean()))
            alpha.append(float(a_r.mean()) if a_r is not None else 1.0)
        return mse, alpha, fired

    out: dict[str, Any] = {}
    for name in ("none", "all", "indicators", "indicators, for the values"):
        mse, alpha, fired = run(name)
        out[f"active MSE, free neurons silenced: {name}"] = mse
        out[f"mean α, free neurons silenced: {name}"] = alpha
        if name == "none":
            out["free neurons firing, per block"] = fired
    v_e = decoded(net, exact[0])[0]
    out["payload variance"] = float(v_e.reshape(-1, v_e.shape[-1]).var(0).mean())
    return out


def criterion_vs_measured(cfg: Any, z: int, batch: int, seed: int) -> dict[str, Any]:
    """The regime criterion's prediction for cfg (a CiS2Config) at z active beside the measurement on
    the built (unverified) network: a0 switch-on per layer, predicted side vs measured inactive
    flatness (layer L / layer 1 of the inactive MSE ≤ 2)."""
    from .cis2 import build_cis2

    net = build_cis2(cfg.replace(max_active=max(cfg.max_active, z)), verify=False)
    pred = net.verification["regime"][str(z)]
    x, mask = sample_inputs(net.circuits, batch, z, torch.Generator().manual_seed(seed))
    dev = net.positions.device
    measured = measured_switch_on(net, x.to(dev), mask.to(dev))
    found = laws(net, z, batch, seed)
    return {
        "predicted_switch_on": pred["switch_on"],
        "measured_switch_on": measured,
        "predicted_noise_growth": pred["noise_growth"],
        "predicted_inside": pred["inside"],
        "measured_inactive_last_over_first": found["inactive_last_over_first"],
        "measured_flat": found["held"]["inactive_flat"],
        "laws": found,
    }


def predicted_frontier(cfg: Any, rel: float = 0.01) -> int:
    """Largest T the regime criterion (predict_regime at z = cfg.max_active) puts inside, at most
    the allocation's capacity (beyond it the criterion's link density c·S/N passes 1 and its χ
    diverges, so it would read "inside" at any T); no build."""
    from .allocation import make_allocation
    from .cis2 import indicator_threshold

    N = cfg.width // cfg.circuit_width
    cap = make_allocation(cfg.allocation, N, cfg.redundancy, seed=cfg.seed).capacity

    def inside(T: int) -> bool:
        return predict_regime(
            cfg.width,
            cfg.circuit_width,
            cfg.redundancy,
            T,
            cfg.max_active,
            cfg.layers,
            indicator_threshold(cfg.replace(circuits=T)),
            cfg.embedding,
            cfg.unembedding,
            cfg.value_margin,
            cfg.robustness.indicator_gain,
        )["inside"]

    lo, hi = max(cfg.max_active, N // cfg.redundancy), max(cap, 2)
    if inside(hi):
        return hi
    if not inside(lo):
        return 0
    while hi / lo > 1 + rel:
        mid = round(math.sqrt(lo * hi))
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if inside(mid) else (lo, mid)
    return lo


def frontier(
    cfg: Any, rel: float = 0.04, test: str = "verify", batch: int = 64, seed: int = 5
) -> dict[str, Any]:
    """Largest T at which a network of cfg (a CiS2Config; its `circuits` is ignored) holds, by
    bisection on a log scale inside [N/S (no neuron shared), the allocation's capacity], bracketed
    upwards from N/S in steps of 1.6× (not from the regime criterion's prediction, which it is
    compared with: near T* the laws' figures move with the sampled inputs, so where the search
    starts can move T*). test "verify": the strict verification passes (every
    z ≤ max_active); "laws": issue 12's four laws hold at z = max_active (`laws`). Returns {"T",
    "capacity", "first_fail_T", "why", "predicted_T", "tested"}; T = 0 when even T = N/S fails."""
    from .allocation import make_allocation
    from .cis2 import build_cis2

    N = cfg.width // cfg.circuit_width
    cap = make_allocation(cfg.allocation, N, cfg.redundancy, seed=cfg.seed).capacity
    tested: dict[int, str | None] = {}

    def fails(T: int) -> str | None:
        if T not in tested:
            tested[T] = _fails(T)
        return tested[T]

    def _fails(T: int) -> str | None:
        net_cfg = cfg.replace(circuits=T, max_load=100)
        if test == "verify":
            try:
                build_cis2(net_cfg)
            except SuperposeError as err:
                return str(err)
            return None
        found = laws(build_cis2(net_cfg, verify=False), cfg.max_active, batch, seed)
        broken = [k for k, ok in found["held"].items() if not ok]
        if not broken:
            return None
        figures = {
            "inactive_flat": f"inactive L/1 {found['inactive_last_over_first']:.2f}",
            "active_linear": f"active linear-fit R² {found['active_linear_r2']:.3f}",
            "decoded_r2": f"min decoded R² {min(found['decoded_r2']):.3f}",
            "alpha_kept": f"mean α at layer L {found['alpha_mean'][-1]:.3f}",
        }
        return "; ".join(figures[k] for k in broken)

    lo = min(max(cfg.max_active, N // cfg.redundancy), cap)
    out = {"capacity": cap, "predicted_T": predicted_frontier(cfg)}
    if fails(lo):
        return {**out, "T": 0, "first_fail_T": lo, "why": fails(lo), "tested": _str_keys(tested)}
    hi = min(cap, max(lo + 1, round(1.6 * lo)))
    while fails(hi) is None and hi < cap:
        lo, hi = hi, min(cap, round(hi * 1.6))
    if fails(hi) is None:
        return {
            **out,
            "T": hi,
            "first_fail_T": None,
            "why": "allocation full",
            "tested": _str_keys(tested),
        }
    while hi / lo > 1 + rel:
        mid = round(math.sqrt(lo * hi))
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if fails(mid) is None else (lo, mid)
    return {**out, "T": lo, "first_fail_T": hi, "why": fails(hi), "tested": _str_keys(tested)}


__all__ = [
    "MAX_FLAT",
    "MIN_ALPHA",
    "MIN_R2",
    "criterion_vs_measured",
    "decoded",
    "error_sources",
    "exact_active",
    "fixed_positions",
    "free_a0",
    "frontier",
    "indicator_boundary",
    "indicator_snap",
    "laws",
    "measured_switch_on",
    "predict_regime",
    "predicted_frontier",
    "summary",
    "verify_cis2",
]


def _str_keys(d: dict) -> dict:
    return {str(k): v for k, v in sorted(d.items())}
