"""Inputs of boolean layers, the exact gates they should compute, and the linear baseline.

Shapes: inputs `x: [batch, features]` (0/1), pairs `[P, 2]`, gates `[G, K]` (long); truth `[batch, P|G]`.
"""

from __future__ import annotations

import itertools
import math

import torch

from ..base.errors import SuperposeError


def exact_inputs(m: int, s: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Every input with exactly s of m features on: [C(m, s), m] float."""
    if math.comb(m, s) > 2_000_000:
        raise SuperposeError(f"C(m={m}, s={s}) inputs are too many to enumerate; sample instead")
    idx = torch.tensor(list(itertools.combinations(range(m), s)), dtype=torch.long)
    x = torch.zeros(len(idx), m, device=device)
    if s:
        x.scatter_(1, idx.to(device), 1.0)
    return x


def sample_inputs(
    batch: int, m: int, s: int, gen: torch.Generator, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """batch random inputs with exactly s of m features on: [batch, m] float."""
    keys = torch.rand(batch, m, generator=gen, device=gen.device).to(device)
    on = keys.topk(s, dim=1).indices
    return torch.zeros(batch, m, device=device).scatter_(1, on, 1.0)


def all_pairs(m: int) -> torch.Tensor:
    """All i < j pairs: [m(m−1)/2, 2] (only for small m)."""
    return torch.combinations(torch.arange(m), 2)


def and_truth(x: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Exact AND [batch, P] of the requested pairs."""
    pairs = pairs.to(x.device)
    return x[:, pairs[:, 0]] * x[:, pairs[:, 1]]


def gate_truth(x: torch.Tensor, gates: torch.Tensor) -> torch.Tensor:
    """Exact K-input AND [batch, G]."""
    return x[:, gates.to(x.device)].prod(-1)


def xor_readout(xi: torch.Tensor, xj: torch.Tensor, and_ij: torch.Tensor) -> torch.Tensor:
    """XOR_ij = x_i + x_j − 2·AND_ij from readouts of the inputs and of their AND."""
    return xi + xj - 2 * and_ij


def linear_and_baseline(x: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Best worst-case linear (no ReLU) readout of AND: (x_i + x_j)/2 − 1/4, off by exactly 1/4."""
    pairs = pairs.to(x.device)
    return (x[:, pairs[:, 0]] + x[:, pairs[:, 1]]) / 2 - 0.25
