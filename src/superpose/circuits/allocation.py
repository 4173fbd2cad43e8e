"""Neuron allocations: for each circuit, a set of S positions among N = D/d neurons of a block.

Guarantees (checked on construction): exactly S distinct positions per circuit, any two circuits
share at most one position. Pair counting bounds how many circuits fit: T ≤ N(N−1)/(S(S−1)).
Schemes: 'prime' (the published prime-step scheme of CiS2), 'affine' (transversal designs from
affine planes over GF(q), q any prime power, composed recursively with their groups filled and
completed greedily; a tabulated design over Z_10 × Z_10 where it holds more, in parallel classes
(_grid_design); where that stays below 85 % of the bound, a tabulated cyclic packing, a
transversal design from a tabulated difference matrix or one a little too large less its extra
points, the lines of a projective plane through a tabulated point set cut to S points, and an
iterated local search on the uncovered pairs (_reach): ≥ 92 % of the bound at the points issue
12 names, 85–99 % on the README's grid of S = 3…8 and N = 100…1000, 78–99 % at every tenth N
between, see its tables), 'random'
(greedy random sets, rejecting any that would overlap an earlier one twice). Rows are in balanced
order: the first T rows use the neurons about evenly; prefix_balanced says at which T issue 12's
max/mean ≤ 1.05 holds, order_can_balance whether any order of a family can hold it. Where the
affine order does not, its least used neurons are raised by point substitution and the rows after
its first classes are ordered level by level; where that still fails, levels short of rows are
repacked and searched (_rebalance), and neurons used more than any order allows at T_max are
lowered by chains of point substitutions (_eject). A network of T circuits takes `family(alloc,
T)`: the first T rows, or where those are not balanced, those rows with their overused neurons
replaced by point substitution, after exchanging rows for later ones where that alone fails, or
else a tabulated cyclic packing's first T rows, or whole cosets of its translates chosen by an
integer program, or a tabulated packing with classes of runs (_run_rows), or a tabulated
design less tabulated rows (_design_rows), or else rows redrawn whole by a tabu
search (_redraw).
"""

from __future__ import annotations

import hashlib
import os
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from pathlib import Path

import numpy as np
import torch

from ..base.errors import SuperposeError
from ..base.files import atomic_write, cache_dir

SCHEMES = ("prime", "affine", "random")


@dataclass(frozen=True)
class Allocation:
    """sets: [T_max, S] int positions in [0, N); every row distinct, pairwise overlap ≤ 1.

    Rows are in balanced order: any first T rows keep the most used neuron near ⌈T·S/N⌉.
    """

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


DENSE_MEAN = 20  # mean usage from which ⌈mean⌉ ≤ 1.05·mean: the 1.05 target is reachable
KEEP_MEAN = 14  # the affine order's first rows up to this mean usage are never reordered


def prefix_max_usage(sets: np.ndarray, n_neurons: int) -> np.ndarray:
    """[T]: the most used neuron's usage among the first t sets, for t = 1 … T."""
    flat = sets.ravel()
    when = np.repeat(np.arange(len(sets)), sets.shape[1])
    order = np.argsort(flat, kind="stable")  # by neuron, then by set index
    start = np.searchsorted(flat[order], np.arange(n_neurons))
    rank = np.arange(len(flat)) - np.repeat(start, np.bincount(flat, minlength=n_neurons))
    first = np.full(rank.max() + 1, len(sets))
    np.minimum.at(first, rank, when[order])  # the first set at which some neuron reaches usage j+1
    return np.searchsorted(np.sort(first), np.arange(len(sets)), side="right")


def allowed_max(t: np.ndarray, size: int, n_neurons: int, tol: float = 0.05) -> np.ndarray:
    """The most usage prefix_balanced allows among the first t rows."""
    mean = t * size / n_neurons
    return np.where(
        mean >= DENSE_MEAN,
        np.floor((1 + tol) * mean + 1e-9),
        np.ceil(mean - 1e-9) + 1,
    ).astype(np.int64)


def order_can_balance(sets: np.ndarray, n_neurons: int) -> bool:
    """Whether some order of these rows might be balanced at every T (a necessary condition).

    The first row lifting a neuron to usage L comes at some t with every other neuron at most
    L − 1, so the usage before it, S·(t − 1), is at most Σ min(usage at T_max, L − 1); t is at
    least the first T at which prefix_balanced allows L. Neurons in few rows fail it.
    """
    count, size = sets.shape
    deg = np.sort(np.bincount(sets.ravel(), minlength=n_neurons))
    allowed = allowed_max(np.arange(1, count + 1), size, n_neurons)
    levels = np.arange(1, deg[-1] + 1)
    first = np.searchsorted(np.maximum.accumulate(allowed), levels)  # t − 1 at which L is allowed
    below = np.minimum(deg[None, :], levels[:, None] - 1).sum(1)
    return bool((size * first <= below).all())


def prefix_balanced(alloc: Allocation, tol: float = 0.05) -> np.ndarray:
    """[T_max] bool: are the first t rows balanced, for t = 1 … T_max? Issue 12 asks usage
    max/mean ≤ 1 + tol at every t. Where the mean is below DENSE_MEAN, ⌈mean⌉/mean itself exceeds
    1.05 at some t (no integer usage meets it), so there max − ⌈mean⌉ ≤ 1 is asked instead."""
    t = np.arange(1, alloc.capacity + 1)
    top = prefix_max_usage(alloc.sets, alloc.n_neurons)
    return top <= allowed_max(t, alloc.size, alloc.n_neurons, tol)


# the exchange search of `family`: at most this many moves, fewer on large families (each move
# scores every row: FAMILY_WORK row positions a search at most)
FAMILY_MOVES = 20_000
FAMILY_WORK = 4e8


def family(alloc: Allocation, n_circuits: int) -> np.ndarray:
    """[T, S] positions of the T circuits of a network on this allocation: the first T rows, and
    with the 'affine' scheme balanced where that was found ('prime' and 'random' are the published
    scheme and random placement, kept as they are; issue 12 asks balance of the T circuits a
    network hosts, not of one order at every T): the first T rows where they are balanced
    (prefix_balanced's bound at T); else those rows with
    the neurons above the bound lowered by point substitution (_lower_top: a neuron meeting none
    of a row's other points among these T rows takes an overused one's place, so any two rows
    still share ≤ 1 position), then by ejection chains (_eject); else the same after exchanging
    rows for later ones (_swap_rows); else the first T rows of the tabulated cyclic packing
    (_cyclic), which uses every neuron equally (at (150, 7), T = 446–448 with bound 21, its 450
    sets where TD(7, 21)'s 462 would not do); else whole cosets of a tabulated cyclic packing's
    translates (_coset_rows: (130, 6) at T = 474, bound 22, among others); else the first T rows
    of a tabulated packing with classes of runs (_run_rows: (170, 7) at T = 531, where the cyclic
    packing holds 530); else the rows of a tabulated design less the rows tabulated for T, an
    unused neuron relieving the points left one above the bound (_design_rows: (170, 7) at T =
    532–578 over GF(169), (180, 8) at 489–492); else the substituted rows, first then exchanged,
    with whole rows redrawn (_redraw: (300, 7) at T_max; N ≤ 1000); else the first T rows."""
    T, N = n_circuits, alloc.n_neurons
    cap = int(allowed_max(np.array([T]), alloc.size, N)[0])

    def fits(rows: np.ndarray) -> bool:
        return np.bincount(rows.ravel(), minlength=N).max() <= cap

    def lowered(rows: np.ndarray) -> np.ndarray:
        rows = _lower_top(rows, N, top=cap)
        return rows if fits(rows) else _eject(rows, N)

    first = alloc.sets[:T]
    if alloc.scheme != "affine" or fits(first):
        return first
    rows = lowered(first)
    if fits(rows):
        return rows
    starts = [rows, lowered(alloc.sets[_swap_rows(alloc, T, cap)])]
    rows = starts[1]
    if not fits(rows) and (cyc := _cyclic(N, alloc.size)) is not None and len(cyc) >= T:
        rows = cyc[:T]
    if not fits(rows) and (cosets := _coset_rows(N, alloc.size, T, cap)) is not None:
        rows = cosets
    if not fits(rows) and (runs := _run_rows(N, alloc.size)) is not None and len(runs) >= T:
        rows = runs[:T]
    if not fits(rows) and (design := _design_rows(N, alloc.size, T, cap)) is not None:
        rows = design
    if N <= _REACH_MAX:  # the sweep's widths (a move costs ∝ N²)
        for start in starts:
            if not fits(rows):
                rows = _redraw(start, N, cap, seed=T)
    return rows if fits(rows) else first


def _swap_rows(alloc: Allocation, T: int, cap: int) -> np.ndarray:
    """[T] indices, increasing: the first T rows with some exchanged for later ones by a weighted
    min-conflicts search, toward every neuron at most `cap`. A row through an overused neuron
    (drawn by weight) is swapped for the unused row adding the least weight at neurons then at the
    bound, kept when that is at most what leaves; when no row is, the overused neurons' weights
    grow by one. Seeded by T (deterministic); stops when balanced or after its moves, and does not
    start where the neurons' usage at T_max leaves fewer than S·T uses under the bound."""
    sets, N = alloc.sets, alloc.n_neurons
    if np.minimum(alloc.usage(), cap).sum() < alloc.size * T:  # no subset of the rows can
        return np.arange(T)
    u = np.bincount(sets[:T].ravel(), minlength=N)
    order = np.argsort(sets.ravel(), kind="stable")
    by_neuron = order // alloc.size  # the rows through neuron v: by_neuron[start[v]:start[v + 1]]
    start = np.searchsorted(sets.ravel()[order], np.arange(N + 1))
    chosen = np.zeros(len(sets), bool)
    chosen[:T] = True
    weight = np.ones(N)
    rng = np.random.default_rng(T)
    for _ in range(min(FAMILY_MOVES, int(FAMILY_WORK / sets.size))):
        over = np.flatnonzero(u > cap)
        if not len(over):
            break
        x = over[rng.choice(len(over), p=weight[over] / weight[over].sum())]
        through = by_neuron[start[x] : start[x + 1]]
        mine = through[chosen[through]]
        r = mine[rng.integers(len(mine))]
        after = u.copy()
        after[sets[r]] -= 1
        leaves = weight[sets[r]][u[sets[r]] > cap].sum()
        cost = (weight * (after >= cap))[sets].sum(1)
        cost[chosen] = np.inf
        cost[through] = np.inf
        if cost.min() > leaves:
            weight[over] += 1
            continue
        best = np.flatnonzero(cost == cost.min())
        s = best[rng.integers(len(best))]
        chosen[r], chosen[s] = False, True
        u = after
        u[sets[s]] += 1
    return np.flatnonzero(chosen)


# _redraw's tabu search: moves, nodes of each clique search, moves a lowered neuron stays tabu
REDRAW_MOVES = 100
REDRAW_WORK = 20_000
REDRAW_TABU = 7
REDRAW_KINDS = 3  # moves lowering the usage above cap, keeping it, raising it by one


def _redraw(rows: np.ndarray, n_points: int, cap: int, seed: int = 0) -> np.ndarray:
    """[T, S]: rows with the neurons above `cap` lowered by redrawing whole rows, where point
    substitution and ejection chains (one or two points at a time) stop. A move gives a row
    through an overused neuron to S neurons, no two of them sharing a row once it is gone (an
    S-clique of the graph of unused pairs: any two rows still share ≤ 1 position), least used
    first: one that lowers the usage above cap if any, else one that keeps it (sideways), else one
    that raises it by one (uphill); neurons a move lowered stay out of the last two kinds for
    REDRAW_TABU moves. A tabu search of REDRAW_MOVES moves, seeded (deterministic); returns the
    rows with the least usage above cap met."""
    rows, u, pairs = _substitution_state(rows, n_points)
    rng = np.random.default_rng(seed)
    lowered = np.full(n_points, -REDRAW_TABU)  # the move at which each neuron last lost a use
    best, least = rows.copy(), np.maximum(u - cap, 0).sum()
    for move in range(REDRAW_MOVES):
        if least == 0:
            break
        through = rng.permutation(np.flatnonzero((u[rows] > cap).any(1)))
        for extra, r in ((e, r) for e in range(REDRAW_KINDS) for r in through):
            row = rows[r]
            left = u.copy()
            left[row] -= 1
            hot = left >= cap  # a neuron the new row would take above cap
            ok = (left <= cap) & ~(hot & (lowered > move - REDRAW_TABU) & (extra > 0))
            ok[row[u[row] > cap]] = False
            order = np.flatnonzero(ok)
            order = order[np.lexsort((rng.random(len(order)), left[order]))]
            free = ~pairs[np.ix_(order, order)]  # the graph of unused pairs among them, in order
            mine = np.isin(order, row)
            free[np.ix_(mine, mine)] = True  # the row's own pairs are free once it is gone
            np.fill_diagonal(free, False)
            allow = int((u[row] > cap).sum()) - 1 + extra  # neurons of `hot` the row may take
            new = _clique(free, rows.shape[1], hot[order], allow)
            if new is not None:
                new = order[new]
                pairs[np.ix_(row, row)] = False
                pairs[np.ix_(new, new)] = True
                np.fill_diagonal(pairs, False)
                lowered[np.setdiff1d(row, new)] = move
                u = left
                u[new] += 1
                rows[r] = np.sort(new)
                break
        else:
            break  # no move of any kind
        if (now := np.maximum(u - cap, 0).sum()) < least:
            best, least = rows.copy(), now
    return best


