"""Measurements of learned toy models, vectorised over instances.

W: [instances, hidden, features]; column W_i (W[:, :, i]) is feature i's direction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import torch

from ..base.errors import SuperposeError

EPS = 1e-12
F = TypeVar("F", bound=Callable[..., Any])


def _takes_weights(fn: F) -> F:
    """The public measures' door: W as a float tensor [instances, hidden, features] (a NumPy
    array is taken as one), else one line naming the measure and what came (an AttributeError
    from deep inside before)."""

    @functools.wraps(fn)
    def wrapper(W: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(W, np.ndarray):
            W = torch.from_numpy(W)
        if not isinstance(W, torch.Tensor) or W.ndim != 3 or not W.is_floating_point():
            got = (
                f"a {W.dtype} tensor of shape {list(W.shape)}"
                if isinstance(W, torch.Tensor)
                else type(W).__name__
            )
            raise SuperposeError(
                f"{fn.__name__}: W must be a float tensor [instances, hidden, features] (one "
                f"model: W[None]), got {got}"
            )
        return fn(W, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


#: fractions at which per-feature dimensionality "sticks" (TMS, uniform superposition)
STICKY_FRACTIONS: dict[str, float] = {
    "dedicated (1)": 1.0,
    "tetrahedron (3/4)": 3 / 4,
    "triangle (2/3)": 2 / 3,
    "antipodal (1/2)": 1 / 2,
    "pentagon (2/5)": 2 / 5,
    "square antiprism (3/8)": 3 / 8,
}


@_takes_weights
def feature_norms(W: torch.Tensor) -> torch.Tensor:
    """‖W_i‖: [instances, features]."""
    return W.norm(dim=-2)


def gram(W: torch.Tensor) -> torch.Tensor:
    """WᵀW: [instances, features, features]."""
    return W.transpose(-1, -2) @ W


def normalized_overlaps(W: torch.Tensor) -> torch.Tensor:
    """(Ŵ_i · W_j) for all i, j: [instances, features, features] (row i uses Ŵ_i)."""
    norms = feature_norms(W).clamp_min(EPS)
    return gram(W) / norms[..., :, None]


@_takes_weights
def interference(W: torch.Tensor) -> torch.Tensor:
    """Σ_{j≠i} (Ŵ_i · W_j)²: [instances, features]. Large (≳ 0.1–1) means i is in superposition."""
    o2 = normalized_overlaps(W).square()
    return o2.sum(-1) - o2.diagonal(dim1=-2, dim2=-1)


@_takes_weights
def dimensions_per_feature(W: torch.Tensor) -> torch.Tensor:
    """D* = m / ‖W‖²_F: [instances]."""
    return W.shape[-2] / W.square().sum((-1, -2)).clamp_min(EPS)


@_takes_weights
def feature_dimensionality(W: torch.Tensor) -> torch.Tensor:
    """D_i = ‖W_i‖² / Σ_j (Ŵ_i · W_j)²: [instances, features]; 0 for unrepresented features."""
    norms2 = feature_norms(W).square()
    denom = normalized_overlaps(W).square().sum(-1)
    # NaN weights give NaN (a `denom > EPS` test would have read them as unrepresented: 0)
    return torch.where(denom <= EPS, torch.zeros_like(norms2), norms2 / denom.clamp_min(EPS))


#: ‖W_i‖ above this: feature i is represented (the project's shared convention)
REPRESENTED = 0.5


def represented(W: torch.Tensor, threshold: float = REPRESENTED) -> torch.Tensor:
    """Feature i is represented when ‖W_i‖ > threshold: bool [instances, features]."""
    return feature_norms(W) > threshold


def neuron_feature_shares(W: torch.Tensor) -> torch.Tensor:
    """Share of neuron j's squared input weight that comes from feature i: [instances, hidden, features]."""
    w2 = W.square()
    return w2 / w2.sum(-1, keepdim=True).clamp_min(EPS)


@_takes_weights
def polysemanticity(
    W: torch.Tensor, share: float = 0.1, dead_norm: float = 1e-2, positive: bool = False
) -> torch.Tensor:
    """Features per neuron: how many features carry ≥ `share` of a neuron's squared input weight
    (0 for dead neurons, ‖w_j‖ < dead_norm): int [instances, hidden]. 1 = monosemantic.
    `positive`: count only positive weights — with a ReLU hidden layer and inputs x ≥ 0 a neuron
    fires only for features with positive weight (negative weights inhibit)."""
    if positive:
        W = W.clamp_min(0.0)
    counts = (neuron_feature_shares(W) >= share).sum(-1)
    alive = W.norm(dim=-1) >= dead_norm
    return torch.where(alive, counts, torch.zeros_like(counts))


