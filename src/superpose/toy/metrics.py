"""Measurements of learned toy models, vectorised over instances.

W: [instances, hidden, features]; column W_i (W[:, :, i]) is feature i's direction.
"""

from __future__ import annotations

import torch

EPS = 1e-12

#: fractions at which per-feature dimensionality "sticks" (TMS, uniform superposition)
STICKY_FRACTIONS: dict[str, float] = {
    "dedicated (1)": 1.0,
    "tetrahedron (3/4)": 3 / 4,
    "triangle (2/3)": 2 / 3,
    "antipodal (1/2)": 1 / 2,
    "pentagon (2/5)": 2 / 5,
    "square antiprism (3/8)": 3 / 8,
}


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


def interference(W: torch.Tensor) -> torch.Tensor:
    """Σ_{j≠i} (Ŵ_i · W_j)²: [instances, features]. Large (≳ 0.1–1) means i is in superposition."""
    o2 = normalized_overlaps(W).square()
    return o2.sum(-1) - o2.diagonal(dim1=-2, dim2=-1)


def dimensions_per_feature(W: torch.Tensor) -> torch.Tensor:
    """D* = m / ‖W‖²_F: [instances]."""
    return W.shape[-2] / W.square().sum((-1, -2)).clamp_min(EPS)


def feature_dimensionality(W: torch.Tensor) -> torch.Tensor:
    """D_i = ‖W_i‖² / Σ_j (Ŵ_i · W_j)²: [instances, features]; 0 for unrepresented features."""
    norms2 = feature_norms(W).square()
    denom = normalized_overlaps(W).square().sum(-1)
    return torch.where(denom > EPS, norms2 / denom.clamp_min(EPS), torch.zeros_like(norms2))


def represented(W: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Feature i is represented when ‖W_i‖ > threshold: bool [instances, features]."""
    return feature_norms(W) > threshold


def neuron_feature_shares(W: torch.Tensor) -> torch.Tensor:
    """Share of neuron j's squared input weight that comes from feature i: [instances, hidden, features]."""
    w2 = W.square()
    return w2 / w2.sum(-1, keepdim=True).clamp_min(EPS)


def polysemanticity(W: torch.Tensor, share: float = 0.1, dead_norm: float = 1e-2) -> torch.Tensor:
    """Features per neuron: how many features carry ≥ `share` of a neuron's squared input weight
    (0 for dead neurons, ‖w_j‖ < dead_norm): int [instances, hidden]. 1 = monosemantic."""
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
