"""Neuron allocations: for each circuit, a set of S positions among N = D/d neurons of a block.

Guarantees (checked on construction): exactly S distinct positions per circuit, any two circuits
share at most one position. Pair counting bounds how many circuits fit: T ≤ N(N−1)/(S(S−1)).
Schemes: 'prime' (the published prime-step scheme of CiS2), 'affine' (lines of an affine plane over
F_q restricted to S columns, plus chopped vertical lines: ≈ 83 % of the bound at N=250, S=6), 'random'
(greedy random sets, rejecting any that would overlap an earlier one twice).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..base.errors import SuperposeError

SCHEMES = ("prime", "affine", "random")


@dataclass(frozen=True)
class Allocation:
    """sets: [T_max, S] int positions in [0, N); every row distinct, pairwise overlap ≤ 1."""

    sets: np.ndarray
    n_neurons: int
    scheme: str

    @property
    def size(self) -> int:
        return int(self.sets.shape[1])

    @property
    def capacity(self) -> int:
        """How many circuits this allocation can host (T_max)."""
        return int(self.sets.shape[0])

    def usage(self) -> np.ndarray:
        """[N]: how many circuits use each neuron."""
        return np.bincount(self.sets.ravel(), minlength=self.n_neurons)

    def balance(self) -> dict[str, float]:
        """Usage balance over neurons: min, max, mean, and max/mean."""
        u = self.usage()
        mean = float(u.mean())
        return {
            "min": int(u.min()),
            "max": int(u.max()),
            "mean": mean,
            "max_over_mean": float(u.max() / mean) if mean else 0.0,
        }


def pair_bound(n_neurons: int, size: int) -> int:
    """Pair-counting bound on the number of S-sets with pairwise overlap ≤ 1 among N points."""
    return n_neurons * (n_neurons - 1) // (size * (size - 1))


def check(sets: np.ndarray, n_neurons: int) -> None:
    """Raise unless every set has S distinct positions in [0, N) and any two share ≤ 1 position."""
    if sets.ndim != 2 or sets.shape[0] == 0:
        raise SuperposeError(f"allocation must be a non-empty [T, S] array, got shape {sets.shape}")
    if sets.min() < 0 or sets.max() >= n_neurons:
        raise SuperposeError(f"allocation positions must lie in [0, {n_neurons})")
    srt = np.sort(sets, 1)
    if (np.diff(srt, axis=1) == 0).any():
        raise SuperposeError("allocation has a set with a repeated position")
    # each unordered pair of positions may be covered by at most one set
    i, j = np.triu_indices(sets.shape[1], 1)
    pairs = srt[:, i].astype(np.int64) * n_neurons + srt[:, j]
    flat = np.sort(pairs.ravel())  # sort + neighbour compare (np.unique is far slower here)
    if (flat[1:] == flat[:-1]).any():
        raise SuperposeError("allocation has two circuits sharing more than one position")


def _has_small_factor(n: int, below: int) -> bool:
    return any(n % p == 0 for p in range(2, below) if all(p % q for q in range(2, p)))


def prime_steps(n_neurons: int, size: int) -> list[int]:
    """Allowed steps: s(S−1) < N, s = r·S^k with r free of prime factors < S (k = 0 when S is prime)."""
    S, N = size, n_neurons
    s_prime = all(S % q for q in range(2, S))
    steps = set()
    for r in range(1, N):
        if r * (S - 1) >= N:
            break
        if _has_small_factor(r, S):
            continue
        s = r
        while s * (S - 1) < N:
            steps.add(s)
            if s_prime or S == 1:
                break
            s *= S
    return sorted(steps)


def prime_step(n_neurons: int, size: int) -> Allocation:
    """The published scheme: arithmetic progressions start, start+s, …, start+(S−1)s.

    For each step s (in increasing order) and each shift < s, starts shift, shift + S·s, … while the
    progression fits; the same order as the published pseudo-code, vectorised per step.
    """
    N, S = n_neurons, size
    blocks = []
    for s in prime_steps(N, S):
        shifts = np.arange(s)
        counts = np.maximum(0, (N - 1 - (S - 1) * s - shifts) // (S * s) + 1)
        shift_of = np.repeat(shifts, counts)
        k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        starts = shift_of + k * S * s
        blocks.append(starts[:, None] + s * np.arange(S)[None, :])
    sets = np.concatenate(blocks) if blocks else np.zeros((0, S), dtype=np.int64)
    return _finish(sets.astype(np.int64), N, "prime")


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % p for p in range(2, int(n**0.5) + 1))


def affine_plane(n_neurons: int, size: int) -> Allocation:
    """Lines y = m·x + c of F_q² on S columns (q² sets, q ≥ S, S·q ≤ N), plus each column cut in S-runs.

    Point (x, y) is neuron x·q + y. Two non-vertical lines meet at most once; a vertical run meets
    a line at most once and other runs never, so overlap ≤ 1 holds; usage is q or q + 1 per neuron.
    """
    N, S = n_neurons, size
    q = N // S
    while q >= S and not _is_prime(q):
        q -= 1
    if q < S:
        raise SuperposeError(f"affine allocation needs a prime q with S ≤ q ≤ N/S (N={N}, S={S})")
    x = np.arange(S)
    m, c = np.meshgrid(np.arange(q), np.arange(q), indexing="ij")
    ys = (m.reshape(-1, 1) * x + c.reshape(-1, 1)) % q  # [q², S]
    lines = x * q + ys
    runs = [col * q + np.arange(k * S, (k + 1) * S) for col in range(S) for k in range(q // S)]
    sets = np.concatenate([lines, np.array(runs, dtype=np.int64).reshape(-1, S)])
    return _finish(sets, N, "affine")


def random_sets(
    n_neurons: int, size: int, target: int | None = None, seed: int = 0, patience: int = 2000
) -> Allocation:
    """Greedy random S-sets, kept only if they share ≤ 1 position with every kept set.

    Stops at `target` sets or after `patience` consecutive rejections.
    """
    N, S = n_neurons, size
    rng = np.random.default_rng(seed)
    used = np.zeros((N, N), dtype=bool)
    sets: list[np.ndarray] = []
    limit = target if target is not None else pair_bound(N, S)
    fails = 0
    iu = np.triu_indices(S, 1)
    while len(sets) < limit and fails < patience:
        cand = np.sort(rng.choice(N, S, replace=False))
        a, b = cand[iu[0]], cand[iu[1]]
        if used[a, b].any():
            fails += 1
            continue
        used[a, b] = True
        sets.append(cand)
        fails = 0
    return _finish(np.array(sets, dtype=np.int64).reshape(-1, S), N, "random")


def make_allocation(
    scheme: str, n_neurons: int, size: int, seed: int = 0, target: int | None = None
) -> Allocation:
    """Allocation by scheme name, with its regime checked (2 ≤ S, S(S−1) < N)."""
    if size < 2:
        raise SuperposeError(f"embedding redundancy S = {size} must be ≥ 2")
    if size * (size - 1) >= n_neurons:
        raise SuperposeError(
            f"embedding redundancy S = {size} too large for D/d = {n_neurons} (need S(S−1) < D/d)"
        )
    if scheme == "prime":
        return prime_step(n_neurons, size)
    if scheme == "affine":
        return affine_plane(n_neurons, size)
    if scheme == "random":
        return random_sets(n_neurons, size, target=target, seed=seed)
    raise SuperposeError(f"unknown allocation scheme {scheme!r}; known: {', '.join(SCHEMES)}")


def layer_positions(
    alloc: Allocation, n_circuits: int, n_layers: int, gen: torch.Generator
) -> torch.Tensor:
    """Per-layer re-permuted positions: [L, T, S]; circuit t at layer l uses a fresh random set."""
    if n_circuits > alloc.capacity:
        raise SuperposeError(
            f"T = {n_circuits} circuits exceeds the {alloc.scheme} allocation's maximum "
            f"{alloc.capacity} for D/d = {alloc.n_neurons}, S = {alloc.size}"
        )
    sets = torch.from_numpy(alloc.sets)
    perms = [torch.randperm(alloc.capacity, generator=gen)[:n_circuits] for _ in range(n_layers)]
    return torch.stack([sets[p] for p in perms])


def _finish(sets: np.ndarray, n_neurons: int, scheme: str) -> Allocation:
    check(sets, n_neurons)
    return Allocation(sets=sets, n_neurons=n_neurons, scheme=scheme)