def summarize(W: torch.Tensor, b: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """The standard measurements of a batch of models, by name (all per instance)."""
    out = {
        "feature_norms": feature_norms(W),
        "interference": interference(W),
        "dimensions_per_feature": dimensions_per_feature(W),
        "feature_dimensionality": feature_dimensionality(W),
        "n_represented": represented(W).sum(-1),
        "polysemanticity": polysemanticity(W),
    }
    if b is not None:
        out["bias"] = b
    return out


def superposed(
    W: torch.Tensor, threshold: float = 0.5, min_interference: float = 0.1
) -> torch.Tensor:
    """Represented features whose interference is ≥ `min_interference`: bool [instances, features]."""
    return represented(W, threshold) & (interference(W) >= min_interference)


def represented_by_neurons(W: torch.Tensor, threshold: float = REPRESENTED) -> torch.Tensor:
    """ReLU hidden layer, inputs ≥ 0: feature i drives some neuron, ‖ReLU(W_i)‖ > threshold:
    bool [instances, features]."""
    return feature_norms(W.clamp_min(0.0)) > threshold


def pair_cosines(W: torch.Tensor, set_size: int) -> torch.Tensor:
    """Cosine between features in the same consecutive set of `set_size`, every pair i < j in each
    set: [instances, sets * set_size * (set_size - 1) / 2]."""
    inst, _, n = W.shape
    unit = W / feature_norms(W).clamp_min(EPS)[:, None, :]
    cos = unit.transpose(-1, -2) @ unit  # [inst, n, n]
    same = torch.arange(n)[:, None] // set_size == torch.arange(n)[None, :] // set_size
    upper = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    return cos[:, same & upper].reshape(inst, -1)


@torch.no_grad()
def adversarial_vulnerability(
    W: torch.Tensor,
    b: torch.Tensor,
    x: torch.Tensor,
    importance: torch.Tensor,
    rel_norm: float = 0.1,
) -> dict[str, torch.Tensor]:
    """Analytic optimal L2 attacks on a ReLU-output model x' = ReLU(WᵀW x + b) (TMS §adversarial).

    The attack on feature k is δ_k = λ (WᵀW)_k / ‖(WᵀW)_k‖ with λ = rel_norm × mean ‖x‖. Each input
    gets the δ_k that most raises its loss Σ_i I_i (x_i − x'_i)² against the clean target x (an
    adversarial example is per input). Vulnerability = mean over inputs of that worst loss increase,
    divided by λ²: ≈ max_i I_i for a model without superposition (WᵀW diagonal), larger when
    interference lets a small attack move many outputs.
    W: [instances, hidden, features], b: [instances, features], x: [instances, batch, features],
    importance: [instances, features]. Returns `vulnerability` [instances], `attack_norm` λ
    [instances], `shared_vulnerability` [instances] (one δ_k for all inputs, the worst k) and
    `loss_increase` [instances, features] (mean increase of each δ_k).
    """
    G = gram(W)  # [I, n, n]
    lam = rel_norm * x.norm(dim=-1).mean(-1)  # [I]
    pre = torch.baddbmm(b[:, None, :], x, G)  # [I, B, n]
    imp = importance[:, None, :]
    clean = (imp * (x - torch.relu(pre)).square()).sum(-1)  # [I, B]
    direction = G / G.norm(dim=-1, keepdim=True).clamp_min(EPS)  # row k: attack on feature k
    shift = lam[:, None, None] * (direction @ G)  # [I, k, n]: change of the pre-activation
    n = W.shape[-1]
    increase = torch.empty(W.shape[0], n, device=W.device)
    worst = torch.full_like(clean, -float("inf"))
    for k in range(n):
        attacked = (imp * (x - torch.relu(pre + shift[:, k, None, :])).square()).sum(-1) - clean
        increase[:, k] = attacked.mean(-1)
        worst = torch.maximum(worst, attacked)
    lam2 = lam.square().clamp_min(EPS)
    return {
        "vulnerability": worst.mean(-1) / lam2,
        "attack_norm": lam,
        "shared_vulnerability": increase.max(-1).values / lam2,
        "loss_increase": increase,
    }


def abs_gains(W_in: torch.Tensor, W_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """End-to-end gain of the absolute-value model y = ReLU(W_out ReLU(W_in x) + b) on feature i
    alone, for x_i > 0 and x_i < 0: Σ_j W_out[i, j] ReLU(±W_in[j, i]). Both ≈ 1 when |x_i| is
    computed. W_in: [instances, hidden, features], W_out: [instances, features, hidden];
    returns (gain_pos, gain_neg), each [instances, features]."""
    w_out = W_out.transpose(-1, -2)  # [I, m, n]
    pos = (w_out * torch.relu(W_in)).sum(-2)
    neg = (w_out * torch.relu(-W_in)).sum(-2)
    return pos, neg


def abs_computed(W_in: torch.Tensor, W_out: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Features whose absolute value the model computes (both gains > threshold): bool [instances, features]."""
    pos, neg = abs_gains(W_in, W_out)
    return (pos > threshold) & (neg > threshold)


def asymmetric_motifs(
    W_in: torch.Tensor,
    W_out: torch.Tensor,
    ratio: float = 2.0,
    min_weight: float = 0.1,
    inhibit: float = 0.25,
) -> list[list[tuple[int, int, int, int]]]:
    """Find the asymmetric-superposition motif of the absolute-value model (TMS §computation).

    A neuron j whose two largest input weights are features a (strong) and b (weak, ≥ `min_weight`
    × strong) with opposite signs, |W_in[j, a]| ≥ ratio |W_in[j, b]|, writing them back
    reciprocally, W_out[b, j] ≥ ratio W_out[a, j] > 0 (like [2, −½] in, [½, 2] out); and an
    inhibiting neuron k ≠ j whose largest input weight is a, with the same sign as in j, and which
    writes negatively to b, W_out[b, k] ≤ −`inhibit` × W_out[a, k] (cancelling a's positive
    interference on b). W_in: [instances, hidden, features], W_out: [instances, features, hidden].
    Returns, per instance, the motifs found as (j, k, a, b).
    """
    found: list[list[tuple[int, int, int, int]]] = []
    w_in = W_in.detach().cpu()
    w_out = W_out.detach().cpu()
    for inst in range(w_in.shape[0]):
        win, wout = w_in[inst], w_out[inst]  # [m, n], [n, m]
        top2 = win.abs().topk(2, dim=1).indices  # [m, 2]
        motifs = []
        for j in range(win.shape[0]):
            a, b = int(top2[j, 0]), int(top2[j, 1])
            strong, weak = win[j, a], win[j, b]
            if strong * weak >= 0 or weak.abs() < min_weight * strong.abs():
                continue
            if strong.abs() < ratio * weak.abs():
                continue
            if not (wout[a, j] > 0 and wout[b, j] >= ratio * wout[a, j]):
                continue
            for k in range(win.shape[0]):
                if k == j or int(top2[k, 0]) != a or win[k, a] * strong <= 0:
                    continue
                if wout[b, k] <= -inhibit * wout[a, k].abs():
                    motifs.append((j, k, a, b))
        found.append(motifs)
    return found


def jump_loss_coincidence(
    dims: torch.Tensor,
    loss: torch.Tensor,
    jump: float = 0.1,
    window: float = 0.02,
    burn_in: float = 0.02,
    settled: float = 0.05,
) -> dict[str, float]:
    """Do jumps in feature dimensionality coincide with drops in the loss? (TMS learning dynamics)

    dims: [snapshots, features] D_i over training; loss: [snapshots] loss at the same snapshots.
    Windows span `window` of the snapshots (w ≥ 1); window t has the change
    max_i |D_i(t+w) − D_i(t)| and the loss drop log L(t) − log L(t+w). Only windows in the
    *learning phase* count: after the first `burn_in` (initial transient) and before the loss has
    settled (log L within `settled` of the total log-loss decrease from its final value) — so a
    model that simply learns, then stops, does not pass for free. *Jump* windows change some D_i
    by ≥ `jump`. Returns the mean loss drop at jump windows and at the others, their ratio
    (`contrast`), the mean ratio of a jump window's drop to the median drop of the windows ±2w
    around it (`local_contrast`: ≈ 1 when loss and D merely decay together smoothly), the largest
    change, and the counts. Statistics are NaN without jump windows.
    """
    nan = float("nan")
    T = dims.shape[0]
    w = max(1, round(window * T))
    logl = loss.clamp_min(EPS).log()
    change = (dims[w:] - dims[:-w]).abs().amax(-1)  # [T - w]
    drop = logl[:-w] - logl[w:]
    t = torch.arange(T - w)
    total = float(logl[0] - logl[-1])
    learning = (t >= burn_in * T) & (logl[:-w] - logl[-1] >= settled * total)
    change, drop = change[learning], drop[learning]
    jumps = change >= jump
    out = {
        "largest_change": float(change.max()) if len(change) else nan,
        "jump_windows": int(jumps.sum()),
        "windows": len(change),
        "drop_at_jumps": nan,
        "drop_elsewhere": nan,
        "contrast": nan,
        "local_contrast": nan,
    }
    if not jumps.any() or jumps.all():
        return out
    at, rest = float(drop[jumps].mean()), float(drop[~jumps].mean())
    local = []
    for i in torch.nonzero(jumps).flatten().tolist():
        ref = float(drop[max(0, i - 2 * w) : i + 2 * w + 1].median())
        local.append(float(drop[i]) / ref if ref > 0 else float("inf"))
    out.update(
        drop_at_jumps=at,
        drop_elsewhere=rest,
        contrast=at / rest if rest > 0 else float("inf"),
        local_contrast=float(torch.tensor(local).mean()),
    )
    return out