def _clique(adjacent: np.ndarray, size: int, hot: np.ndarray, allow: int) -> np.ndarray | None:
    """[size] indices of vertices pairwise adjacent (bool [n, n]), tried in index order, at most
    `allow` of them in `hot` (bool [n]); None if there is none, or none within REDRAW_WORK nodes.
    Neighbourhoods are Python-int bitsets."""
    packed = np.packbits(adjacent, axis=1, bitorder="little")
    near = [int.from_bytes(b.tobytes(), "little") for b in packed]
    hot_at = hot.tolist()
    chosen: list[int] = []
    work = 0

    def grow(cand: int, need: int, spare: int) -> bool:
        nonlocal work
        if need == 0:
            return True
        work += 1
        if work > REDRAW_WORK:
            return False
        while cand.bit_count() >= need:
            low = cand & -cand  # the next vertex in order; later branches go without it
            cand ^= low
            i = low.bit_length() - 1
            if hot_at[i] > spare:
                continue
            chosen.append(i)
            if grow(cand & near[i], need - 1, spare - hot_at[i]):
                return True
            chosen.pop()
        return False

    return np.array(chosen) if grow((1 << len(adjacent)) - 1, size, allow) else None


def family_max_usage(alloc: Allocation) -> np.ndarray:
    """[T_max]: the most used neuron's usage in `family(alloc, t)`, for t = 1 … T_max."""
    top = prefix_max_usage(alloc.sets, alloc.n_neurons)
    if alloc.scheme != "affine":  # `family` takes the first t rows as they are: `top` is exact
        return top
    cap = allowed_max(np.arange(1, alloc.capacity + 1), alloc.size, alloc.n_neurons)
    for t in np.flatnonzero(top > cap) + 1:
        rows = family(alloc, int(t))
        top[t - 1] = np.bincount(rows.ravel(), minlength=alloc.n_neurons).max()
    return top


def families_balanced(alloc: Allocation) -> np.ndarray:
    """[T_max] bool: is `family(alloc, t)` balanced, for t = 1 … T_max (issue 12's balance at
    every T, of the families networks built on this allocation take)?"""
    t = np.arange(1, alloc.capacity + 1)
    return family_max_usage(alloc) <= allowed_max(t, alloc.size, alloc.n_neurons)


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


def _prime_power(q: int) -> tuple[int, int] | None:
    """(p, e) with q = p^e, or None when q is not a prime power."""
    for p in range(2, q + 1):
        if q % p == 0:
            e = 0
            while q % p == 0:
                q, e = q // p, e + 1
            return (p, e) if q == 1 else None
    return None


def _primitive_root(q: int) -> int:
    """The smallest generator of GF(q)'s multiplicative group, q prime."""
    return next(g for g in range(2, q) if len({pow(g, e, q) for e in range(q - 1)}) == q - 1)


