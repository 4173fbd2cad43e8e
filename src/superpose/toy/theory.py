"""Closed-form expected losses of the candidate solutions behind the TMS phase diagrams.

Setting (TMS "Superposition as a phase change"): ReLU-output model, b = 0, every feature active with
density p and uniform on [0, 1]; the last feature is the "extra" one with importance r, the others
have importance 1. A candidate is a fixed W with unit-norm columns: a feature is either dropped
(loss I·p·E[x²] = I·p/3), dedicated (no loss) or half of an antipodal pair (loss only when both are
active: out = ReLU(x_a − x_b), error min(x_a, x_b)², E = 1/6, so the pair costs p²(I_a + I_b)/6).

Each candidate carries the phase it stands for (what happens to the extra feature):
0 = not learned, 1 = superposition, 2 = dedicated dimension.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..base.device import make_generator
from ..base.errors import SuperposeError

PHASES: tuple[str, ...] = ("not learned", "superposition", "dedicated")
NOT_LEARNED, SUPERPOSITION, DEDICATED = 0, 1, 2


@dataclass(frozen=True)
class Candidate:
    """A named weight configuration W [hidden, features] and the phase of the extra feature."""

    name: str
    W: tuple[tuple[float, ...], ...]
    phase: int

    def weight(self) -> torch.Tensor:
        return torch.tensor(self.W, dtype=torch.float32)


CANDIDATES: dict[str, tuple[Candidate, ...]] = {
    "2x1": (
        Candidate("W=[1,0]", ((1.0, 0.0),), NOT_LEARNED),
        Candidate("W=[1,-1]", ((1.0, -1.0),), SUPERPOSITION),
        Candidate("W=[0,1]", ((0.0, 1.0),), DEDICATED),
    ),
    "3x2": (
        Candidate("W⊥[0,0,1]", ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)), NOT_LEARNED),
        Candidate("W⊥[0,1,1]", ((1.0, 0.0, 0.0), (0.0, 1.0, -1.0)), SUPERPOSITION),
        Candidate("W⊥[1,0,0]", ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)), DEDICATED),
        Candidate("W⊥[1,1,0]", ((1.0, -1.0, 0.0), (0.0, 0.0, 1.0)), DEDICATED),
    ),
}

CASES: dict[str, tuple[int, int]] = {"2x1": (2, 1), "3x2": (3, 2)}  # (features, hidden)


def _case(case: str) -> tuple[Candidate, ...]:
    if case not in CANDIDATES:
        raise SuperposeError(f"phase case {case!r}: expected one of {', '.join(CANDIDATES)}")
    return CANDIDATES[case]


def candidate_losses(case: str, importance: torch.Tensor, density: torch.Tensor) -> torch.Tensor:
    """Closed-form expected loss of each candidate: [..., candidates] for broadcastable
    `importance` (of the extra feature, r) and `density` (p)."""
    r, p = torch.broadcast_tensors(torch.as_tensor(importance), torch.as_tensor(density))
    r, p = r.double(), p.double()
    drop = p / 3  # one dropped feature of importance 1 (times I)
    pair = p.square() / 6  # an antipodal pair, per unit of summed importance
    if _case(case) is CANDIDATES["2x1"]:
        out = [r * drop, (1 + r) * pair, drop]
    else:
        out = [r * drop, (1 + r) * pair, drop, 2 * pair]
    return torch.stack(out, -1)


def theoretical_phase(case: str, importance: torch.Tensor, density: torch.Tensor) -> torch.Tensor:
    """Phase of the lowest-loss candidate (0 not learned, 1 superposition, 2 dedicated): int [...]."""
    phases = torch.tensor([c.phase for c in _case(case)])
    return phases[candidate_losses(case, importance, density).argmin(-1)]


def case_importance(case: str, extra: float) -> list[float]:
    """Importance vector: 1 for the base features, `extra` for the last one."""
    _case(case)
    n = CASES[case][0]
    return [1.0] * (n - 1) + [float(extra)]


def stratified_mc_estimate(
    W: torch.Tensor,
    b: torch.Tensor,
    importance: torch.Tensor,
    density: torch.Tensor,
    samples: int = 200_000,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Monte Carlo estimate of the expected loss of one ReLU-output model (W [hidden, features],
    b / importance / density [features]) stratified over activity patterns: each pattern's
    probability is exact, its values are sampled (`samples` per pattern), so rare patterns at low
    density are not lost to noise. Returns (estimate, its standard error), 0-d float64 tensors: the
    error from the samples' spread in each pattern, √(Σ_pattern prob² · var / samples)."""
    n = W.shape[-1]
    if n > 12:
        raise SuperposeError(f"n_features={n}: stratified Monte Carlo supports at most 12")
    gen = make_generator(seed, W.device)
    total = torch.zeros((), dtype=torch.float64)
    variance = torch.zeros((), dtype=torch.float64)
    for code in range(1 << n):
        active = torch.tensor([(code >> i) & 1 for i in range(n)], dtype=torch.bool)
        prob = torch.where(active, density, 1 - density).double().prod()
        x = torch.rand(samples, n, generator=gen, device=W.device) * active.to(W.device)
        out = torch.relu(x @ W.T @ W + b)
        err = ((x - out).square() * importance).sum(-1).double().cpu()
        total = total + prob * err.mean()
        variance = variance + prob.square() * err.var() / samples
    return total, variance.sqrt()
