"""Per-layer readout errors of a CiS2 network against its exact circuits, decomposed, with theory.

Decomposition (REFERENCE §2), by running idealised variants of each layer:
- overlap: read the exact embedding Σ_u E_u a_u^l of the true activations (other circuits bleeding in);
- ReLU activation: the layer fed the exact previous activations, minus the overlap part;
- propagation: the real network minus the layer fed exact previous activations (errors carried over).
The three error vectors sum to the total by construction; at layer 1 propagation is exactly 0.
Predictions per readout (MSE per circuit neuron; ⟨a²⟩ the mean square of active activations):
overlap ≈ (z−1)·d/D·⟨a²⟩ (active), z·d/D·⟨a²⟩ (inactive); propagation ≈ c_w·z·T·d²/D² per layer;
active at layer l ≈ l·(z−1)·d/D·⟨a²⟩ + (l−1)·c_w·z·T·d²/D², with c_w fitted once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..base.errors import MAX_SAMPLES, MAX_SEED, SuperposeError, int_arg
from .cis2 import CiS2Network
from .small import sample_inputs

PARTS = ("total", "overlap", "relu", "propagation")


@dataclass
class ErrorProfile:
    """Per-layer MSE (per circuit neuron) of active and inactive circuits, for each part.

    active[part], inactive[part]: list of L floats; a2: [L] mean square of active activations;
    spurious_on: [L] fraction of large neurons switched on by noise (inactive circuits' margins broken).
    """

    active: dict[str, list[float]]
    inactive: dict[str, list[float]]
    a2: list[float]
    z: int
    T: int
    D: int
    d: int
    spurious_on: list[float] = field(default_factory=list)  # noise-switched neurons, per layer
    vectors: dict[str, list[torch.Tensor]] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        return {
            "active": self.active,
            "inactive": self.inactive,
            "a2": self.a2,
            "spurious_on": self.spurious_on,
            "z": self.z,
            "T": self.T,
            "D": self.D,
            "d": self.d,
        }


def _mse(e: torch.Tensor, mask: torch.Tensor) -> float:
    """Mean square of e: [batch, T, d] over the circuits selected by mask: [batch, T]."""
    sel = e[mask]
    return float(sel.pow(2).mean()) if sel.numel() else 0.0


def measure(
    net: CiS2Network, x: torch.Tensor, mask: torch.Tensor, keep_vectors: bool = False
) -> ErrorProfile:
    """Run the network and its idealised variants on inputs x: [batch, T, d] (mask: [batch, T])."""
    z = int(mask.sum(1).max())
    exact = net.circuits.forward(x)
    acts = net.forward(x)
    reads = net.readouts(acts)
    spurious = []
    vecs: dict[str, list[torch.Tensor]] = {p: [] for p in PARTS}
    for k in range(net.L):
        tot = reads[k] - exact[k]
        prev = x if k == 0 else exact[k - 1]
        no_prop = net.read(net.layer(prev, k), k) - exact[k]
        ideal = net.scatter(exact[k], k)
        overlap = net.read(ideal, k) - exact[k]
        spurious.append(float(((acts[k] > 0) & (ideal <= 0)).float().mean()))
        parts = {
            "total": tot,
            "overlap": overlap,
            "relu": no_prop - overlap,
            "propagation": tot - no_prop,
        }
        for p in PARTS:
            vecs[p].append(parts[p])
    inactive = ~mask
    prof = ErrorProfile(
        active={p: [_mse(v, mask) for v in vecs[p]] for p in PARTS},
        inactive={p: [_mse(v, inactive) for v in vecs[p]] for p in PARTS},
        a2=[_mse(a, mask) for a in exact],
        spurious_on=spurious,
        z=z,
        T=net.T,
        D=net.width,
        d=net.d,
    )
    if keep_vectors:
        prof.vectors = vecs
    return prof


def run_profile(net: Any, z: int, batch: int, seed: int) -> ErrorProfile:
    """Sample `batch` inputs with exactly z circuits on and measure the error profile. net: a
    CiS2Network or a construction holding one (`load_construction`'s CiS2, a compiled network)."""
    if isinstance(getattr(net, "net", None), CiS2Network):
        net = net.net
    if not isinstance(net, CiS2Network):
        raise SuperposeError(
            f"run_profile: net must be a CiS2 network (build_cis2, or a cis2 or compiled "
            f"construction), got {type(net).__name__}"
        )
    z = int_arg("run_profile", "z", z, 1, net.T)
    batch = int_arg("run_profile", "batch", batch, 1, MAX_SAMPLES)
    seed = int_arg("run_profile", "seed", seed, 0, MAX_SEED)
    x, mask = sample_inputs(net.circuits, batch, z, torch.Generator().manual_seed(seed))
    device = net.positions.device
    return measure(net, x.to(device), mask.to(device))


def active_hosts(net: CiS2Network, mask: torch.Tensor, layer: int) -> torch.Tensor:
    """[batch, D] bool: large neurons of `layer` that host at least one active circuit (mask: [batch, T])."""
    on = mask.unsqueeze(-1).expand(-1, -1, net.d).to(net.bias)
    return net.scatter(on, layer) > 0


def margins_held(net: CiS2Network, x: torch.Tensor, mask: torch.Tensor) -> dict[str, list[float]]:
    """Errors with §2's Case-1 assumption enforced: every large neuron hosting no active circuit is off.

    The paper's propagation estimate assumes such neurons stay off (inactive circuits' margins hold);
    this oracle forward zeroes them after each ReLU. Returns per-layer MSE per circuit neuron of
    active and inactive circuits: {"active": [L], "inactive": [L]}.
    """
    exact = net.circuits.forward(x)
    r, A, act, ina = x, None, [], []
    for k in range(net.L):
        A = net.layer(r, k, A) * active_hosts(net, mask, k)
        r = net.read(A, k)
        act.append(_mse(r - exact[k], mask))
        ina.append(_mse(r - exact[k], ~mask))
    return {"active": act, "inactive": ina}


def inactive_preactivation_noise(
    net: CiS2Network, x: torch.Tensor, mask: torch.Tensor, block: int = 0
) -> list[float]:
    """Per layer: RMS of W^l·(readout) at neurons of `block` hosting circuits but no active one.

    This is the noise the inactive circuits' negative biases must hold off (block 0 holds the
    on-indicator a0 of the generated circuits, margin 0.5). Layer 1 is 0 (inputs embedded exactly).
    """
    acts = net.forward(x)
    N = net.block
    sl = slice(block * N, (block + 1) * N)
    hosted = torch.zeros(net.width, dtype=torch.bool, device=x.device)
    out = []
    for k in range(net.L):
        r = x if k == 0 else net.read(acts[k - 1], k - 1)
        h = torch.einsum("tij,btj->bti", net.circuits.weights[:, k].to(r), r)
        pre = net.scatter(h, k)[:, sl]
        hosted.zero_()
        hosted[net.hosts(k).reshape(-1)] = True
        sel = ~active_hosts(net, mask, k)[:, sl] & hosted[sl]
        out.append(float(pre[sel].pow(2).mean().sqrt()) if sel.any() else 0.0)
    return out


def margin_noise_scale(S: int, z: int, T: int, D: int, d: int) -> float:
    """sqrt(S·z·T·d²/D²): predicted RMS of the summed readout noise at one large neuron, in units of
    the active circuits' activations (T·S·d/D circuits share a neuron, each off by ≈ z·d/D in MSE)."""
    return (S * z * T * d * d / D**2) ** 0.5


def propagation_scale(z: int, T: int, D: int, d: int) -> float:
    """z·T·d²/D²: the propagation error per layer in units of c_w."""
    return z * T * d * d / D**2


def predicted(prof: ErrorProfile, c_w: float) -> dict[str, list[float]]:
    """§2's formulas per layer for this profile's z, T, D, d and measured ⟨a²⟩."""
    z, T, D, d = prof.z, prof.T, prof.D, prof.d
    a2 = prof.a2
    L = len(a2)
    prop = [(l - 1) * c_w * propagation_scale(z, T, D, d) for l in range(1, L + 1)]
    return {
        "overlap_active": [(z - 1) * d / D * a2[k] for k in range(L)],
        "overlap_inactive": [z * d / D * a2[k] for k in range(L)],
        "propagation_active": prop,
        "total_active": [(k + 1) * (z - 1) * d / D * a2[k] + prop[k] for k in range(L)],
    }


def fit_c_w(profiles: list[ErrorProfile]) -> float:
    """Least-squares c_w through the origin: active propagation MSE ≈ (l−1)·c_w·z·T·d²/D²."""
    num = den = 0.0
    for prof in profiles:
        s = propagation_scale(prof.z, prof.T, prof.D, prof.d)
        for k, y in enumerate(prof.active["propagation"]):
            xk = k * s
            num += xk * y
            den += xk * xk
    return num / den if den else 0.0


def linear_r2(y: list[float]) -> float:
    """R² of a straight-line fit of y against 1, 2, …, len(y) (how linear growth with depth is)."""
    import numpy as np

    yy = np.asarray(y, dtype=float)
    xx = np.arange(1, len(yy) + 1, dtype=float)
    coef = np.polyfit(xx, yy, 1)
    resid = yy - np.polyval(coef, xx)
    tot = ((yy - yy.mean()) ** 2).sum()
    return float(1 - (resid**2).sum() / tot) if tot > 0 else 1.0


__all__ = [
    "PARTS",
    "ErrorProfile",
    "active_hosts",
    "fit_c_w",
    "inactive_preactivation_noise",
    "linear_r2",
    "margin_noise_scale",
    "margins_held",
    "measure",
    "predicted",
    "propagation_scale",
    "run_profile",
]