@lru_cache(maxsize=64)
def _field(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Addition and multiplication tables [q, q] of GF(q); element i is the base-p digits of i.

    For q = p^e (e > 1) the product comes from powers of x modulo the first monic degree-e
    polynomial in which x has order q − 1 (a primitive polynomial, hence irreducible).
    """
    p, e = _prime_power(q)
    i = np.arange(q)
    if e == 1:
        return (i[:, None] + i) % q, (i[:, None] * i) % q
    place = p ** np.arange(e)
    digits = (i[:, None] // place) % p  # [q, e]
    add = ((digits[:, None, :] + digits[None, :, :]) % p) @ place
    for low in range(1, q):  # x^e = −Σ c_j x^j, c_0 ≠ 0
        c = (low // place) % p
        if c[0] == 0:
            continue
        power, cur = [1], np.eye(1, e, 0, dtype=np.int64)[0]
        for _ in range(q - 2):
            top = cur[-1]
            cur = (np.concatenate([[0], cur[:-1]]) - top * c) % p
            power.append(int(cur @ place))
            if power[-1] == 1:
                break
        if len(power) == q - 1 and len(set(power)) == q - 1:
            break
    power = np.array(power)
    log = np.zeros(q, dtype=np.int64)
    log[power] = np.arange(q - 1)
    mul = power[(log[:, None] + log[None, :]) % (q - 1)]
    mul[0, :] = 0
    mul[:, 0] = 0
    return add, mul


def _transversal(k: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """TD(k, q), q a prime power ≥ k: blocks [q², k] on k·q points, and each block's class [q²].

    Block (m, c) is the line y = m·x + c of AG(2, q) on the columns x < k, point (x, y) being
    x·q + y. Two points of different columns lie on exactly one block; the q blocks of a class m
    (one slope) are disjoint and cover every point once: a parallel class.
    """
    add, mul = _field(q)
    m, c = (a.ravel() for a in np.meshgrid(np.arange(q), np.arange(q), indexing="ij"))
    return np.arange(k) * q + add[mul[m][:, :k], c[:, None]], m


def _directions(dim: int, q: int) -> np.ndarray:
    """[(q^dim − 1)/(q − 1), dim] directions of GF(q)^dim: (v, 1) for every v, then (w, 0).

    The same order as the points of PG(dim − 1, q) in _projective_lines (affine points, then the
    points at infinity), so a line's direction index is its point at infinity.
    """
    if dim == 1:
        return np.ones((1, 1), dtype=np.int64)
    v = (np.arange(q ** (dim - 1))[:, None] // q ** np.arange(dim - 1)) % q
    head = np.concatenate([v, np.ones((len(v), 1), dtype=np.int64)], 1)
    tail = _directions(dim - 1, q)
    return np.concatenate([head, np.concatenate([tail, np.zeros_like(tail[:, :1])], 1)])


def _affine_lines(dim: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Lines of AG(dim, q): [b, q] points (vectors as base-q numbers) and each line's direction [b]."""
    add, mul = _field(q)
    place = q ** np.arange(dim)
    points = (np.arange(q**dim)[:, None] // place) % q
    lines, direction = [], []
    for i, d in enumerate(_directions(dim, q)):
        members = add[points[:, None, :], mul[np.arange(q)[:, None], d]] @ place  # [q^dim, q]
        first = members.min(1) == np.arange(q**dim)  # each line once: from its smallest point
        lines.append(np.sort(members[first], 1))
        direction.append(np.full(first.sum(), i))
    return np.concatenate(lines), np.concatenate(direction)


def _projective_lines(dim: int, q: int) -> np.ndarray:
    """Lines of PG(dim, q), [b, q + 1]: affine lines plus their point at infinity, then PG(dim − 1, q)."""
    if dim == 1:
        return np.arange(q + 1)[None, :]
    lines, direction = _affine_lines(dim, q)
    far = _projective_lines(dim - 1, q) + q**dim
    return np.concatenate([np.concatenate([lines, q**dim + direction[:, None]], 1), far])


def _spread(sets: np.ndarray, n_points: int) -> np.ndarray:
    """Times in [0, 1) spreading every point's sets evenly over time (for designs without parallel
    classes): each step takes a set that puts no point ahead of its share if one exists, the one
    holding the point furthest behind. Quadratic in the number of sets, so used up to 3000."""
    count = len(sets)
    if count > 3000:
        return (np.arange(count) + 0.5) / count
    share = np.bincount(sets.ravel(), minlength=n_points)[sets]  # [count, S] each point's sets
    usage = np.zeros(n_points)
    times = np.full(count, np.inf)
    for step in range(count):
        behind = (step + 1) / count * share - usage[sets]
        score = np.maximum((1 - behind).max(1), 0) - behind.max(1)
        score[times < np.inf] = np.inf
        j = int(np.argmin(score))
        times[j] = (step + 0.5) / count
        usage[sets[j]] += 1
    return times


def _complete(sets: np.ndarray, n_points: int, size: int) -> np.ndarray:
    """Extra S-sets made only of uncovered pairs: greedy cliques, least used points first."""
    free = np.ones((n_points, n_points), dtype=bool)
    np.fill_diagonal(free, False)
    i, j = np.triu_indices(size, 1)
    free[sets[:, i], sets[:, j]] = free[sets[:, j], sets[:, i]] = False
    extra = []
    for p in np.argsort(np.bincount(sets.ravel(), minlength=n_points), kind="stable"):
        while True:
            block, cand = [p], free[p].copy()
            while len(block) < size and cand.any():
                idx = np.flatnonzero(cand)
                some = idx[:: -(-len(idx) // 128)]  # score at most 128 candidates
                v = some[np.argmax(free[np.ix_(some, idx)].sum(1))]  # keep the most candidates
                block.append(v)
                cand &= free[v]
            if len(block) < size:
                break
            free[np.ix_(block, block)] = False
            extra.append(sorted(block))
    return np.array(extra, dtype=np.int64).reshape(-1, size)


_SMALL = 80  # designs on at most this many points are completed greedily inside the recursion
_COMPLETE_MAX = 4000  # the top-level completion holds an [N, N] matrix: skipped above this N


class _Packer:
    """Packings of S-sets (pairwise overlap ≤ 1) on every n points, composed recursively.

    count[n] is the number of sets built on n points, recipe[n] how: 'skip' (leave a point out),
    'one' (a single set beside a packing of n − S), 'ag'/'pg' (lines of AG(dim, S) or PG(dim, S − 1),
    Steiner systems, beside a packing of the rest), or 'td' — the affine-plane step: TD(k, q) whose
    blocks each carry a packing on k points (covering every pair of different groups at most once),
    each group (plus one shared point when u = 1) carrying a packing on q + u points, beside a
    packing of the rest. Every set carries a time in [0, 1), spread over each point's sets (the
    transversal design's parallel classes in turn, each group's copy rotated), so a prefix in time
    order uses the neurons about evenly.
    """

    def __init__(self, size: int):
        self.size = size
        self.count: list[int] = []
        self.recipe: list[tuple] = []
        self.built: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        S = size
        self.steiner = []  # (kind, dim, v): Steiner systems S(2, S, v) from geometries
        if S >= 3 and _prime_power(S):
            self.steiner += [("ag", dim, S**dim) for dim in range(2, 12) if S**dim <= 4096]
        if S >= 3 and _prime_power(S - 1):
            q = S - 1
            self.steiner += [
                ("pg", dim, (q ** (dim + 1) - 1) // (q - 1))
                for dim in range(2, 12)
                if (q ** (dim + 1) - 1) // (q - 1) <= 4096
            ]
        self.powers: list[int] = []

    def extend(self, n_points: int) -> None:
        S, count = self.size, self.count
        self.powers = [q for q in range(2, n_points + 1) if _prime_power(q)]
        for n in range(len(count), n_points + 1):
            best = (count[n - 1], ("skip",)) if n else (0, ("skip",))
            if n >= S:
                best = max(best, (1 + count[n - S], ("one",)))
            for kind, dim, v in self.steiner:
                if v <= n:
                    best = max(best, (v * (v - 1) // (S * (S - 1)) + count[n - v], (kind, dim, v)))
            for k in range(S, n + 1):
                if k * (k - 1) > n:
                    break
                for u in (0, 1):
                    top = bisect_right(self.powers, (n - u) // k)
                    for q in self.powers[max(0, top - 3) : top]:  # the three largest that fit
                        if q < k:
                            continue
                        c = q * q * count[k] + k * count[q + u] + count[n - k * q - u]
                        best = max(best, (c, ("td", k, q, u)))
            count.append(best[0])
            self.recipe.append(best[1])
            if n <= _SMALL and best[0]:
                count[n] = len(self.build(n)[0])

    def main_sets(self, n: int) -> int:
        """How many leading sets of build(n) form its main structure (design or geometry)."""
        while n and self.recipe[n][0] == "skip":
            n -= 1
        kind, *arg = self.recipe[n]
        if kind == "td":
            k, q, _ = arg
            return q * q * self.count[k]
        if kind in ("ag", "pg"):
            return arg[1] * (arg[1] - 1) // (self.size * (self.size - 1))
        return int(kind == "one")

    def build(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """sets [count[n], S] on points [0, n) and their times [count[n]] in [0, 1)."""
        if n in self.built:
            return self.built[n]
        S = self.size
        kind, *arg = self.recipe[n]
        if kind == "skip":
            self.built[n] = self.build(n - 1) if n else (np.zeros((0, S), np.int64), np.zeros(0))
            return self.built[n]
        parts: list[tuple[np.ndarray, np.ndarray]] = []  # (sets, times)
        if kind == "one":
            parts.append((np.arange(S)[None, :], np.full(1, 0.5)))
            used = S
        elif kind == "ag":
            dim, used = arg
            lines, direction = _affine_lines(dim, S)
            rank = np.arange(len(lines)) - np.searchsorted(direction, direction)
            per, classes = len(lines) // (direction[-1] + 1), direction[-1] + 1
            parts.append((lines, (direction + (rank + 0.5) / per) / classes))
        elif kind == "pg":
            dim, used = arg
            lines = _projective_lines(dim, S - 1)
            parts.append((lines, _spread(lines, used)))
        else:
            k, q, u = arg
            cells, cls = _transversal(k, q)
            small, t_small = self.build(k)
            parts.append((cells[:, small].reshape(-1, S), ((cls[:, None] + t_small) / q).ravel()))
            groups = np.arange(k)[:, None] * q + np.arange(q)
            if u:
                groups = np.concatenate([groups, np.full((k, 1), k * q)], 1)
            inner, t_inner = self.build(q + u)
            # each group's copy rotated in time, so the shared point's sets spread out too
            rotated = (t_inner + np.arange(k)[:, None] / k) % 1
            parts.append((groups[:, inner].reshape(-1, S), rotated.ravel()))
            used = k * q + u
        if used < n:
            rest, t_rest = self.build(n - used)
            parts.append((rest + used, t_rest))
        if n <= _SMALL:
            extra = _complete(np.concatenate([p[0] for p in parts]), n, S)
            parts.append((extra, _spread(extra, n)))
        sets = np.concatenate([p[0] for p in parts]).astype(np.int64)
        times = np.concatenate([p[1] for p in parts])
        self.built[n] = (sets, times)
        return sets, times


REACH = 0.85  # issue 12's capacity target: this fraction of the pair bound at every (N, S)
_REPACK_MOVES = 2000  # the local search's work budget (moves) per allocation
_CLIQUE_WORK = 200  # points tried per clique search (dense leaves would take exponential time)
_REPACK_MAX = 400  # _reach's local search only up to this many neurons (Python-level moves)
_REACH_MAX = 1000  # _reach (above _SMALL) up to this many neurons: issue 12's D/d ≤ 1000
_CHOICE_WORK = 2000  # steps of _arc_less's search for extra sets (exact at (110, 7) in 167)

# Cyclic difference packings found offline by a min-conflicts search (like published tables of
# difference families): base blocks in Z_N whose differences ±d (d ≠ N/2) are all distinct, so
# their N translates each share at most one neuron. Used where the affine recursion stays < 85 %
# (_reach), and by `family` where no T rows of the allocation balance ((150, 7): TD(7, 21)'s 462).
_CYCLIC = {
    (100, 7): ((4, 10, 15, 17, 37, 58, 75), (3, 15, 34, 64, 78, 79, 87)),
    (150, 7): (
        (0, 50, 76, 94, 107, 114, 128),
        (0, 8, 24, 70, 103, 105, 135),
        (18, 27, 37, 85, 86, 114, 126),
    ),
    (170, 6): (  # 850 sets, 88.8 % of the pair bound (the local search reached 810)
        (91, 126, 62, 143, 157, 88),
        (140, 68, 135, 151, 98, 78),
        (109, 48, 134, 63, 15, 9),
        (14, 160, 116, 128, 124, 137),
        (166, 139, 117, 74, 167, 76),
    ),
    # no difference a multiple of 25: each coset of 25·Z_250 (10 neurons) then takes one more set
    (250, 7): (
        (87, 99, 41, 69, 5, 96, 47),
        (4, 198, 109, 150, 64, 88, 83),
        (204, 187, 67, 68, 200, 78, 35),
        (218, 40, 91, 128, 75, 187, 148),
        (146, 69, 241, 92, 175, 54, 243),
    ),
}


# Designs developed over Z_10 × Z_10 (neuron 10·x + y at (x, y)), found offline by a min-conflicts
# search (< 1 s). (100, 5): 4 base blocks whose 80 differences are each element of the group once,
# except the Klein group {0, 5}² and the 4 subgroups of order 5 generated by 2·(1, c), c = 1…4,
# whose cosets add 20 blocks each: 480 sets, every neuron in 24 — the Johnson bound (a 5-GDD of
# type 4^25, the Klein cosets its groups). Each base block's differences also avoid {0, 5}² + ⟨2·r⟩
# (r listed with it), so its translates by that subgroup of order 20 are disjoint: its 100
# translates fall into 5 parallel classes, and the whole design into 24.
_GRID = {
    (100, 5): (
        (
            ((15, 20, 9, 90, 89), (0, 1)),
            ((33, 61, 73, 6, 96), (0, 1)),
            ((80, 82, 9, 51, 58), (1, 0)),
            ((60, 53, 66, 9, 52), (1, 0)),
        ),
        ((1, 1), (1, 2), (1, 3), (1, 4)),
    ),
}


def _grid_design(n_points: int, size: int) -> np.ndarray | None:
    """The tabulated design over Z_10 × Z_10 (_GRID) in parallel classes, class after class
    (cosets of each subgroup of order 5, then each base block's translates by one coset of its
    subgroup of order 20): [b, S], or None. The first T rows then use every neuron ⌊T·S/N⌋ or
    ⌈T·S/N⌉ times."""
    if (n_points, size) not in _GRID:
        return None
    blocks, short = _GRID[(n_points, size)]

    def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The group's sum on neuron numbers 10·x + y (broadcast)."""
        return (a // 10 + b // 10) % 10 * 10 + (a + b) % 10

    def translates(base: np.ndarray, by: np.ndarray) -> np.ndarray:
        """The distinct sets base [S] + each element of by [m], sorted: [*, S]."""
        return np.unique(np.sort(add(base[None], by[:, None]), 1), axis=0)

    g = np.arange(100)

    def order5(r: tuple[int, int]) -> np.ndarray:  # [5] the subgroup generated by 2·r
        return np.arange(5) * 2 * r[0] % 10 * 10 + np.arange(5) * 2 * r[1] % 10

    out = [translates(order5(r), g) for r in short]  # a subgroup's cosets: one class
    for base, r in blocks:
        sub = add(np.array([0, 5, 50, 55])[:, None], order5(r)[None]).ravel()  # [20] order 20
        coset = add(g[:, None], sub[None]).min(1)  # [100] each element's coset, its least member
        out += [translates(np.array(base), g[coset == c]) for c in np.unique(coset)]
    return np.concatenate(out)


# Difference matrices over Z_q found offline (an exact-cover search, 6 s, in the cyclic form the
# Handbook of Combinatorial Designs uses where q is no prime power): M's columns c, each of length
# S − 2; row i < S − 2 of the (q, S − 1; 1) matrix is 0, then M[c][(i + s) mod (S − 2)] for each c
# and s < S − 2; the last row is 0. Any two rows differ by every element of Z_q once, so developed
# over Z_q, with the column as one more coordinate, they give TD(S, q): (150, 7) takes TD(7, 21).
_DIFFERENCE = {
    (21, 7): ((1, 2, 13, 8, 10), (3, 18, 4, 7, 20), (5, 14, 12, 17, 6), (9, 15, 11, 19, 16)),
}


# Points of a projective plane found offline (simulated annealing: points swapped in and out to
# raise the number of lines through ≥ S of them, then S-sets placed on the pairs that cutting those
# lines to S points leaves free). (100, 8): 100 of the 183 points of PG(2, 13), numbered as in
# _projective_lines, on which 150 lines hold 8–10 points, and 3 more sets of 8.
# fmt: off
_PLANE = {
    (100, 8): (
        13,
        (
            1, 3, 4, 5, 7, 9, 12, 17, 18, 19, 22, 23, 24, 25, 27, 28, 32, 34, 36, 37, 38, 40, 41,
            42, 43, 46, 47, 48, 53, 54, 57, 59, 61, 62, 64, 65, 66, 68, 70, 71, 73, 76, 80, 81, 82,
            83, 84, 88, 89, 91, 93, 98, 99, 101, 104, 105, 109, 110, 111, 113, 116, 117, 119, 121,
            123, 124, 125, 126, 129, 130, 133, 134, 135, 136, 139, 140, 144, 145, 146, 150, 151,
            153, 155, 156, 160, 163, 164, 165, 166, 168, 169, 172, 173, 175, 176, 177, 178, 180,
            181, 182,
        ),
        (
            (12, 18, 37, 43, 62, 68, 93, 175),
            (7, 17, 27, 70, 80, 113, 123, 133),
            (3, 48, 93, 124, 165, 172, 173, 177),
        ),
    ),
}
# fmt: on


def _plane_subset(n_points: int, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The tabulated extra sets (_PLANE) and the lines of PG(2, q) through ≥ S of the tabulated
    points, each cut to its first S-subset (in lexicographic order) that shares at most one point
    with every extra set, a line without one left out; filled (_filled_design, no groups), or
    None. (100, 8): 148 of the 150 lines and the 3 extra sets, 151 (85.8 % of the pair bound),
    where the recursion's TD(8, 11) and the local search reach 141."""
    if (n_points, size) not in _PLANE:
        return None
    q, points, extra = _PLANE[(n_points, size)]
    points = np.array(points)
    extra = np.searchsorted(points, extra)  # [e, S] as neurons: a point's rank
    design = [*extra]
    for line in _projective_lines(2, q):
        on = np.searchsorted(points, line[np.isin(line, points)])
        cut = (c for c in combinations(on.tolist(), size) if (np.isin(extra, c).sum(1) <= 1).all())
        if len(on) >= size and (c := next(cut, None)) is not None:
            design.append(np.array(c))
    return _filled_design(np.array(design), [], n_points)


def _difference_design(q: int, size: int) -> np.ndarray:
    """TD(S, q) from _DIFFERENCE[(q, S)]: blocks [q², S], point (x, y) being x·q + y."""
    cols = np.array(_DIFFERENCE[(q, size)])  # [(q − 1)/(S − 2), S − 2]
    shift = (np.arange(size - 2)[:, None] + np.arange(size - 2)[None, :]) % (size - 2)  # [i, s]
    rows = np.zeros((size - 1, q), dtype=np.int64)
    rows[:-1, 1:] = cols[:, shift].transpose(1, 0, 2).reshape(size - 2, -1)  # [i, c·(S−2) + s]
    j, g = (a.ravel() for a in np.meshgrid(np.arange(q), np.arange(q), indexing="ij"))
    return np.concatenate([(rows[:, j] + g) % q, j[None]]).T + np.arange(size) * q


def _difference_td(n_points: int, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """TD(S, q) from a tabulated difference matrix (the largest q with S·q ≤ N), filled
    (_filled_design), or None."""
    fits = [q for (q, k) in _DIFFERENCE if k == size and k * q <= n_points]
    if not fits:
        return None
    q = max(fits)
    return _filled_design(
        _difference_design(q, size), np.arange(size * q).reshape(size, q), n_points
    )


# V(m, t) vectors (Handbook of Combinatorial Designs, III.3): in GF(q), q = m·t + 1 (here prime),
# for each shift k the m differences a_(i+k) − a_i (subscripts mod m + 2, the first entry empty
# and skipped) fall in the m distinct cosets of the subgroup of order t. They give
# TD(m + 2, (m + 1)·t + 1) less a hole of t points per group (_vmt_design), kept here where
# (m + 1)·t + 1 is no prime power (else the recursion has the whole TD).
_VMT = {
    (5, 14): (0, 1, 3, 9, 25, 54),  # TD(7, 85)
    (6, 5): (0, 1, 7, 30, 12, 21, 15),  # TD(8, 36)
    (6, 7): (0, 1, 3, 16, 35, 26, 36),  # TD(8, 50)
    (6, 11): (0, 1, 3, 14, 7, 24, 27),  # TD(8, 78)
    (6, 13): (0, 1, 3, 7, 55, 47, 34),  # TD(8, 92)
    (6, 17): (0, 1, 3, 2, 14, 99, 29),  # TD(8, 120)
    (6, 21): (0, 1, 4, 13, 66, 93, 45),  # TD(8, 148)
}


def _holey_td(n_points: int, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The largest tabulated TD(S, n) less a hole (_vmt_design, S·n ≤ N), filled (_filled_design:
    its groups carry the recursion's packing, the hole's pairs are completed greedily), or None.
    (290, 8): TD(8, 36) less TD(8, 5), 1271 blocks on 288 neurons, 1310 sets filled (87.6 % of
    the pair bound), where the recursion and the local search stop at 81.8 %."""
    fits = [(m, t) for (m, t) in _VMT if m + 2 == size and size * ((m + 1) * t + 1) <= n_points]
    if not fits:
        return None
    design, n = _vmt_design(*max(fits, key=lambda mt: mt[1]))
    return _filled_design(design, list(np.arange(size * n).reshape(size, n)), n_points)


def _vmt_design(m: int, t: int) -> tuple[np.ndarray, int]:
    """TD(m + 2, n) less a hole, n = (m + 1)·t + 1, from the tabulated V(m, t) over GF(q),
    q = m·t + 1: the row (·, a_1, …, a_(m+1)) times each t-th root of unity, each of its m + 2
    cyclic shifts, translated by every field element — the empty entry of column c in the rows of
    root j being the point ∞_j of group c — and the constant rows. Every two points of different
    groups share one block except two ∞ points (the hole, a TD(m + 2, t) left out): n² − t²
    blocks [b, m + 2], point c·n + symbol (∞_j: symbol q + j), and n."""
    S, q, n = m + 2, m * t + 1, (m + 1) * t + 1
    w = _primitive_root(q)
    g = np.arange(q)
    rows = [np.repeat(g[:, None], S, 1)]  # the constant rows
    for j in range(t):
        base = [None] + [pow(w, m * j, q) * a % q for a in _VMT[(m, t)]]
        for s in range(S):
            row = base[len(base) - s :] + base[: len(base) - s]
            rows.append(np.stack([np.full(q, q + j) if v is None else (v + g) % q for v in row], 1))
    return np.concatenate(rows) + np.arange(S) * n, n


# J. R. Abel's quasi-difference matrix for TD(7, 18) (18 is no prime power; as tabulated in
# Sage's design database): 12 columns of 7 elements of Z_2 × Z_3 × Z_3 (digits x y z), each
# column giving 3 rows: row i plus y·_TD_7_18_SHIFT[i], y = 0, 1, 2; the 36 rows developed over
# the subgroup 0 × Z_3 × Z_3 are an OA(7, 18).
# fmt: off
_TD_7_18 = (
    "000 100 100 000 100 100 100 000 000 000 100 000",
    "000 020 100 100 000 120 110 110 010 020 010 120",
    "000 100 022 102 112 001 101 120 121 001 020 002",
    "000 002 100 002 102 122 010 111 110 121 021 001",
    "000 021 000 100 020 112 100 021 112 102 102 012",
    "000 000 011 010 100 010 110 122 011 121 120 111",
    "000 100 002 022 011 121 020 122 100 010 112 112",
)
_TD_7_18_SHIFT = ((0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 2, 1), (0, 2, 2), (0, 1, 2), (0, 0, 2))
# fmt: on


def _td_7_18(n_points: int, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """TD(7, 18) (_td_7_18_design) filled (_filled_design) for S = 7 and N ≥ 126, else None.
    (130, 7): 345 sets (86.5 % of the pair bound), where the recursion and the local search stop
    at 82 %."""
    if size != 7 or n_points < 126:
        return None
    return _filled_design(_td_7_18_design(), list(np.arange(126).reshape(7, 18)), n_points)


def _td_7_18_design() -> np.ndarray:
    """TD(7, 18) from _TD_7_18: [324, 7] blocks on 126 points, element 9x + 3y + z of group c
    being point 18·c + 9x + 3y + z."""
    mod = np.array([2, 3, 3])
    cols = np.array([[[int(c) for c in e] for e in row.split()] for row in _TD_7_18])  # [7, 12, 3]
    rows = (cols.transpose(1, 0, 2)[:, None] + np.arange(3)[:, None, None] * _TD_7_18_SHIFT) % mod
    sub = np.array([(0, a, b) for a in range(3) for b in range(3)])  # [9, 3]
    oa = (rows.reshape(36, 1, 7, 3) + sub[None, :, None, :]) % mod  # [36, 9, 7, 3]
    return (oa @ np.array([9, 3, 1])).reshape(-1, 7) + np.arange(7) * 18


def _truncated_td(n_points: int, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """TD(S, q) for the smallest prime power q ≥ S with S·q ≥ N, less cut = S·q − N < q points:
    whole blocks of one parallel class, then part of the next (one point in each of the first
    groups), so that about cut·(q − 1) blocks go (cut points of one group would take cut·q),
    filled (_filled_design), or None. (150, 8): TD(8, 19) on 152 points less 2 keeps 324 of its
    361 blocks, with 2 sets in each group 340 (85.2 % of the pair bound), where the recursion's
    TD(8, 17) and the local search reach 328; (470, 8): TD(8, 59) less 2, 3820 (97.1 %; the
    recursion 74.3 %); (110, 5): TD(5, 23) less one block, 523 (87.3 %; 67.1 %)."""
    S = size
    q = next(q for q in range(max(S, -(-n_points // S)), n_points + 1) if _prime_power(q))
    cut = S * q - n_points
    if not 0 < cut < q:
        return None
    blocks, _ = _transversal(S, q)  # block c of class 0 is y = c: point x·q + c of each group x
    gone = (np.arange(cut) % S) * q + np.arange(cut) // S  # whole blocks of class 0, then part
    keep = np.full(S * q, -1)
    keep[np.setdiff1d(np.arange(S * q), gone)] = np.arange(n_points)
    design = keep[blocks[~np.isin(blocks, gone).any(1)]]
    groups = [g[g >= 0] for g in keep.reshape(S, q)]
    return _filled_design(design, groups, n_points)


# TD(S, q) with a split group, found offline (a search in C over the extra sets minimising the pairs
# covered twice, a weight per pair raised where it sticks, the design's blocks fixed): the N − S·q
# neurons past the design take the place of the last group's points 1…N − S·q in the blocks of slope
# ≥ u (those blocks meet only there, so they stay a packing), which frees each moved point's pairs
# with those blocks' points for sets of its own, and with it the hole's pairs to both. (170, 8): q =
# 19, u = 10; kept whole, TD(8, 19) with its 18-neuron hole holds at most 420 (the sets meeting a
# group lie in its 19 neurons and the hole, at most 9, and the hole's 153 pairs are shared); the
# recursion and the local search reach 417.
# fmt: off
_SPLIT = {
    (170, 8): (
        19,
        10,
        (
        (0, 2, 3, 5, 14, 148, 153, 160), (0, 4, 7, 9, 138, 150, 155, 162),
        (0, 10, 12, 15, 141, 146, 158, 165), (1, 4, 6, 11, 16, 135, 142, 159),
        (1, 5, 10, 13, 139, 151, 156, 163), (2, 9, 13, 16, 18, 140, 147, 152),
        (3, 6, 8, 10, 17, 18, 144, 168), (5, 7, 12, 17, 134, 136, 143, 167),
        (7, 11, 14, 18, 145, 157, 164, 169), (8, 11, 13, 15, 137, 149, 154, 161),
        (19, 20, 21, 27, 32, 142, 148, 163), (19, 23, 25, 29, 37, 146, 161, 167),
        (20, 24, 26, 37, 147, 156, 162, 168), (20, 28, 33, 34, 136, 149, 152, 157),
        (21, 22, 26, 33, 35, 143, 158, 164), (21, 23, 34, 36, 138, 153, 159, 165),
        (22, 23, 24, 28, 30, 145, 151, 166), (24, 31, 35, 36, 139, 154, 160, 167),
        (25, 30, 32, 36, 134, 140, 155, 168), (25, 31, 33, 135, 141, 148, 162, 169),
        (27, 28, 29, 35, 137, 144, 150, 159), (38, 42, 47, 53, 146, 151, 157, 162),
        (38, 43, 44, 48, 54, 147, 153, 158), (38, 46, 52, 56, 136, 145, 150, 156),
        (39, 48, 49, 52, 137, 142, 162, 167), (39, 54, 55, 143, 148, 154, 159, 168),
        (40, 45, 49, 53, 138, 154, 158, 163), (40, 46, 51, 54, 139, 144, 155, 169),
        (41, 44, 46, 49, 50, 134, 159, 164), (41, 47, 51, 55, 135, 140, 145, 160),
        (42, 43, 51, 52, 141, 152, 161, 166), (42, 45, 50, 55, 56, 149, 155, 165),
        (57, 61, 64, 68, 143, 151, 152, 155), (57, 65, 69, 73, 136, 140, 144, 148),
        (58, 61, 62, 72, 144, 156, 160, 164), (58, 66, 73, 74, 145, 161, 165, 168),
        (59, 62, 69, 74, 137, 141, 153, 157), (59, 63, 67, 70, 138, 142, 145, 149),
        (60, 63, 64, 71, 74, 158, 162, 166), (60, 67, 68, 75, 135, 139, 146, 150),
        (62, 66, 70, 71, 75, 134, 154, 169), (64, 65, 72, 75, 147, 159, 163, 167),
        (76, 78, 79, 81, 88, 149, 156, 159), (76, 80, 89, 90, 92, 93, 144, 154),
        (77, 78, 90, 94, 145, 148, 155, 158), (77, 79, 82, 83, 92, 150, 157, 160),
        (77, 80, 84, 86, 87, 138, 164, 167), (81, 83, 87, 93, 135, 151, 158, 161),
        (81, 84, 90, 91, 139, 142, 152, 168), (82, 87, 88, 91, 94, 136, 162, 165),
        (83, 85, 86, 88, 89, 137, 163, 166), (85, 91, 92, 140, 143, 146, 153, 156),
        (95, 97, 106, 136, 142, 153, 155, 161), (95, 99, 101, 104, 110, 140, 157, 159),
        (95, 103, 107, 109, 112, 148, 165, 167), (96, 100, 104, 106, 109, 111, 145, 162),
        (96, 101, 107, 113, 135, 152, 154, 156), (97, 99, 105, 150, 152, 163, 165, 169),
        (98, 103, 105, 111, 113, 137, 139, 158), (98, 104, 108, 149, 153, 164, 166, 168),
        (100, 102, 113, 141, 143, 147, 149, 160), (102, 106, 108, 110, 112, 134, 138, 151),
        (114, 115, 116, 121, 122, 151, 159, 160), (114, 117, 129, 131, 146, 147, 154, 155),
        (115, 118, 119, 130, 131, 148, 156, 157), (115, 127, 129, 132, 144, 145, 152, 153),
        (116, 117, 118, 120, 132, 149, 150, 158), (117, 119, 123, 134, 160, 161, 162, 163),
        (118, 122, 124, 125, 135, 136, 163, 164), (119, 120, 121, 126, 127, 137, 164, 165),
        (122, 123, 127, 128, 138, 139, 140, 166), (123, 124, 126, 129, 130, 141, 167, 168),
        (125, 126, 128, 131, 132, 142, 143, 169), (133, 134, 135, 144, 147, 157, 165, 166),
        (133, 136, 137, 138, 146, 160, 168, 169), (133, 140, 141, 142, 150, 151, 154, 164),
        ),
    ),
}
# fmt: on


def _split_td(n_points: int, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """TD(S, q) with its last group split as tabulated (_SPLIT), and the tabulated extra sets,
    filled (_filled_design, no groups), or None."""
    if (n_points, size) not in _SPLIT:
        return None
    q, u, extra = _SPLIT[(n_points, size)]
    blocks, slope = _transversal(size, q)
    y = blocks[:, -1] - (size - 1) * q  # the last group's symbol
    moved = (slope >= u) & (y >= 1) & (y <= n_points - size * q)
    blocks[moved, -1] = size * q + y[moved] - 1
    return _filled_design(np.concatenate([blocks, np.array(extra)]), [], n_points)


def _filled_design(
    design: np.ndarray, groups: list[np.ndarray], n_points: int, order: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A design's blocks [b, S] (a transversal design's: every pair of different groups at most
    once; or any packing, with no groups) with each group carrying the recursion's packing on its
    points, the rest completed greedily and the neurons left out raised by point substitution
    (_even_out, until none is left): (sets, times). The design comes first in time, then what
    fills it, each spread over its neurons (_spread; the design's times in [0, 1) by `order`
    when given)."""
    S = design.shape[1]
    packer = _packer(S)  # the recursion has planned every n ≤ N (_affine_plane)
    fill = [g[packer.build(len(g))[0]] for g in groups]
    fill = np.concatenate([np.zeros((0, S), np.int64), *fill])
    extra = np.concatenate([fill, _complete(np.concatenate([design, fill]), n_points, S)])
    sets = np.concatenate([design, extra])
    while not np.array_equal(raised := _even_out(sets, n_points), sets):
        sets = raised
    main, rest = sets[: len(design)], sets[len(design) :]
    first = _spread(main, n_points) if order is None else order
    return sets, np.concatenate([first / 2, 0.5 + _spread(rest, n_points) / 2])


def _denniston(degree: int, q: int) -> np.ndarray:
    """Denniston's maximal arc of `degree` in PG(2, q), both powers of 2: the points of AG(2, q)
    where the irreducible form x² + βxy + y² takes a value in an additive subgroup of order
    `degree` (the values below it: addition is XOR) meet every line in 0 or `degree` points, so
    its (degree − 1)·q + degree points, numbered in order, and the lines through `degree` of them
    are a (v, degree, 1)-BIBD: its blocks [b, degree], direction after direction (each
    direction's lines a parallel class)."""
    add, mul = _field(q)
    t = np.arange(q)
    sq = mul[t, t]
    beta = next(b for b in t[1:] if (add[add[sq, mul[b, t]], 1] != 0).all())  # t² + βt + 1 ≠ 0
    x, y = np.arange(q * q) % q, np.arange(q * q) // q  # point x + q·y, as _affine_lines numbers
    on = add[add[sq[x], mul[beta, mul[x, y]]], sq[y]] < degree  # [q²] on the arc
    lines, direction = _affine_lines(2, q)
    design, secant = _secants(lines, on, degree)
    return design[np.argsort(direction[secant], kind="stable")]


def _arc_design(n_points: int, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Denniston's maximal arc of degree S (_denniston), S ≤ q both powers of 2: the largest that
    fits N, class after class, filled (_filled_design, no groups), or None. (120, 8): 255 sets,
    all of the pair bound (the recursion 78 %); also (232, 8), (456, 8), (904, 8) and
    (3q + 4, 4)."""
    S = size
    if S < 2 or S & (S - 1):
        return None
    q = S
    while (S - 1) * 2 * q + S <= n_points:
        q *= 2
    if (S - 1) * q + S > n_points:
        return None
    design = _denniston(S, q)
    return _filled_design(design, [], n_points, np.arange(len(design)) / len(design))


def _arc_less(n_points: int, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Denniston's arc of degree S + 1 (_denniston; S + 1 a power of 2), the smallest that holds N
    neurons, less its r = v − N > 0 extra points: those of one secant A, then the rest on a secant
    B through a point of A (r ≤ 2S + 1). A secant that loses one point keeps an S-set, one that
    loses none drops a point; a secant M through a lost point of B and one of A keeps S − 1 points,
    which make another set with a point z when every line from z to them lost nothing and drops z.
    The most such sets that agree on the dropped points (one per line) and share ≤ 1 neuron are
    chosen by a depth-first search (its first path the greedy choice; exact unless it takes more
    than _CHOICE_WORK steps); the other lines drop their most used point. Filled
    (_filled_design), or None. (110, 7): 239 + 7 = 246 sets (86.3 % of the pair bound; TD(7, 16)
    less two points keeps 239 and caps its completions there)."""
    S, k = size, size + 1
    if S < 3 or k & (k - 1):
        return None
    q = k
    while S * q + k < n_points:
        q *= 2
    v = S * q + k
    r = v - n_points
    if not 0 < r <= 2 * S + 1:
        return None
    lines = _denniston(k, q)
    inc = np.zeros((v, len(lines)), bool)  # [point, line]
    inc[lines, np.arange(len(lines))[:, None]] = True
    a = lines[0]
    gone = np.zeros(v, bool)
    gone[a[:r]] = True
    if r > k:
        b = lines[np.flatnonzero(inc[a[0]])[1]]  # the next secant through A's first point
        gone[b[b != a[0]][: r - k]] = True
    lost = gone[lines].sum(1)  # [lines] points each line loses
    cands = []  # (line M, point z, the lines from z to M's points, the new set)
    for m in np.flatnonzero(lost == 2):
        keep = lines[m][~gone[lines[m]]].tolist()
        for z in np.flatnonzero(~gone & ~inc[:, m]).tolist():
            via = {int(np.flatnonzero(inc[z] & inc[p])[0]) for p in keep}
            if (lost[list(via)] == 0).all():
                cands.append((m, z, via, {*keep, z}))

    def fits(i: int, j: int) -> bool:
        (m, z, via, new), (m2, z2, via2, new2) = cands[i], cands[j]
        return m != m2 and (z == z2 or not via & via2) and len(new & new2) <= 1

    best: list[int] = []
    work = _CHOICE_WORK

    def grow(chosen: list[int], start: int) -> None:  # the largest pairwise-fitting choice
        nonlocal best, work
        work -= 1
        if len(chosen) > len(best):
            best = chosen
        for j in range(start, len(cands)):
            if len(chosen) + len(cands) - j <= len(best) or work <= 0:
                return
            if all(fits(i, j) for i in chosen):
                grow([*chosen, j], j + 1)

    grow([], 0)
    drop = {line: cands[i][1] for i in best for line in cands[i][2]}
    sets = [sorted(cands[i][3]) for i in best] + [p[~gone[p]].tolist() for p in lines[lost == 1]]
    use = np.bincount(np.array(sets, dtype=np.int64).ravel(), minlength=v)
    for line in np.flatnonzero(lost == 0).tolist():
        p = lines[line]
        out = drop.get(line, p[np.argmax(use[p])])
        sets.append(p[p != out].tolist())
        use[sets[-1]] += 1
    rank = np.cumsum(~gone) - 1
    return _filled_design(rank[np.array(sets, dtype=np.int64)], [], n_points)


def _unital_design(n_points: int, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The Hermitian unital of PG(2, q²), q = S − 1 a prime power: the q³ + 1 points where
    x^(q+1) + y^(q+1) + z^(q+1) = 0 meet every line in 1 or q + 1 points, so the lines through
    S of them are a (q³ + 1, S, 1)-BIBD. Filled (_filled_design, no groups), or None (no prime
    power q or too few neurons). (370, 8): the 2107 sets on 344 neurons, and what fills the
    rest, where the recursion and the local search stop below 85 %; (126, 6): 525."""
    q = size - 1
    if q < 2 or _prime_power(q) is None or q**3 + 1 > n_points:
        return None
    Q = q * q
    add, mul = _field(Q)
    t = np.arange(Q)
    norm = t.copy()
    for _ in range(q):
        norm = mul[norm, t]  # t^(q+1)
    x, y, z = _directions(3, Q).T  # _projective_lines' points, as homogeneous coordinates
    on = add[add[norm[x], norm[y]], norm[z]] == 0
    return _filled_design(_secants(_projective_lines(2, Q), on, size)[0], [], n_points)


def _secants(lines: np.ndarray, on: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The lines [b, q] that meet the point set `on` [points] in S points, as S-sets of its
    points numbered in order: ([s, S], which lines [b] bool)."""
    secant = on[lines].sum(1) == size
    rank = np.cumsum(on) - 1
    return rank[lines[secant]][on[lines[secant]]].reshape(-1, size), secant


def _cyclic(n_points: int, size: int) -> np.ndarray | None:
    """The N translates of each tabulated base block (see _CYCLIC), translate-major, or None."""
    base = _CYCLIC.get((n_points, size))
    if base is None:
        return None
    return (
        _translates(np.array(base, dtype=np.int64), n_points).transpose(1, 0, 2).reshape(-1, size)
    )


def _translates(base: np.ndarray, n_points: int, count: int | None = None) -> np.ndarray:
    """[b, count, S]: each base block ([b, S]) translated by 0 … count − 1 (all N by default)
    over Z_N, each row sorted."""
    by = np.arange(n_points if count is None else count)
    return np.sort((base[:, None, :] + by[None, :, None]) % n_points, 2)


# Cyclic packings for `family` alone, where no T rows of the allocation balance at some T, found
# offline by simulated annealing over the base blocks' elements (cost: repeated differences;
# 10^8–10^9 moves, seconds to minutes in C), the one kept per cell whose cosets balance the most
# of those T: each base block's translates x ≡ r (mod h) use the neurons p ≡ ρ (mod h) equally, so
# whole cosets chosen by a small integer program (_coset_rows) keep every neuron at the bound.
# Of the 198 T (in 17 cells of D/d = 100 … 1000, S = 3 … 8) left unbalanced before, they balance
# 134 with the subgroup blocks below: all of (130, 6), (140, 6), (160, 7), (180, 7), (200, 7),
# (210, 8), (220, 8), (230, 8) and (240, 8); (170, 7) 12 of 29, (280, 8) 32 of 41, (290, 8) 15 of
# 19. The rest need more rows than the packing and its subgroup blocks hold or a bound above
# b·S + 1; no packing was found at (180, 8), (190, 8) (b = 3: 84 of 89 or 94 difference classes)
# or (270, 8) (b = 4: 112 of 134), none sought at (170, 8) (all 84: a perfect family). _redraw,
# after them, balances 28 of the 64 T left; _RUNS (170, 7) one more, _DESIGN its other 8 and
# (180, 8)'s 489–492 (23 in (170, 8), (180, 8), (280, 8) fail).
_CYCLIC_FAMILY = {
    (130, 6): (
        (20, 4, 27, 128, 6, 61),
        (82, 128, 56, 91, 110, 51),
        (61, 13, 111, 73, 17, 60),
        (50, 11, 77, 35, 60, 80),
    ),
    (140, 6): (
        (107, 85, 79, 8, 47, 131),
        (95, 37, 129, 16, 137, 4),
        (2, 92, 105, 61, 18, 16),
        (15, 101, 130, 16, 26, 83),
    ),
    (160, 7): (
        (127, 41, 112, 104, 98, 139, 40),
        (116, 50, 103, 127, 78, 34, 71),
        (26, 65, 22, 68, 17, 0, 101),
    ),
    (170, 7): (
        (150, 77, 148, 166, 133, 111, 42),
        (44, 86, 130, 55, 19, 32, 151),
        (148, 143, 100, 157, 96, 149, 55),
    ),
    (180, 7): (
        (86, 109, 35, 5, 69, 171, 0),
        (82, 129, 171, 121, 108, 28, 110),
        (76, 31, 146, 9, 179, 24, 173),
    ),
    (200, 7): (
        (179, 156, 125, 167, 42, 196, 86),
        (158, 22, 125, 16, 186, 117, 173),
        (141, 0, 155, 123, 73, 21, 145),
        (23, 24, 135, 186, 48, 108, 43),
    ),
    (210, 8): (
        (164, 50, 94, 51, 12, 171, 173, 151),
        (181, 40, 100, 69, 204, 8, 185, 5),
        (61, 163, 6, 46, 56, 204, 188, 180),
    ),
    (220, 8): (
        (164, 97, 108, 56, 63, 35, 105, 47),
        (20, 217, 136, 99, 30, 15, 1, 204),
        (216, 210, 120, 186, 121, 73, 184, 159),
    ),
    (230, 8): (
        (48, 21, 153, 155, 68, 169, 125, 83),
        (181, 107, 170, 102, 46, 210, 218, 71),
        (219, 212, 195, 119, 131, 122, 174, 141),
    ),
    (240, 8): (
        (37, 112, 160, 203, 216, 77, 158, 30),
        (170, 175, 209, 68, 190, 35, 46, 133),
        (38, 169, 100, 170, 118, 97, 91, 186),
    ),
    (280, 8): (
        (81, 188, 205, 177, 279, 141, 136, 231),
        (21, 9, 240, 209, 189, 195, 92, 130),
        (39, 251, 165, 173, 152, 150, 143, 21),
        (94, 239, 17, 182, 255, 98, 258, 183),
    ),
    (290, 8): (
        (68, 162, 118, 111, 158, 240, 87, 105),
        (82, 207, 79, 81, 191, 96, 181, 145),
        (118, 211, 10, 113, 232, 265, 173, 141),
        (106, 279, 37, 178, 212, 133, 254, 45),
    ),
}
# Blocks inside the subgroup mZ_N (disjoint S-sets of its N/m elements) for cells whose
# _CYCLIC_FAMILY packing has no difference in mZ_N: their translates by 0 … m − 1 lie in distinct
# cosets and share no pair with the translates of the base blocks, so they add ≤ 1 use per
# neuron where the cyclic packing's b·S uses are one short of the bound, and give the integer
# program a choice per neuron: with them (210, 8), (220, 8), (230, 8) and (240, 8) balance at every
# T (14, 1, 7 and 0 of their 28, 2, 19 and 2 T with the best packings found without them).
_SUBGROUP_BLOCKS: dict[tuple[int, int], tuple[int, tuple[tuple[int, ...], ...]]] = {
    (160, 7): (10, (tuple(range(0, 70, 10)), tuple(range(70, 140, 10)))),  # 20 rows
    (170, 7): (10, (tuple(range(0, 70, 10)), tuple(range(70, 140, 10)))),  # 20 rows
    (180, 7): (12, (tuple(range(0, 84, 12)), tuple(range(84, 168, 12)))),  # 24 rows
    (210, 8): (21, (tuple(range(0, 168, 21)),)),  # 21 rows
    (220, 8): (20, (tuple(range(0, 160, 20)),)),  # 20 rows
    (230, 8): (23, (tuple(range(0, 184, 23)),)),  # 23 rows
    (240, 8): (30, (tuple(range(0, 240, 30)),)),  # 30 rows: a parallel class
    (280, 8): (35, (tuple(range(0, 280, 35)),)),  # 35 rows: a parallel class
    (290, 8): (29, (tuple(range(0, 232, 29)),)),  # 29 rows
}
# the integer program's branch-and-bound nodes (HiGHS, deterministic: the same rows in every
# process; 0.01–3 s a T in these cells)
_COSET_NODES = 5000
_COSET_MAX = 40  # the largest h tried (b·h binary variables)


def _coset_rows(n_points: int, size: int, n_circuits: int, cap: int) -> np.ndarray | None:
    """[T, S]: T rows of the tabulated cyclic packing (_CYCLIC_FAMILY, else _CYCLIC) with no
    neuron in more than `cap`, or None. The translates x ≡ r (mod h) of base block B use neuron
    p as often as B holds elements ≡ p − r (mod h), so the choice of whole cosets (B, r) is an
    integer program over b·h variables; with the cell's subgroup blocks (_SUBGROUP_BLOCKS), each
    of their rows is one more variable and each neuron has its own bound. h runs over N's
    divisors up to _COSET_MAX; the first with a choice of ≥ T rows wins (its first T: the
    cosets' rows in translate order, then the subgroup blocks' rows)."""
    from scipy.optimize import Bounds, LinearConstraint, milp  # on first use: scipy is slow

    base = _CYCLIC_FAMILY.get((n_points, size), _CYCLIC.get((n_points, size)))
    if base is None:
        return None
    base = np.array(base, dtype=np.int64)  # [b, S]
    b = len(base)
    rows = _translates(base, n_points)
    extra = _subgroup_rows(n_points, size)  # [E, S]
    inc = np.zeros((n_points, len(extra)))  # [N, E]: neuron p in extra row e
    inc[extra.ravel(), np.repeat(np.arange(len(extra)), size)] = 1
    most = n_points * cap // size  # rows the bound allows at most
    for h in range(1, _COSET_MAX + 1):
        width = n_points // h  # rows per coset
        if n_points % h or most // width * width + len(extra) < n_circuits:
            continue  # no whole number of cosets fits between T and the bound
        residues = np.arange(h)
        use = np.zeros((h, b, h))  # [ρ, B, r]: neuron ≡ ρ's uses by the coset (B, r)
        for j in range(b):
            for e in base[j]:
                use[residues, j, (residues - e) % h] += 1
        use = use.reshape(h, -1)
        if len(extra):  # one bound per neuron
            use = np.concatenate([use[np.arange(n_points) % h], inc], 1)
        count = np.concatenate([np.full(b * h, width), np.ones(len(extra))])
        res = milp(
            np.ones(len(count)),  # the fewest cosets and rows holding ≥ T rows
            constraints=[
                LinearConstraint(use, 0, cap),
                LinearConstraint(count[None, :], n_circuits, np.inf),
            ],
            integrality=np.ones(len(count)),
            bounds=Bounds(0, 1),
            options={"node_limit": _COSET_NODES},
        )
        if res.x is not None:
            x = np.round(res.x).astype(bool)
            chosen = x[: b * h].reshape(b, h)[:, np.arange(n_points) % h]
            picked = np.concatenate([rows.transpose(1, 0, 2)[chosen.T], extra[x[b * h :]]])
            return picked[:n_circuits]  # translate order, then the subgroup blocks
    return None


def _subgroup_rows(n_points: int, size: int) -> np.ndarray:
    """[E, S]: each tabulated subgroup block K ⊂ mZ_N (_SUBGROUP_BLOCKS) translated by
    c = 0 … m − 1, one row per coset of mZ_N; none where the cell has none."""
    m, blocks = _SUBGROUP_BLOCKS.get((n_points, size), (1, ()))
    return _translates(np.array(blocks, dtype=np.int64).reshape(-1, size), n_points, m).reshape(
        -1, size
    )


# Packings for `family` alone where T needs more rows under the bound than the cyclic packings
# and their subgroup blocks hold, and the pairs those leave unused hold no S-clique to add: base
# blocks over Z_N whose differences avoid those of the runs {x, x + d, …, x + (S − 1)d}, so that
# each step d adds a class of disjoint runs (one more use per neuron). Found offline by the
# annealer of _CYCLIC_FAMILY with the runs' difference classes forbidden. (N, S): (steps, base
# blocks). Not found (annealer, SAT): (170, 7) with a second step, for T = 553–555 (_DESIGN
# balances those); (280, 8) beside its subgroup blocks; (170, 8) and (180, 8) over Z_(N/2) × Z_2
# with runs in each half.
_RUNS: dict[tuple[int, int], tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]] = {
    (170, 7): (  # 510 + 24 rows: T = 531 at bound 22
        (1,),
        (
            (80, 14, 40, 113, 89, 59, 48),
            (1, 11, 53, 99, 134, 121, 114),
            (79, 43, 107, 16, 130, 169, 155),
        ),
    ),
}


def _run_rows(n_points: int, size: int) -> np.ndarray | None:
    """[b·N + runs, S]: the tabulated packing's translates (_RUNS; block after block), then for
    each step d its runs (r + d·(S·m + j) mod N: the cosets of d·Z_N cut into runs of S), or
    None."""
    if (n_points, size) not in _RUNS:
        return None
    steps, blocks = _RUNS[(n_points, size)]
    rows = [_translates(np.array(blocks, dtype=np.int64), n_points).reshape(-1, size)]
    for d in steps:
        g = np.gcd(d, n_points)
        start = np.arange(g)[:, None, None] + d * size * np.arange(n_points // g // size)[:, None]
        rows.append(np.sort((start + d * np.arange(size)) % n_points, 2).reshape(-1, size))
    return np.concatenate(rows)


# Designs for `family` alone where the packings above hold too few rows under the bound: rows on
# neurons 0 … N − 2 holding every pair at most once, neuron N − 1 unused (_design). For a T, the
# rows to leave out so that every point is at most one above the bound (_LEFT_OUT: a simulated
# annealing over which rows to leave out, 10^8 moves in C, offline); the points still above it
# then each give one place to the unused neuron (_fresh). A T up to a key with the key's bound
# takes the first T rows. (170, 7): a (169, 7, 1) difference family over GF(169) (elements
# numbered as in _field: base-p digits), whose 169 translates of each base block put every pair in
# exactly one row and every point in 28; its base blocks are {0} ∪ aC ∪ bC for C the cube roots of
# unity (an exact cover of the 56 cosets of C by the blocks' differences, found in 0.02 s).
# (180, 8): the multiplier packing over Z_181 (_MULTIPLIER) less its rows through 179 and 180
# (496 rows, every neuron but 179 in 22 or 23). (N, S): (q, base blocks).
_DESIGN = {
    (170, 7): (
        169,
        (
            (0, 1, 3, 9, 13, 39, 117),
            (0, 60, 167, 137, 31, 80, 71),
            (0, 18, 41, 123, 99, 115, 150),
            (0, 63, 163, 138, 28, 84, 70),
        ),
    ),
}
# (N, S): {T: the design's rows left out}
# fmt: off
_LEFT_OUT: dict[tuple[int, int], dict[int, tuple[int, ...]]] = {
    (170, 7): {
        555: (
            2, 8, 14, 17, 21, 24, 25, 36, 42, 46, 57, 68, 71, 79, 87, 89, 92, 94, 103, 107,
            113, 119, 122, 128, 135, 142, 156, 163, 166, 175, 182, 200, 210, 213, 234, 235,
            236, 245, 247, 253, 257, 261, 263, 265, 272, 275, 282, 286, 290, 299, 313, 319,
            320, 323, 324, 331, 339, 344, 345, 347, 356, 363, 364, 368, 376, 379, 388, 389,
            392, 394, 401, 406, 407, 415, 418, 420, 427, 442, 444, 446, 453, 457, 459, 460,
            466, 470, 471, 475, 477, 480, 486, 492, 504, 514, 522, 523, 526, 527, 534, 535,
            536, 538, 553, 554, 578, 580, 584, 587, 591, 593, 596, 608, 619, 626, 640, 644,
            652, 656, 659, 664, 671,
        ),
        578: (
            1, 5, 16, 18, 41, 46, 51, 58, 59, 74, 76, 80, 81, 87, 92, 98, 114, 121, 128, 144,
            148, 156, 158, 168, 177, 180, 184, 195, 201, 215, 227, 237, 238, 239, 245, 251,
            254, 265, 279, 290, 292, 296, 306, 314, 315, 318, 323, 324, 325, 326, 336, 341,
            342, 347, 351, 361, 363, 365, 372, 381, 383, 405, 410, 411, 417, 420, 440, 444,
            454, 457, 458, 471, 486, 488, 496, 500, 504, 508, 509, 530, 535, 548, 575, 578,
            582, 586, 587, 612, 615, 616, 617, 622, 626, 635, 643, 653, 658, 668,
        ),
    },
    (180, 8): {492: (42, 147, 288, 323)},
}
# fmt: on
_FRESH_NODES = 10_000  # _fresh's search: rows tried at most


def _design(n_points: int, size: int) -> np.ndarray | None:
    """[R, S]: the tabulated design (_DESIGN: the q translates over GF(q) of each base block, base
    block after base block; else the multiplier packing over Z_(N+1) less its rows through N − 1
    and N), each row sorted; or None."""
    if (n_points, size) in _DESIGN:
        q, base = _DESIGN[(n_points, size)]
        add, _ = _field(q)
        rows = add[np.array(base)[:, None, :], np.arange(q)[None, :, None]].reshape(-1, size)
        return np.sort(rows, 1)
    if (n_points, size) in _MULTIPLIER:
        rows = _multiplier_design(*_MULTIPLIER[(n_points, size)])
        return rows[(rows < n_points - 1).all(1)]
    return None


def _design_rows(n_points: int, size: int, n_circuits: int, cap: int) -> np.ndarray | None:
    """[T, S]: the tabulated design's rows less those left out at the least tabulated T' ≥ T
    whose bound is `cap`, the first T, with the points above `cap` lowered by _fresh; or None."""
    left_out = _LEFT_OUT.get((n_points, size), {})
    key = min(
        (
            t
            for t in left_out
            if t >= n_circuits and allowed_max(np.array([t]), size, n_points)[0] == cap
        ),
        default=None,
    )
    if key is None:
        return None
    rows = np.delete(_design(n_points, size), list(left_out[key]), 0)
    return _fresh(rows[:n_circuits], n_points, cap)


def _fresh(rows: np.ndarray, n_points: int, cap: int) -> np.ndarray | None:
    """Rows with each neuron used cap + 1 times giving one place to the first unused neuron f, in
    rows whose other points are pairwise disjoint (f's pairs are then all new): a depth-first
    search, the neurons with the fewest rows first; None where a neuron is above cap + 1, more
    than cap are, or no choice is found within _FRESH_NODES rows tried."""
    deg = np.bincount(rows.ravel(), minlength=n_points)
    over = np.flatnonzero(deg > cap)
    unused = np.flatnonzero(deg == 0)
    if not len(over):
        return rows
    if deg.max() > cap + 1 or len(over) > cap or not len(unused):
        return None
    holds = [np.flatnonzero((rows == x).any(1)) for x in over]
    order = np.argsort([len(h) for h in holds], kind="stable")
    chosen: list[int] = []
    tried = 0

    def search(i: int, taken: set[int]) -> bool:
        nonlocal tried
        if i == len(order):
            return True
        x = over[order[i]]
        for r in holds[order[i]]:
            tried += 1
            if tried > _FRESH_NODES:
                return False
            rest = set(rows[r].tolist()) - {int(x)}
            if rest & taken or r in chosen:
                continue
            chosen.append(int(r))
            if search(i + 1, taken | rest):
                return True
            chosen.pop()
        return False

    if not search(0, set()):
        return None
    out = rows.copy()
    for x, r in zip(over[order], chosen, strict=True):
        out[r, out[r] == x] = unused[0]
    return np.sort(out, 1)


# Packings developed over Z_p, p = N + 1 prime, from one base block B and a multiplier m of order
# r in Z_p*: the base blocks B, m·B, …, m^(r−1)·B share no difference where B's S(S − 1)
# differences lie in distinct cosets of ⟨m⟩. An exhaustive search in C (1 s) finds 112 such B
# holding 0 and 1 for (181, 8), m = 48 of order 3 (the table has the first); none exists for the
# (v, 8, 1) designs that would fit — over GF(169) or Z_169 with an order-3 multiplier, nor
# 1-rotational over GF(25) × Z_7 ∪ {∞}. Their p translates each, less the r·S blocks through point
# p − 1, are the sets (_multiplier_less).
_MULTIPLIER = {(180, 8): (181, 48, (0, 1, 3, 69, 120, 129, 141, 156))}


def _multiplier_design(p: int, m: int, base: tuple[int, ...]) -> np.ndarray:
    """The p translates of each base block m^i·B (i below m's order in Z_p*), base block after
    base block: [r·p, S], sorted rows."""
    order = next(r for r in range(1, p) if pow(m, r, p) == 1)
    blocks = np.array([[b * pow(m, i, p) % p for b in base] for i in range(order)])  # [r, S]
    return np.sort((blocks[:, None, :] + np.arange(p)[None, :, None]) % p, 2).reshape(-1, len(base))


def _multiplier_less(n_points: int, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The tabulated multiplier packing over Z_(N+1) (_MULTIPLIER) less its blocks through the
    last point, filled (_filled_design, no groups), or None. (180, 8): 543 − 24 = 519 sets
    (90.3 % of the pair bound), every neuron in 23 or 24, where the recursion, TD(8, 23) less 4
    points and the local search stop at 464 (80.7 %)."""
    if (n_points, size) not in _MULTIPLIER:
        return None
    design = _multiplier_design(*_MULTIPLIER[(n_points, size)])
    return _filled_design(design[(design < n_points).all(1)], [], n_points)


def _repack(
    sets: np.ndarray,
    n_points: int,
    size: int,
    goal: int,
    moves: int,
    fixed: np.ndarray,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """More sets by iterated local search on the leave (the pairs no set covers), the standard
    method for near-optimal packings on a few hundred points: a move grows an S-set K from a random
    uncovered pair, each point chosen to add the fewest sets sharing a pair with K (at most 1–3 in
    all), removes those sets, adds K, then adds S-cliques of the leave through the freed pairs;
    it is kept when the count does not drop. Sets marked `fixed` are never removed. Stops at `goal`
    sets or after `moves` moves; seeded.
    Returns (kept: [len(sets)] bool, added sets [*, S])."""
    rng = np.random.default_rng(seed)
    N, S = n_points, size
    store = [np.sort(b) for b in sets]
    alive = [True] * len(store)
    owner = np.full((N, N), -1, dtype=np.int64)  # the set covering each pair, -1 none
    np.fill_diagonal(owner, -2)
    leave = [((1 << N) - 1) ^ (1 << i) for i in range(N)]  # bitsets of uncovered partners
    work = [0]  # points the current clique search may still try
    locked = np.append(fixed, False)  # by set id; the last entry for every set added later

    def cover(k: int, on: bool) -> int:
        """Set k in (on) or out of the packing: its pairs' owner and the leave follow."""
        b = store[k]
        alive[k] = on
        owner[np.ix_(b, b)] = k if on else -1
        owner[b, b] = -2
        mask = sum(1 << int(i) for i in b)
        for i in b:
            leave[i] = leave[i] & ~mask if on else leave[i] | mask ^ (1 << int(i))
        return k

    def put(b: np.ndarray) -> int:
        store.append(b)
        alive.append(True)
        return cover(len(store) - 1, True)

    def points(bits: int) -> list[int]:
        out = []
        while bits:
            low = bits & -bits
            out.append(low.bit_length() - 1)
            bits ^= low
        return out

    def clique(cand: int, need: int) -> list[int] | None:  # `need` points of cand, pairwise free
        pts = [v for v in points(cand) if (cand & leave[v]).bit_count() >= need - 1]
        if need == 1 or len(pts) < need:
            return [pts[rng.integers(len(pts))]] if need == 1 and pts else None
        for v in rng.permutation(pts).tolist():
            work[0] -= 1
            if cand.bit_count() < need or work[0] < 0:
                return None
            found = clique(cand & leave[v], need - 1)
            if found is not None:
                return [v, *found]
            cand &= ~(1 << v)
        return None

    for k in range(len(store)):
        cover(k, True)
    count = len(store)
    for _ in range(moves):
        if count >= goal:
            break
        deg = np.array([x.bit_count() for x in leave])
        if not deg.any():
            break
        a = int(np.searchsorted(np.cumsum(deg), rng.integers(deg.sum()), side="right"))
        partners = points(leave[a])
        K = [a, partners[rng.integers(len(partners))]]
        hit, limit = np.zeros(0, np.int64), 1 + rng.integers(3)  # the sets K meets in a pair
        while len(K) < S:
            own = owner[:, K].copy()
            own[np.isin(own, hit)] = -1
            srt = np.sort(own, 1)
            new = (
                (srt >= 0) & np.concatenate([np.ones((N, 1), bool), srt[:, 1:] != srt[:, :-1]], 1)
            ).sum(1)
            bar = (own == -2) | locked[np.where((own >= 0) & (own < len(fixed)), own, len(fixed))]
            v = int(np.argmin(new + N * bar.any(1) + rng.random(N)))
            if bar[v].any() or len(hit) + new[v] > limit:
                break
            hit = np.union1d(hit, owner[v, K][owner[v, K] >= 0])
            K.append(v)
        if len(K) < S:
            continue
        for k in hit.tolist():
            cover(k, False)
        added = [put(np.sort(np.array(K)))]
        freed = [
            (int(b[i]), int(b[j]))
            for k in hit.tolist()
            for b in [store[k]]
            for i in range(S)
            for j in range(i + 1, S)
        ]
        for i in rng.permutation(len(freed)).tolist():
            x, y = freed[i]
            if leave[x] >> y & 1:
                work[0] = _CLIQUE_WORK
                found = clique(leave[x] & leave[y], S - 2)
                if found is not None:
                    added.append(put(np.sort(np.array([x, y, *found]))))
        if len(added) >= len(hit):
            count += len(added) - len(hit)
            continue
        for k in added:
            cover(k, False)
        for k in hit.tolist():
            cover(k, True)
    kept = np.array(alive[: len(sets)], dtype=bool)
    extra = [store[k] for k in range(len(sets), len(store)) if alive[k]]
    return kept, np.array(extra, dtype=np.int64).reshape(-1, S)


@lru_cache(maxsize=16)
def _packer(size: int) -> _Packer:
    return _Packer(size)


def affine_plane(n_neurons: int, size: int) -> Allocation:
    """Recursive affine-plane packing (see _Packer), completed greedily, in balanced order: the
    first T rows use the neurons about evenly for every T. Deterministic: built once per (N, S)."""
    built = _affine_kept(n_neurons, size)
    return Allocation(sets=built.sets.copy(), n_neurons=built.n_neurons, scheme=built.scheme)


# A build from N = KEEP_FROM on takes 0.2–22 s (N = 250, S = 6: 2.2 s; N = 1000: 7 s; N = 2500:
# 22 s) in every process that needs it (each command, each sweep worker), so its rows are kept in
# the cache folder (base.files.cache_dir), keyed by this file's source and numpy's version, and
# read back only whole (their SHA-256 stored beside them). $SUPERPOSE_ALLOCATION_CACHE: another
# folder, or "off" to build every time.
KEEP_FROM = 100
CACHE_ENV = "SUPERPOSE_ALLOCATION_CACHE"


@lru_cache(maxsize=32)
def _affine_kept(n_neurons: int, size: int) -> Allocation:
    """_affine_plane, read from the allocation cache where this source built it before."""
    path = _kept_path(n_neurons, size)
    if path is not None:
        try:
            with np.load(path, allow_pickle=False) as kept:
                sets, digest = kept["sets"], kept["sha256"].tobytes()
            whole = hashlib.sha256(sets.tobytes()).digest() == digest
            if whole and sets.dtype == np.int64 and sets.ndim == 2 and sets.shape[1] == size:
                return Allocation(sets=sets, n_neurons=n_neurons, scheme="affine")
        except Exception:  # none yet, or damaged (any error reading it): built again, replaced
            pass
    built = _affine_plane(n_neurons, size)
    if path is not None:
        digest = np.frombuffer(hashlib.sha256(built.sets.tobytes()).digest(), dtype=np.uint8)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda tmp: _save_npz(tmp, sets=built.sets, sha256=digest))
        except (OSError, SuperposeError):  # no cache (a read-only home): nothing lost but time
            pass
    return built


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    with open(path, "wb") as fh:  # a file object: np.savez would append ".npz" to a path
        np.savez(fh, **arrays)


def _kept_path(n_neurons: int, size: int) -> Path | None:
    where = os.environ.get(CACHE_ENV, "")
    if n_neurons < KEEP_FROM or where == "off":
        return None
    key = hashlib.sha256(Path(__file__).read_bytes() + np.__version__.encode()).hexdigest()[:16]
    root = Path(where) if where else cache_dir("allocations")
    return root / f"affine-N{n_neurons}-S{size}-{key}.npz"


@lru_cache(maxsize=32)
def _affine_plane(n_neurons: int, size: int) -> Allocation:
    N, S = n_neurons, size
    packer = _packer(S)
    packer.extend(N)
    sets, times = packer.build(N)
    if _SMALL < N <= _COMPLETE_MAX:
        extra = _complete(sets, N, S)
        sets = np.concatenate([sets, extra])
        times = np.concatenate([times, _spread(extra, N)])
    # the main structure's parallel classes first, then what fills its gaps (evenly in each)
    main = packer.main_sets(N)
    times = np.concatenate([times[:main] / 2, 0.5 + times[main:] / 2])
    grid = _grid_design(N, S)
    if grid is not None and len(grid) > len(sets):  # in classes: its first T rows are balanced
        sets, times = grid, np.arange(len(grid), dtype=float)
    goal = -(-round(REACH * 100) * pair_bound(N, S) // 100)  # ⌈85 % of the pair bound⌉
    if len(sets) < goal and _SMALL < N <= _REACH_MAX:
        sets, times = _reach(sets, times, N, S, goal)
    alloc = _finish(sets[np.argsort(times, kind="stable")], N, "affine")
    ok = prefix_balanced(alloc)
    if ok.all():
        return alloc
    # the first rows (whole parallel classes of the top design) stay as they are, up to mean usage
    # KEEP_MEAN; then the least used neurons are raised and the rest ordered level by level
    hold = min(int(KEEP_MEAN * N / S), len(alloc.sets))
    keep = min(int(np.argmin(ok)), hold)
    best, fails = alloc, int((~ok).sum())
    even = Allocation(_even_out(alloc.sets, N, protect=keep), N, "affine")
    tries = [even]
    if order_can_balance(even.sets, N):
        tries += [{}, {"window": 6}, {"behind": -2.0}]  # the last two only when close
    for a in tries:
        if isinstance(a, dict):
            if a and not 0 < fails <= 10:
                break
            a = Allocation(even.sets[_level_order(even.sets, N, keep, **a)], N, "affine")
        unbalanced = int((~prefix_balanced(a)).sum())
        if unbalanced < fails:
            best, fails = a, unbalanced
    if fails and len(alloc.sets) <= _REBALANCE_MAX:
        best = _rebalance(best, fails, hold)
    check(best.sets, N)
    return best


_SEARCH_MOVES = 600  # _level_search's moves per level short of its rows
# _rebalance only up to this many rows (every cell of the README's table; ≤ 4.9 s a build): at
# D/d = 2500, S = 6 (D = 10,000; 199,287 rows) it took the build from 19 to 43 s CPU for 111 → 78
# unbalanced T
_REBALANCE_MAX = 50_000


def _rebalance(best: Allocation, fails: int, hold: int) -> Allocation:
    """Level orders with _level_search after the first `hold` rows (kept byte-identical): on the
    family evened out from `hold` (_even_out, then _lower_top where order_can_balance still
    fails, then _eject where a neuron is still above what prefix_balanced allows at T_max), as
    it is from one level before its first failing T after `hold`, evened out with behind = −2,
    with window = 6 — the one failing prefix_balanced at the fewest T, if fewer than `fails`.
    Which wins varies by cell; 4 are tried up to 3000 rows, 3 up to 6000, 2 up to 12000, else 1
    (each 0.1–2 s)."""
    sets, N = best.sets, best.n_neurons
    count, S = sets.shape
    bad = np.flatnonzero(~prefix_balanced(best))
    bad = bad[bad >= hold]
    if not len(bad):
        return best
    even = _even_out(sets, N, protect=hold)
    if not order_can_balance(even, N):  # (where it can, lowering the top was measured to cost)
        even = _lower_top(even, N, protect=hold)
        if np.bincount(even.ravel()).max() > allowed_max(np.array([count]), S, N)[0]:
            even = _eject(even, N, protect=hold)  # else no order passes at T_max: (250, 7) by
            # the local search (without its cyclic table)
    late = max(hold, int(bad[0]) - N // S)
    tries = [(even, hold, {})]
    tries += [(sets, late, {})] if late > hold else []
    tries += [(even, hold, {"behind": -2.0}), (even, hold, {"window": 6})]
    n = 4 if count <= 3000 else 3 if count <= 6000 else 2 if count <= 12000 else 1
    for fam, keep, kw in tries[:n]:
        a = Allocation(fam[_level_order(fam, N, keep, search=_SEARCH_MOVES, **kw)], N, "affine")
        unbalanced = int((~prefix_balanced(a)).sum())
        if unbalanced < fails:
            best, fails = a, unbalanced
    return best


def _reach(
    sets: np.ndarray, times: np.ndarray, n_points: int, size: int, goal: int
) -> tuple[np.ndarray, np.ndarray]:
    """Where the recursion stays below REACH of the pair bound: a tabulated cyclic packing
    (greedily completed), transversal design (_difference_td, _truncated_td, _split_td,
    _holey_td, _td_7_18), cut plane (_plane_subset), arc (_arc_design, _arc_less) or unital
    (_unital_design) when it holds more, then (up to _REPACK_MAX neurons) iterated local search
    (_repack) towards the goal, the main structure (the first rows) kept as it is. Sets the search
    adds go after the main structure in time, spread evenly like a completion."""
    cyc = _cyclic(n_points, size)
    if cyc is not None and len(cyc) > len(sets):
        extra = _complete(cyc, n_points, size)
        sets = np.concatenate([cyc, extra])
        times = np.concatenate([_spread(cyc, n_points) / 2, 0.5 + _spread(extra, n_points) / 2])
    for td in (
        _difference_td(n_points, size),
        _truncated_td(n_points, size),
        _split_td(n_points, size),
        _holey_td(n_points, size),
        _td_7_18(n_points, size),
        _plane_subset(n_points, size),
        _arc_design(n_points, size),
        _arc_less(n_points, size),
        _unital_design(n_points, size),
        _multiplier_less(n_points, size),
    ):
        if td is not None and len(td[0]) > len(sets):
            sets, times = td
    if n_points > _REPACK_MAX:
        return sets, times
    kept, extra = _repack(sets, n_points, size, goal, _REPACK_MOVES, times < 0.5)
    return (
        np.concatenate([sets[kept], extra]),
        np.concatenate([times[kept], 0.5 + _spread(extra, n_points) / 2]),
    )


def _smooth(sets: np.ndarray, n_points: int) -> np.ndarray:
    """Permutation of sets [T, S] close to the given order in which no prefix lifts the most used
    neuron above max(its current maximum, ⌈mean⌉) where avoidable.

    Works in chunks of about one level (N/S sets): a set is taken if its neurons stay below the
    level even counting every earlier set of the chunk; the others wait at the front of the queue.
    """
    count, S = sets.shape
    width = max(1, n_points // S)
    usage = np.zeros(n_points, dtype=np.int64)
    order, waiting, nxt, done = [], np.zeros(0, dtype=np.int64), 0, 0
    while waiting.size or nxt < count:
        take = max(0, width - waiting.size)
        cand = np.concatenate([waiting, np.arange(nxt, min(nxt + take, count))])
        nxt = min(nxt + take, count)
        level = max(int(usage.max()), -(-(done + 1) * S // n_points))
        flat = sets[cand].ravel()
        by_point = np.argsort(flat, kind="stable")
        ranked = flat[by_point]
        rank = np.empty_like(flat)
        rank[by_point] = np.arange(flat.size) - np.searchsorted(ranked, ranked)
        ok = (usage[flat] + rank < level).reshape(-1, S).all(1)
        ok[0] = ok[0] or not ok.any()
        usage += np.bincount(sets[cand[ok]].ravel(), minlength=n_points)
        order.append(cand[ok])
        done += int(ok.sum())
        waiting = cand[~ok]
    return np.concatenate(order)


def _substitution_state(sets: np.ndarray, n_points: int):
    """(a copy of sets, usage per neuron [N], pairs [N, N]: a and b share a set) for point
    substitution."""
    sets = sets.copy()
    S = sets.shape[1]
    pairs = np.zeros((n_points, n_points), dtype=bool)
    i, j = np.triu_indices(S, 1)
    pairs[sets[:, i], sets[:, j]] = pairs[sets[:, j], sets[:, i]] = True
    return sets, np.bincount(sets.ravel(), minlength=n_points), pairs


def _substitute(row: np.ndarray, c: int, d: int, pairs: np.ndarray, deg: np.ndarray) -> None:
    """Point substitution: neuron d takes row[c]'s place (the caller checked d meets none of the
    row's other points); pairs and usage follow."""
    x, rest = row[c], row[np.arange(len(row)) != c]
    row[c] = d
    pairs[d, rest] = pairs[rest, d] = True
    pairs[x, rest] = pairs[rest, x] = False
    deg[x] -= 1
    deg[d] += 1


def _even_out(sets: np.ndarray, n_points: int, protect: int = 0) -> np.ndarray:
    """Sets with the least used neurons raised by point substitution: a neuron d used less than
    the mean takes the place of a neuron x used more in one of x's sets (the latest first, never
    one of the first `protect`) whose other points share no set with d yet. Pairwise overlap
    stays ≤ 1: x's sets meet only in x, and d's new pairs are new."""
    sets, deg, pairs = _substitution_state(sets, n_points)
    S, mean = sets.shape[1], deg.mean()
    late = sets[protect:]  # a view: substitutions write through
    for d in np.argsort(deg, kind="stable"):
        for end in range(len(late), 0, -4096):  # the latest sets first, 4096 at a time
            if deg[d] >= int(mean):
                break
            part = late[max(0, end - 4096) : end]
            busy = pairs[d][part] | (part == d)  # [*, S]: points d may not meet
            donor = (deg[part] >= deg[d] + 2) & (deg[part] > mean)
            fits = donor & (busy.sum(1, keepdims=True) == busy)  # a donor, its partners free
            for r in np.flatnonzero(fits.any(1))[::-1]:
                c = int(np.argmax(fits[r]))
                x, row = part[r, c], part[r]
                rest = row[np.arange(S) != c]
                if (
                    deg[d] >= int(mean)
                    or deg[x] < deg[d] + 2
                    or deg[x] <= mean
                    or pairs[d, rest].any()
                ):
                    continue
                _substitute(row, c, d, pairs, deg)
    return sets


def _lower_top(
    sets: np.ndarray, n_points: int, protect: int = 0, top: int | None = None
) -> np.ndarray:
    """Sets with the most used neurons lowered by point substitution, the converse of _even_out:
    a neuron x used more than `top` (default ⌈mean⌉) gives its place in one of its sets (the latest
    first, never one of the first `protect`) to the least used neuron d below the mean (below
    `top`, when given) and ≤ deg x − 2 that shares no set with the other points. Where a few
    neurons sit above 1.05·mean at T_max, no order is balanced at the last T (D/d = 100, S = 4: 32
    of mean 30.4)."""
    sets, deg, pairs = _substitution_state(sets, n_points)
    S, mean = sets.shape[1], deg.mean()  # a substitution moves a use: the mean stays
    below, top = (mean, np.ceil(mean)) if top is None else (top, top)
    late = sets[protect:]  # a view: substitutions write through
    for x in np.argsort(-deg, kind="stable"):
        if deg[x] <= top:
            break
        for r in np.flatnonzero((late == x).any(1))[::-1]:
            if deg[x] <= top:
                break
            row = late[r]
            c = int(np.argmax(row == x))
            rest = row[np.arange(S) != c]
            ok = ~pairs[:, rest].any(1) & (deg <= deg[x] - 2) & (deg < below)
            ok[row] = False
            if ok.any():
                _substitute(row, c, int(np.flatnonzero(ok)[np.argmin(deg[ok])]), pairs, deg)
    return sets


def _eject(sets: np.ndarray, n_points: int, protect: int = 0) -> np.ndarray:
    """Sets with the most used neurons lowered by ejection chains, where _lower_top finds no
    single substitution: x gives its place in one of its sets R (never one of the first `protect`)
    to a neuron e used at most deg x − 2 that meets no other point of R, or to a neuron d meeting
    exactly one of them, w, once d gave its place in the set holding d and w to such an e. Either
    way a use moves from x to e (the least used that fits) and every pair stays covered at most
    once. Passes over the neurons, most used first, until one moves nothing (each move lowers
    Σ usage²). At D/d = 250, S = 7 it takes the 8 neurons used 38 times (1.05·mean = 37.04) to
    37, where _lower_top finds none."""
    sets, deg, pairs = _substitution_state(sets, n_points)
    S = sets.shape[1]
    np.fill_diagonal(pairs, True)  # a point meets itself: it cannot join a set holding it
    owner = np.full((n_points, n_points), -1, dtype=np.int64)  # the set covering each pair
    i, j = np.triu_indices(S, 1)
    at = np.repeat(np.arange(len(sets)), len(i))
    owner[sets[:, i].ravel(), sets[:, j].ravel()] = at
    owner[sets[:, j].ravel(), sets[:, i].ravel()] = at
    cols = np.arange(S)

    def move(r: int, c: int, e: int) -> None:
        x, rest = sets[r][c], sets[r][cols != c]
        owner[x, rest] = owner[rest, x] = -1
        _substitute(sets[r], c, e, pairs, deg)
        owner[e, rest] = owner[rest, e] = r

    moved = True
    while moved:
        moved = False
        for x in np.argsort(-deg, kind="stable").tolist():
            best = None  # (usage of e, chain of (row, column, new point))
            for r in (np.flatnonzero((sets[protect:] == x).any(1))[::-1] + protect).tolist():
                c = int(np.argmax(sets[r] == x))
                rest = sets[r][cols != c]
                meet = pairs[:, rest]  # [N, S − 1]
                d = np.flatnonzero(meet.sum(1) == 1)
                r3 = owner[d, rest[np.argmax(meet[d], 1)]]
                d, r3 = d[r3 >= protect], r3[r3 >= protect]
                c3 = np.argmax(sets[r3] == d[:, None], 1)
                rest3 = sets[r3][cols[None, :] != c3[:, None]].reshape(-1, S - 1)
                # candidates: the row itself (e takes x's place), then each d's row (e takes d's)
                ok = ~pairs[:, np.concatenate([rest[None], rest3])].any(2)  # [N, 1 + len(d)]
                ok &= (deg <= deg[x] - 2)[:, None]
                if not ok.any():
                    continue
                score = np.where(ok, deg[:, None], n_points * len(sets))
                k = int(np.argmin(score.min(0)))
                e = int(np.argmin(score[:, k]))
                if best is None or deg[e] < best[0]:
                    chain = [(r, c, e)] if k == 0 else [(int(r3[k - 1]), int(c3[k - 1]), e)]
                    best = (deg[e], chain + ([] if k == 0 else [(r, c, int(d[k - 1]))]))
            if best is not None:
                for r, c, e in best[1]:
                    move(r, c, e)
                moved = True
    np.fill_diagonal(pairs, False)
    return sets


def _take_under(sets: np.ndarray, cand: np.ndarray, u: np.ndarray, cap: int) -> np.ndarray:
    """Rows of cand (in priority order) taken greedily while no neuron's usage u passes cap; u is
    updated. Vectorised over a window of 256: a pass takes the rows whose neurons stay ≤ cap even
    counting every earlier row of the window, the others stay in front for the next pass."""
    taken, S = [], sets.shape[1]
    while len(cand):
        head, cand = cand[:256], cand[256:]
        head = head[(u[sets[head]] < cap).all(1)]
        if not len(head):
            continue
        flat = sets[head].ravel()
        by = np.argsort(flat, kind="stable")
        rank = np.empty_like(flat)
        rank[by] = np.arange(flat.size) - np.searchsorted(flat[by], flat[by])
        ok = (u[flat] + rank < cap).reshape(-1, S).all(1)
        ok[0] = True
        u += np.bincount(sets[head[ok]].ravel(), minlength=len(u))
        taken.append(head[ok])
        cand = np.concatenate([head[~ok], cand])
    return np.concatenate(taken) if taken else np.zeros(0, np.int64)


def _level_order(
    sets: np.ndarray,
    n_points: int,
    keep: int = 0,
    window: int = 3,
    behind: float = -1.0,
    search: int = 0,
) -> np.ndarray:
    """Permutation of sets [T, S], the first `keep` in place, filling usage level by level: no
    neuron passes the cap L until the level is as full as greedy choice and one-row exchanges get
    it; rows through neurons more than -behind uses behind their share first, then the next
    window·N/S rows of the given order, then rows through the level's holes. Where
    prefix_balanced allows a neuron two or more above L, the cap rises by half of that at once.
    With `search` > 0, one-row exchanges give way to _level_search: up to `search` moves in each
    level holding fewer rows than prefix_balanced needs before L + 1, 30·search in all."""
    count, S = sets.shape
    deg = np.bincount(sets.ravel(), minlength=n_points).astype(float)
    u = np.bincount(sets[:keep].ravel(), minlength=n_points)
    left = np.arange(count) >= keep
    by = np.argsort(sets.ravel(), kind="stable")
    starts = np.searchsorted(sets.ravel()[by], np.arange(n_points + 1))
    rows_of = [by[starts[j] : starts[j + 1]] // S for j in range(n_points)]
    order, placed, cap = [np.arange(keep)], keep, int(u.max())
    top = np.maximum.accumulate(allowed_max(np.arange(1, count + 1), S, n_points))
    spent = 0  # _level_search's moves so far

    def rows_through(points: np.ndarray) -> np.ndarray:
        mark = np.zeros(count, dtype=bool)
        mark[np.concatenate([rows_of[j] for j in points])] = True
        return np.flatnonzero(mark & left)

    while placed < count:
        step = max(1, (int(allowed_max(np.array([placed + 1]), S, n_points)[0]) - cap) // 2)
        cap += step
        if cap % 16 == 0:
            rows_of = [r[left[r]] for r in rows_of]
        lag = u - np.minimum(deg, np.maximum(placed / count * deg, placed * S / n_points))
        want, lo = window * step * (n_points // S + 1), int(np.argmax(left))
        width = 2 * want
        while True:  # the first `want` rows left in the given order that fit under the cap
            head = np.flatnonzero(left[lo : lo + width]) + lo
            head = head[(u[sets[head]] < cap).all(1)]
            if len(head) >= want or lo + width >= count:
                break
            width *= 4
        head = head[:want]
        late_points = np.flatnonzero(lag < behind)
        if len(late_points):
            first = rows_through(late_points)
            first = first[(u[sets[first]] < cap).all(1) & ~np.isin(first, head)]
            first = first[np.argsort(lag[sets[first]].min(1), kind="stable")]
            late = lag[sets[head]].min(1) < behind
            head = np.concatenate([first, head[late], head[~late]])
        took = list(_take_under(sets, head, u, cap))
        left[took] = False
        holes = np.flatnonzero(u < cap)
        if len(holes):
            more = rows_through(holes)
            more = more[np.lexsort((more, lag[sets[more]].sum(1)))]
            took += list(_take_under(sets, more, u, cap))
            left[took] = False
        if allowed_max(np.array([placed + len(took) + 1]), S, n_points)[0] < cap + 2:
            need = int(np.searchsorted(top, cap + 1)) - placed  # rows before L + 1 is allowed
            if not search:
                _exchange(sets, rows_of, u, cap, took, left)
            elif len(took) < need and spent < 30 * search:
                _repack_level(sets, u, cap, took, left)
                spent += _level_search(sets, rows_of, u, cap, took, left, need, search, seed=cap)
        order.append(np.array(took, dtype=np.int64))
        placed += len(took)
    return np.concatenate(order)


def _exchange(sets, rows_of, u, cap, took, left, rounds=3) -> None:
    """Fewer holes (neurons below cap) in a level: a row through a hole and one neuron at the cap
    replaces the level's row through that neuron when refilling what it frees leaves fewer holes.
    Updates u, took and left in place."""
    owner = {int(j): r for r in took for j in sets[r]}

    def put(r):
        u[sets[r]] += 1
        took.append(r)
        left[r] = False
        owner.update({int(j): r for j in sets[r]})

    def drop(r):
        u[sets[r]] -= 1
        took.remove(r)
        left[r] = True
        for j in sets[r]:
            if owner.get(int(j)) == r:
                del owner[int(j)]

    def free_rows(h):
        rs = rows_of[h]
        return rs[left[rs]]

    for _ in range(rounds):
        better = False
        for h in np.flatnonzero(u < cap).tolist():
            if u[h] >= cap:
                continue
            rs = free_rows(h)
            block = u[sets[rs]] >= cap
            for i in np.flatnonzero(block.sum(1) == 1)[:8].tolist():
                r, r2 = rs[i], owner.get(int(sets[rs[i]][block[i]][0]))
                if r2 is None:
                    continue
                before = int(np.maximum(cap - u, 0).sum())
                drop(r2)
                put(r)
                added = []
                for j in sets[r2].tolist():
                    fits = free_rows(j)
                    fits = fits[(u[sets[fits]] < cap).all(1)] if u[j] < cap else fits[:0]
                    if len(fits):
                        put(fits[0])
                        added.append(fits[0])
                if int(np.maximum(cap - u, 0).sum()) < before:
                    better = True
                    break
                for a in added[::-1]:
                    drop(a)
                drop(r)
                put(r2)
        if not better:
            break


def _repack_level(sets, u, cap, took, left) -> None:
    """The level rebuilt by most-constrained-first greedy, kept if it holds more rows: each step
    takes the fitting row whose scarcest neuron (fewest fitting rows per unit of room below the
    cap) is scarcest, the sum over its other neurons breaking ties. A random greedy packing of
    S-sets leaves many holes; this leaves fewer (D/d = 1000, S = 7, first tight level: 172 rows
    where the greedy takes 154). Updates u, took and left in place."""
    n_points = len(u)
    base = u.copy()
    np.subtract.at(base, sets[np.array(took, dtype=np.int64)].ravel(), 1)
    cand = np.concatenate([np.flatnonzero(left), np.array(took, dtype=np.int64)])
    cand = cand[(base[sets[cand]] < cap).all(1)]
    rows, v, alive, chosen = sets[cand], base.copy(), np.ones(len(cand), dtype=bool), []
    while alive.any():
        room = cap - v
        opts = np.bincount(rows[alive].ravel(), minlength=n_points) / np.maximum(room, 1)
        idx = np.flatnonzero(alive)
        scarce = np.sort(np.where(room > 0, opts, np.inf)[rows[idx]], 1)
        i = idx[int(np.argmin(scarce[:, 0] + 1e-3 * scarce[:, 1:].sum(1)))]
        chosen.append(int(cand[i]))
        v[rows[i]] += 1
        alive[i] = False
        if (v[rows[i]] >= cap).any():
            alive &= (v[rows] < cap).all(1)
    if len(chosen) > len(took):
        left[np.array(took, dtype=np.int64)] = True
        left[np.array(chosen, dtype=np.int64)] = False
        u[:] = v
        took[:] = chosen


def _level_search(sets, rows_of, u, cap, took, left, need, moves, seed=0) -> int:
    """More rows in a level short of `need` (the rows prefix_balanced needs before L + 1): plateau
    local search on its holes. A move takes a random hole, a free row through it blocked by the
    fewest (≤ 2) of the level's rows, swaps those out and refills what they free greedily; it is
    kept when the holes do not grow (plateau moves let it escape where one-row exchanges stop).
    Seeded; updates u, took and left in place; returns the moves charged to the budget (those
    tried, plus one)."""
    rng = np.random.default_rng(seed)
    owner: dict[int, set] = {}
    level = set(took)

    def put(r):
        u[sets[r]] += 1
        level.add(r)
        left[r] = False
        for j in sets[r].tolist():
            owner.setdefault(j, set()).add(r)

    def drop(r):
        u[sets[r]] -= 1
        level.discard(r)
        left[r] = True
        for j in sets[r].tolist():
            owner[j].discard(r)

    def free_rows(h):
        rs = rows_of[h]
        return rs[left[rs]]

    for r in took:
        for j in sets[r].tolist():
            owner.setdefault(j, set()).add(r)
    holes, made = int(np.maximum(cap - u, 0).sum()), 0
    for made in range(moves):  # noqa: B007 (made is returned)
        if len(level) >= need or holes == 0:
            break
        h = rng.choice(np.flatnonzero(u < cap))
        rs = free_rows(h)
        full = u[sets[rs]] >= cap
        pick, out = None, None
        for i in rng.permutation(np.flatnonzero(full.sum(1) <= 2))[:12].tolist():
            block = [owner.get(j) for j in sets[rs[i]][full[i]].tolist()]
            if all(block):
                b = set().union(*block)
                if out is None or len(b) < len(out):
                    pick, out = int(rs[i]), b
        if pick is None:
            continue
        for r in out:
            drop(r)
        put(pick)
        added = [pick]
        for r in out:
            for j in sets[r].tolist():
                fits = free_rows(j) if u[j] < cap else rows_of[j][:0]
                fits = [f for f in fits[(u[sets[fits]] < cap).all(1)].tolist() if f not in out]
                if fits:
                    added.append(fits[rng.integers(len(fits))])
                    put(added[-1])
        now = int(np.maximum(cap - u, 0).sum())
        if now <= holes:
            holes = now
            continue
        for r in added[::-1]:
            drop(r)
        for r in out:
            put(r)
    took[:] = [r for r in took if r in level] + sorted(level.difference(took))
    return made + 1


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
    """Check the guarantees and put the rows in balanced order."""
    check(sets, n_neurons)
    return Allocation(sets=sets[_smooth(sets, n_neurons)], n_neurons=n_neurons, scheme=scheme)
