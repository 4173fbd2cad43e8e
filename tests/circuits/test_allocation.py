from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from superpose.base.errors import SuperposeError
from superpose.circuits import allocation
from superpose.circuits.allocation import (
    check,
    layer_positions,
    make_allocation,
    pair_bound,
    prime_step,
)


def _pair_counts(sets, n):
    """[n(n − 1)/2] how many sets hold each pair (counted directly, not by check())."""
    pairs = np.zeros((n, n), dtype=int)
    i, j = np.triu_indices(sets.shape[1], 1)
    np.add.at(pairs, (np.sort(sets, 1)[:, i], np.sort(sets, 1)[:, j]), 1)
    return pairs[np.triu_indices(n, 1)]


def overlap_ok(sets):
    """No two sets share two neurons, i.e. no pair of neurons lies in two sets (by the sets'
    pairs, where comparing every two sets took 15 s at T = 7140)."""
    return _pair_counts(sets, int(sets.max()) + 1).max() <= 1


def test_overlap_check_catches_two_shared_neurons():
    assert overlap_ok(np.array([[0, 1, 2], [2, 3, 4], [0, 3, 5]]))
    assert not overlap_ok(np.array([[0, 1, 2], [3, 4, 5], [5, 2, 1]]))


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(7, 120),
    s=st.integers(2, 8),
    scheme=st.sampled_from(["prime", "affine", "random"]),
)
def test_guarantees_hold_for_many_sizes(n, s, scheme):
    if s * (s - 1) >= n:
        with pytest.raises(SuperposeError, match="too large"):
            make_allocation(scheme, n, s)
        return
    alloc = make_allocation(scheme, n, s, target=200)
    sets = alloc.sets
    assert sets.shape[1] == s
    assert all(len(set(row)) == s for row in sets.tolist())
    assert sets.min() >= 0 and sets.max() < n
    assert overlap_ok(sets)
    assert alloc.capacity <= pair_bound(n, s)
    assert alloc.balance()["max"] >= alloc.balance()["mean"]


def test_published_prime_counts():
    assert prime_step(250, 6).capacity == 557
    assert prime_step(500, 5).capacity == 3237
    assert pair_bound(250, 6) == 2075


def _johnson_bound(n, size):
    """Each neuron lies in at most ⌊(N−1)/(S−1)⌋ sets: a proven bound at or below the pair bound."""
    return n * ((n - 1) // (size - 1)) // size


def _prefix_max(alloc):
    """[T_max]: the most used neuron's usage among the first T rows, T = 1 … T_max."""
    return allocation.prefix_max_usage(alloc.sets, alloc.n_neurons)


# Issue 12's named points: ≥ 90 % of the pair bound, neuron usage max/mean ≤ 1.05 when all are used.
@pytest.mark.parametrize(("n", "s"), [(250, 6), (500, 5), (250, 5), (250, 4), (1000, 6), (500, 8)])
def test_affine_reaches_90_percent_of_pair_bound_balanced(n, s):
    alloc = make_allocation("affine", n, s)
    assert alloc.capacity >= 0.9 * pair_bound(n, s)
    assert alloc.capacity <= _johnson_bound(n, s)
    assert alloc.balance()["max_over_mean"] <= 1.05
    assert _pair_counts(alloc.sets, n).max() == 1  # independent of check()


@pytest.mark.parametrize(("n", "s"), [(100, 3), (150, 4), (100, 5), (500, 7), (1000, 8)])
def test_affine_reaches_85_percent_across_the_grid(n, s):
    assert make_allocation("affine", n, s).capacity >= 0.85 * pair_bound(n, s)


def _recursion_only(n, s, monkeypatch):
    """The affine build without _reach (no cyclic table, no local search) and without the
    Z_10 × Z_10 design: the null."""
    monkeypatch.setattr(allocation, "_CYCLIC", {})
    monkeypatch.setattr(allocation, "_GRID", {})
    monkeypatch.setattr(allocation, "_REACH_MAX", 0)
    return allocation._affine_plane.__wrapped__(n, s)


# Issue 12 item 3: ≥ 85 % of the pair bound in every cell of the bench's grid. The recursion alone
# leaves six below it (74–83 %); _reach raises all six past it, and off the grid (110, 5) (67 %)
# by TD(5, 23) less a whole block (_truncated_td; test_truncated_transversal_design: (470, 8)),
# (170, 6) by its cyclic table, (120, 8) (78 %) by a maximal arc (test_arc_design; (370, 8):
# test_unital_design; (290, 8): test_holey_transversal_design), (130, 7) (82 %) by TD(7, 18)
# (test_td_7_18), (170, 8) (74 %) by TD(8, 19) with a split group (test_split_td), (110, 7)
# (75 %) by an arc less 10 points (test_arc_less) and (180, 8) (80.7 % with the local search) by a
# multiplier packing over Z_181 less a point (test_multiplier_packing).
@pytest.mark.parametrize(
    ("n", "s"),
    [
        *[(100, 6), (100, 7), (150, 7), (150, 8), (100, 8), (110, 5), (170, 6)],
        pytest.param(250, 7, marks=pytest.mark.slow),  # ~12 s; its 86 %: test_cyclic_250_7_…
        *[(120, 8), (130, 7), (170, 8), (110, 7), (180, 8)],
    ],
)
def test_reach_raises_small_cells_to_85_percent(n, s, monkeypatch):
    alloc = make_allocation("affine", n, s)
    check(alloc.sets, n)
    assert alloc.capacity >= 0.85 * pair_bound(n, s)
    assert _recursion_only(n, s, monkeypatch).capacity < 0.85 * pair_bound(n, s)


def test_truncated_transversal_design():
    """(150, 8): TD(8, 19) on 152 points less 2 points of one block keeps 361 − 2·18 − 1 = 324
    blocks, a packing on 150 neurons with every neuron used; 2 points of one group (on no common
    block) would take 2·19."""
    sets, times = allocation._truncated_td(150, 8)
    check(sets, 150)
    assert (np.bincount(sets.ravel(), minlength=150) > 0).all()
    assert (times < 0.5).sum() == 324 and len(sets) >= 340
    blocks, _ = allocation._transversal(8, 19)
    one_group = np.array([0, 1])  # points (0, 0) and (0, 1)
    assert (~np.isin(blocks, one_group).any(1)).sum() == 361 - 2 * 19
    assert allocation._truncated_td(152, 8) is None  # nothing to cut: the recursion's TD(8, 19)
    # (470, 8), above the local search's _REPACK_MAX: TD(8, 59) less 2 points, 97 % of the bound,
    # where the recursion's packing (the null) holds 74 %
    allocation._packer(8).extend(470)
    sets, _ = allocation._truncated_td(470, 8)
    check(sets, 470)
    assert len(sets) >= 0.95 * pair_bound(470, 8) > 0.85 * pair_bound(470, 8)
    assert len(allocation._packer(8).build(470)[0]) < 0.8 * pair_bound(470, 8)


def _row_set(rows: np.ndarray) -> set[tuple]:
    """The rows [n, S] as a set of sorted tuples (sets compared whatever their order)."""
    return {tuple(r) for r in np.sort(rows, 1)}


def test_split_td():
    """(170, 8): TD(8, 19) with the 18 neurons past it in group 7's place on the blocks of slope
    ≥ 10, and the tabulated sets: a packing of ≥ 85 % of the pair bound, every neuron used. The
    null: on TD(8, 19) kept whole (nothing moved) the tabulated sets share pairs with its blocks
    (kept whole, it holds at most 420: the comment above _SPLIT). The allocation's rows are these
    sets, but for its balancing's substitutions (1 today); the design's blocks of slope < 10
    stay, but for the few where _even_out lets a neuron below the mean take a busier one's place
    (12 of 190 today)."""
    sets, _ = allocation._split_td(170, 8)
    check(sets, 170)
    assert len(sets) >= 0.85 * pair_bound(170, 8) and (np.bincount(sets.ravel()) > 0).all()
    blocks, slope = allocation._transversal(8, 19)
    kept = _row_set(blocks[slope < 10])
    assert len(kept & _row_set(sets)) >= 0.9 * len(kept)
    alloc = make_allocation("affine", 170, 8).sets  # its rows balanced in order: a few moved
    same = _row_set(alloc) & _row_set(sets)
    check(alloc, 170)
    assert len(alloc) == len(sets) and len(same) >= 0.95 * len(sets)
    extra = np.array(allocation._SPLIT[(170, 8)][2])
    with pytest.raises(SuperposeError):
        check(np.concatenate([blocks, extra]), 170)
    assert allocation._split_td(171, 8) is None


def test_arc_design():
    """Denniston's arc of degree 8 in PG(2, 16): 120 points, and its 255 secant lines hold every
    pair exactly once (a (120, 8, 1)-BIBD, the pair bound) in 17 parallel classes of 15, class
    after class, so the allocation's first T rows are balanced at every T. Null: the same points
    with the quadratic form's values in a set of 8 that is no additive subgroup ({0, 1, …, 6, 8}):
    lines then meet it in other numbers of points (not an arc)."""
    sets, times = allocation._arc_design(120, 8)
    assert len(sets) == 255 == pair_bound(120, 8) and (times < 0.5).all()
    assert (_pair_counts(sets, 120) == 1).all()
    classes = np.sort(sets.reshape(17, 15 * 8), 1)
    assert (classes == np.arange(120)).all()  # each class covers every neuron once
    alloc = make_allocation("affine", 120, 8)
    assert alloc.capacity == 255 and allocation.prefix_balanced(alloc).all()
    assert len(allocation._arc_design(119, 8)[0]) < 255  # the next smaller: AG(2, 8), 64 points
    assert allocation._arc_design(63, 8) is None and allocation._arc_design(120, 6) is None
    add, mul = allocation._field(16)
    t = np.arange(16)
    x, y = np.arange(256) % 16, np.arange(256) // 16
    beta = next(b for b in t[1:] if (add[add[mul[t, t], mul[b, t]], 1] != 0).all())
    form = add[add[mul[x, x], mul[beta, mul[x, y]]], mul[y, y]]
    lines, _ = allocation._affine_lines(2, 16)
    arc = np.isin(form, np.arange(8))
    assert set(np.unique(arc[lines].sum(1))) == {0, 8}
    other = np.isin(form, [0, 1, 2, 3, 4, 5, 6, 8])
    assert other.sum() == 120 and len(set(np.unique(other[lines].sum(1))) - {0, 8}) > 0


def test_arc_less():
    """(110, 7): Denniston's arc of degree 8 (120 points) less one secant's 8 points and 2 more on
    a secant through one of them. 239 secants lose at most one point (an S-set each; 16 lose two or
    more): 83.9 % of the pair bound, short of 85 % (the null, as TD(7, 16) less two points). Sets
    through a point z and the 6 points left on a secant that lost two, where z is the point its 6
    lines to them drop, lift it past 85 %."""
    sets, _ = allocation._arc_less(110, 7)
    check(sets, 110)
    assert len(sets) >= 0.85 * pair_bound(110, 7)
    lines = allocation._denniston(8, 16)
    gone = np.zeros(120, bool)
    gone[lines[0]] = True
    b = lines[np.flatnonzero((lines == lines[0][0]).any(1))[1]]
    gone[b[b != lines[0][0]][:2]] = True
    kept = gone[lines].sum(1) <= 1
    assert kept.sum() == 239 < 0.85 * pair_bound(110, 7)
    inc = np.zeros((120, len(lines)), bool)  # [point, secant]
    inc[lines, np.arange(len(lines))[:, None]] = True
    inside = inc[np.flatnonzero(~gone)[sets]].all(1).any(1)  # sets within one secant
    assert inside.sum() >= 239 and (~inside).sum() >= 4
    assert allocation._arc_less(110, 6) is None and allocation._arc_less(120, 7) is None


def test_unital_design():
    """The Hermitian unital of PG(2, 49): 344 points whose 2107 secant lines hold every pair
    once (a (344, 8, 1)-BIBD); filled on 370 neurons it passes 85 % of the pair bound, where the
    recursion and the local search stopped at 84.8 % (the allocation takes it: 2111 sets). The
    unital of PG(2, 25) likewise at S = 6: (126, 6, 1), 525 sets. Null: x^q + y^q + z^q (not the
    norm) picks a point set whose lines meet it in other numbers of points."""
    for v, s in ((344, 8), (126, 6)):
        sets, _ = allocation._unital_design(v, s)
        assert len(sets) == pair_bound(v, s) and (_pair_counts(sets, v) == 1).all()
    sets, times = allocation._unital_design(370, 8)
    check(sets, 370)
    assert (times < 0.5).sum() == 2107 and len(sets) >= 0.85 * pair_bound(370, 8)
    assert allocation._unital_design(343, 8) is None and allocation._unital_design(400, 7) is None
    add, mul = allocation._field(49)
    t = np.arange(49)
    frob = t.copy()
    for _ in range(6):
        frob = mul[frob, t]  # t^7
    x, y, z = allocation._directions(3, 49).T
    other = add[add[frob[x], frob[y]], frob[z]] == 0
    met = np.unique(other[allocation._projective_lines(2, 49)].sum(1))
    assert len(set(met) - {1, 8}) > 0


def test_holey_transversal_design():
    """Each tabulated V(m, t): for every shift k the differences a_(i+k) − a_i (the first entry
    empty, subscripts mod m + 2) lie in distinct cosets of the subgroup of order t of GF(m·t + 1).
    (290, 8): TD(8, 36) less a hole, 1271 blocks on 288 neurons, every pair of different groups
    once but the hole's (both points ∞), filled past 85 % of the pair bound, where the recursion's
    packing holds less. Null: one entry of V(6, 5) changed — the developed rows share pairs."""
    for (m, t), vec in allocation._VMT.items():
        q = m * t + 1
        w = allocation._primitive_root(q)
        log = {pow(w, e, q): e for e in range(q - 1)}
        row = [None, *vec]
        for k in range(1, m + 1):
            pairs = [(row[i], row[(i + k) % (m + 2)]) for i in range(m + 2)]
            cls = [log[(b - a) % q] % m for a, b in pairs if a is not None and b is not None]
            assert len(cls) == len(set(cls)) == m
    design, n = allocation._vmt_design(6, 5)
    assert n == 36 and len(design) == 36**2 - 5**2 == 1271
    counts = _pair_counts(design, 288)
    a, b = np.triu_indices(288, 1)
    hole = (a % 36 >= 31) & (b % 36 >= 31)
    assert (counts[(a // 36 != b // 36) & ~hole] == 1).all() and (counts[hole] == 0).all()
    allocation._packer(8).extend(290)
    sets, times = allocation._holey_td(290, 8)
    check(sets, 290)
    assert (times < 0.5).sum() == 1271
    assert len(sets) >= 0.85 * pair_bound(290, 8) > len(allocation._packer(8).build(290)[0])
    table = dict(allocation._VMT)
    table[(6, 5)] = (0, 1, 7, 30, 12, 21, 16)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(allocation, "_VMT", table)
        with pytest.raises(SuperposeError):
            check(allocation._vmt_design(6, 5)[0], 288)


def test_td_7_18():
    """Abel's quasi-difference matrix developed: 324 blocks on 7 groups of 18, every two points of
    different groups in exactly one (TD(7, 18)); filled on 130 neurons, 345 sets with every
    family balanced. Null: one element of the matrix changed — pairs repeat."""
    design = allocation._td_7_18_design()
    assert len(design) == 324 and design.max() < 126
    a, b = np.triu_indices(126, 1)
    assert (_pair_counts(design, 126)[a // 18 != b // 18] == 1).all()
    allocation._packer(7).extend(130)
    sets, times = allocation._td_7_18(130, 7)
    check(sets, 130)
    assert (times < 0.5).sum() == 324 and len(sets) == 345
    assert allocation.families_balanced(make_allocation("affine", 130, 7)).all()
    rows = list(allocation._TD_7_18)
    rows[3] = rows[3].replace("102 122", "102 121")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(allocation, "_TD_7_18", tuple(rows))
        with pytest.raises(SuperposeError):
            check(allocation._td_7_18_design(), 126)


def test_plane_subset():
    """(100, 8): 150 lines of PG(2, 13) hold ≥ 8 of the tabulated points (a random 100 of the
    183: 86–110 in 1000 draws); cut so as to share at most one neuron with each of the 3 extra
    sets, 148 of them and those 3 are a packing of 151, the allocation's rows, the same bytes in
    two builds. Cut to their first 8 points instead, the lines share pairs with the extra sets
    (check() fails)."""
    q, points, extra = allocation._PLANE[(100, 8)]
    lines = allocation._projective_lines(2, q)
    on = np.isin(lines, points).sum(1)
    assert (on >= 8).sum() == 150 and on.max() <= 10
    rng = np.random.default_rng(0)
    chance = [(np.isin(lines, rng.permutation(183)[:100]).sum(1) >= 8).sum() for _ in range(20)]
    assert max(chance) < 120
    sets, times = allocation._plane_subset(100, 8)
    check(sets, 100)
    assert (times < 0.5).sum() == len(sets) == 151
    alloc = make_allocation("affine", 100, 8).sets.copy()
    assert _row_set(alloc) == _row_set(sets)
    assert np.array_equal(allocation._affine_plane.__wrapped__(100, 8).sets, alloc)
    first = [np.searchsorted(points, np.intersect1d(line, points))[:8] for line in lines[on >= 8]]
    with pytest.raises(SuperposeError):
        check(np.concatenate([np.array(first), np.searchsorted(points, extra)]), 100)


def test_grid_design(monkeypatch):
    """(100, 5): the design over Z_10 × Z_10 is a packing of 480 sets, every neuron in 24 (the
    Johnson bound), in 24 parallel classes, so its first T rows are balanced at every T and so is
    the allocation; the recursion it replaces (the null) held 462 with 18 T unbalanced. One base
    block's point moved repeats a difference (check() fails)."""
    sets = allocation._grid_design(100, 5)
    check(sets, 100)
    assert len(sets) == 480 == _johnson_bound(100, 5)
    assert (np.bincount(sets.ravel(), minlength=100) == 24).all()
    assert all(len(np.unique(c)) == 100 for c in sets.reshape(24, 20, 5))
    alloc = make_allocation("affine", 100, 5)
    assert np.array_equal(alloc.sets, sets) and allocation.prefix_balanced(alloc).all()
    blocks, short = allocation._GRID[(100, 5)]
    moved = ((*blocks[0][0][:4], 91), blocks[0][1])  # 89 → 91: 91 − 90 = (0, 1) twice
    monkeypatch.setitem(allocation._GRID, (100, 5), ((moved, *blocks[1:]), short))
    with pytest.raises(SuperposeError):
        check(allocation._grid_design(100, 5), 100)
    null = _recursion_only(100, 5, monkeypatch)
    assert len(null.sets) == 462 and (~allocation.prefix_balanced(null)).sum() == 18


def test_reach_is_deterministic_and_keeps_the_main_rows(monkeypatch):
    """Two builds give the same bytes; the search never removes the top design's rows, so the
    first rows are the recursion's: at (100, 6), where no table applies and the local search
    takes the recursion's 274 sets to 281, the first 233 (mean usage KEEP_MEAN), after which
    _rebalance reorders and evens out the family."""
    n, s = 100, 6
    first = allocation._affine_plane.__wrapped__(n, s).sets
    again = allocation._affine_plane.__wrapped__(n, s).sets
    assert np.array_equal(again, first) and len(first) == 281
    base = _recursion_only(n, s, monkeypatch).sets
    hold = int(allocation.KEEP_MEAN * n / s)
    assert hold == 233 and np.array_equal(first[:hold], base[:hold])
    assert len(first) > len(base)


def test_cyclic_250_7_balances_every_family():
    """(250, 7): the cyclic table (5 base blocks in Z_250, no difference a multiple of 25) gives
    1250 sets, 35 per neuron, and a set in each coset of 25·Z_250: 1275 (86.0 % of the pair
    bound; the local search reached 1260), every neuron in 35 or 36, and `family` balanced at
    every T (10 T were not with the 1260); the same bytes in two builds."""
    alloc = make_allocation("affine", 250, 7)
    check(alloc.sets, 250)
    assert alloc.capacity == 1275 and set(alloc.usage().tolist()) == {35, 36}
    assert allocation.families_balanced(alloc).all()
    assert np.array_equal(allocation._affine_plane.__wrapped__(250, 7).sets, alloc.sets)


def test_multiplier_packing():
    """(180, 8): the base block B and its multiples 48·B, 48²·B in Z_181 (48 of order 3) have all
    168 differences distinct, because B's 56 fall in distinct cosets of ⟨48⟩; their 543 translates
    less the 24 through point 180 are a packing of 519 sets on 180 neurons (90.3 % of the pair
    bound, ≥ 85 % where the local search reached 80.7 %), every neuron in 23 or 24, and the
    allocation's rows. Null: B with one point moved (156 → 157) repeats a difference."""
    p, m, base = allocation._MULTIPLIER[(180, 8)]
    b = np.array(base)
    diff = (b[:, None] - b[None, :]) % p
    coset = {x: min(x * pow(m, i, p) % p for i in range(3)) for x in range(1, p)}
    assert len({coset[int(d)] for d in diff[diff > 0]}) == 56
    sets, _ = allocation._multiplier_less(180, 8)
    check(sets, 180)
    assert len(sets) == 519 >= 0.9 * pair_bound(180, 8)
    assert set(np.bincount(sets.ravel(), minlength=180).tolist()) == {23, 24}
    assert _row_set(make_allocation("affine", 180, 8).sets) == _row_set(sets)
    with pytest.raises(SuperposeError):
        check(allocation._multiplier_design(p, m, (*base[:-1], 157)), p)
    assert allocation._multiplier_less(181, 8) is None


def test_cyclic_packings_are_packings():
    """Each tabulated base-block family develops over Z_N into N·b sets, every neuron in S·b;
    a base block with one point moved repeats a difference and fails check()."""
    tables = [*allocation._CYCLIC.items(), *allocation._CYCLIC_FAMILY.items()]
    for (n, s), base in tables:
        sets = allocation._translates(np.array(base), n).reshape(-1, s)
        assert len(sets) == n * len(base)
        assert (np.bincount(sets.ravel(), minlength=n) == s * len(base)).all()
        extra = allocation._subgroup_rows(n, s)  # with the subgroup blocks: still a packing
        check(np.concatenate([sets, extra]), n)
        assert np.bincount(extra.ravel(), minlength=n).max() <= 1
    bad = np.array([[4, 10, 15, 17, 37, 58, 76]])  # (100, 7)'s first block, 75 → 76
    with pytest.raises(SuperposeError):
        check(
            np.sort((bad[:, None, :] + np.arange(100)[None, :, None]) % 100, 2).reshape(-1, 7), 100
        )


def test_difference_matrices_give_transversal_designs(monkeypatch):
    """Each tabulated difference matrix develops into TD(S, q): q² blocks covering every pair of
    neurons in different groups once (check() and the count), none inside a group; one entry
    changed repeats a difference and fails check()."""
    for q, s in allocation._DIFFERENCE:
        design = allocation._difference_design(q, s)
        check(design, s * q)
        assert len(design) == q * q and ((design // q) == np.arange(s)).all()
    cols = [list(c) for c in allocation._DIFFERENCE[(21, 7)]]
    cols[0][1] = 3  # 2 → 3: now a repeated value, so row 0 is no permutation of Z_21
    monkeypatch.setitem(allocation._DIFFERENCE, (21, 7), cols)
    with pytest.raises(SuperposeError):
        check(allocation._difference_design(21, 7), 147)


def test_affine_prefixes_stay_balanced():
    """Any first T rows: the most used neuron within 2 of the least possible maximum ⌈T·S/N⌉,
    where a random choice of T rows (a fresh subset per layer) is ≥ 6 over it."""
    n, s = 250, 6
    alloc = make_allocation("affine", n, s)
    mean = np.arange(1, alloc.capacity + 1) * s / n
    assert (_prefix_max(alloc) - np.ceil(mean - 1e-9)).max() <= 2
    T = 557
    shuffled = alloc.sets[np.random.default_rng(0).permutation(alloc.capacity)[:T]]
    assert np.bincount(shuffled.ravel(), minlength=n).max() - np.ceil(T * s / n) >= 6


@pytest.mark.xfail(
    strict=True,
    reason="15 of 2011 prefixes unbalanced: just after mean usage 20 no neuron may exceed ⌈mean⌉, "
    "so the first ~20·N/S rows must be nearly 20-regular; the first 583 rows stay the top "
    "design's classes, on 246 neurons, and the levels after them are packed short (README)",
)
def test_affine_prefix_max_over_mean_at_most_1_05():
    """Issue 12's balance at every T ≤ T_max (prefix_balanced) at D/d = 250, S = 6."""
    assert allocation.prefix_balanced(make_allocation("affine", 250, 6)).all()


@pytest.mark.parametrize(
    ("n", "s"),
    [
        *[(150, 6), (100, 6), (500, 4), (100, 3), (150, 3), (250, 3), (750, 7), (750, 4)],
        *[(150, 4), (100, 4)],
    ],
)
def test_affine_balanced_at_every_t_where_measured(n, s):
    """Cells where the first T rows are balanced at every T ≤ T_max (README table: 19 of 36 with
    (100, 5), test_grid_design; the families, `family`, in 35)."""
    assert allocation.prefix_balanced(make_allocation("affine", n, s)).all()


def test_family_balances_where_the_first_rows_do_not():
    """(250, 4) at T = 875 (mean 14.0): the first T rows put a neuron at 16 > ⌈mean⌉ + 1, the
    null; family(T) lowers it by point substitution: a packing still, balanced, deterministic,
    and where the first rows are balanced, those rows. So at every T of (250, 4), (250, 5)."""
    alloc = make_allocation("affine", 250, 4)
    cap = allocation.allowed_max(np.array([875]), 4, 250)[0]
    assert np.bincount(alloc.sets[:875].ravel(), minlength=250).max() > cap  # the null
    rows = allocation.family(alloc, 875)
    check(rows, 250)
    assert rows.shape == (875, 4) and np.bincount(rows.ravel(), minlength=250).max() <= cap
    assert np.array_equal(allocation.family(alloc, 875), rows)
    assert np.array_equal(allocation.family(alloc, 874), alloc.sets[:874])  # balanced already
    # random placement and the published scheme are kept as they are
    rand = allocation.random_sets(250, 4, target=875)
    assert not allocation.prefix_balanced(rand).all()
    assert np.array_equal(allocation.family(rand, len(rand.sets)), rand.sets)
    for n, s, first_fail in [(250, 4, 1), (250, 5, 4)]:
        alloc = make_allocation("affine", n, s)
        assert allocation.families_balanced(alloc).all()
        assert (~allocation.prefix_balanced(alloc)).sum() == first_fail


def test_family_falls_back_to_ejection_chains_then_exchanged_rows(monkeypatch):
    """The recursion's (100, 5) (without the Z_10 × Z_10 design), bound 21 (mean 20.65 and 20.75):
    at T = 413 point substitution alone leaves a neuron above the bound and ejection chains close
    it; at T = 415 neither does on the first rows, and after the exchange search they do."""
    alloc = _recursion_only(100, 5, monkeypatch)

    def top(rows):
        return np.bincount(rows.ravel(), minlength=100).max()

    for t, chains in [(413, True), (415, False)]:
        lowered = allocation._lower_top(alloc.sets[:t], 100, top=21)
        assert top(lowered) > 21  # the null: substitution alone
        assert (top(allocation._eject(lowered, 100)) <= 21) == chains
        rows = allocation.family(alloc, t)
        check(rows, 100)
        assert top(rows) <= 21


def test_family_takes_the_cyclic_packing_where_substitution_fails(monkeypatch):
    """(150, 7) at T = 446 (mean 20.8, bound 21): substitution, ejection chains and exchanged
    rows on TD(7, 21)'s 462 rows leave a neuron above 21 (the null: the cyclic table removed, and
    no redraws); the cyclic packing's first 446 rows are a packing with every neuron at most 21.
    Redrawn rows (the last step, without the table) balance it too."""
    alloc = make_allocation("affine", 150, 7)
    top = lambda rows: np.bincount(rows.ravel(), minlength=150).max()  # noqa: E731
    rows = allocation.family(alloc, 446)
    check(rows, 150)
    assert top(rows) <= 21
    assert np.array_equal(rows, allocation._cyclic(150, 7)[:446])
    monkeypatch.delitem(allocation._CYCLIC, (150, 7))
    redrawn = allocation.family(alloc, 446)
    check(redrawn, 150)
    assert top(redrawn) <= 21
    monkeypatch.setattr(allocation, "REDRAW_KINDS", 0)
    assert top(allocation.family(alloc, 446)) > 21


def test_family_takes_whole_cosets_of_a_cyclic_packing():
    """(130, 6) at T = 474 (mean 21.9, bound 22): the allocation's first rows (the null), its
    substitutions and exchanges, and the cyclic packing's first 474 translates (the second null)
    all use some neuron more than 22 times; whole cosets (B, r mod h) chosen by the integer
    program are a packing with every neuron at most 22."""
    alloc = make_allocation("affine", 130, 6)
    top = lambda rows: np.bincount(rows.ravel(), minlength=130).max()  # noqa: E731
    assert top(alloc.sets[:474]) > 22
    base = np.array(allocation._CYCLIC_FAMILY[(130, 6)])
    assert top(allocation._translates(base, 130).transpose(1, 0, 2).reshape(-1, 6)[:474]) > 22
    rows = allocation.family(alloc, 474)
    check(rows, 130)
    assert len(rows) == 474 and top(rows) <= 22


def test_subgroup_blocks_add_one_use_where_the_cyclic_packing_is_one_short(monkeypatch):
    """(160, 7) at T = 500 (mean 21.9, bound 22): the cyclic packing's 480 rows use every neuron
    21 times, too few rows (the null: without the subgroup blocks, no choice); its 20 rows
    inside the cosets of 10·Z_160 complete a packing of 500 rows, every neuron at most 22."""
    rows = allocation._coset_rows(160, 7, 500, 22)
    check(rows, 160)
    assert len(rows) == 500 and np.bincount(rows.ravel(), minlength=160).max() <= 22
    monkeypatch.setitem(allocation._SUBGROUP_BLOCKS, (160, 7), (1, ()))
    assert allocation._coset_rows(160, 7, 500, 22) is None


def test_family_adds_runs_where_the_cyclic_packing_holds_too_few_rows(monkeypatch):
    """(170, 7) at T = 531 (mean 21.9, bound 22): the cyclic packing and its subgroup blocks hold
    530 rows (the null: no choice of them reaches T); base blocks avoiding the differences 1 … 6
    leave room for a class of runs {x, …, x + 6}: 510 translates and 21 runs are a packing with
    every neuron at most 22. Runs of step 2, whose differences the blocks use, are not (the
    second null)."""
    alloc = make_allocation("affine", 170, 7)
    assert allocation._coset_rows(170, 7, 531, 22) is None
    rows = allocation.family(alloc, 531)
    check(rows, 170)
    assert len(rows) == 531 and np.bincount(rows.ravel(), minlength=170).max() <= 22
    assert np.array_equal(rows, allocation._run_rows(170, 7)[:531])
    _, blocks = allocation._RUNS[(170, 7)]
    monkeypatch.setitem(allocation._RUNS, (170, 7), ((2,), blocks))
    with pytest.raises(SuperposeError):
        check(allocation._run_rows(170, 7), 170)


def test_family_takes_a_difference_family_design_where_the_packings_hold_too_few_rows():
    """(170, 7) at T = 555 (mean 22.9, bound 23) and 578 (mean 23.8, bound 24): the cyclic
    packing, its subgroup blocks and the runs hold 534 rows. The four base blocks over GF(169)
    are a difference family: their 676 translates hold every pair of GF(169) exactly once. Less
    the tabulated rows, every point is at most one above the bound, and the unused neuron 169
    takes one place of each such point (_fresh): a packing of T rows, every neuron at most the
    bound. The null: leaving out the last rows instead, the points above the bound are too many
    or too far above it for _fresh."""
    q, _ = allocation._DESIGN[(170, 7)]
    left_out = allocation._LEFT_OUT[(170, 7)]
    design = allocation._design(170, 7)
    check(design, 170)
    assert len(design) * 21 == q * (q - 1) // 2  # every pair once
    assert len(allocation._run_rows(170, 7)) < 555
    alloc = make_allocation("affine", 170, 7)
    assert np.array_equal(allocation.family(alloc, 555), allocation._design_rows(170, 7, 555, 23))
    for T, cap in ((555, 23), (578, 24)):
        rows = allocation._design_rows(170, 7, T, cap)
        check(rows, 170)
        assert len(rows) == T and np.bincount(rows.ravel(), minlength=170).max() <= cap
        kept = np.delete(design, list(left_out[T]), 0)
        assert np.bincount(kept.ravel(), minlength=170).max() == cap + 1  # _fresh lowers them
        assert allocation._fresh(design[:T], 170, cap) is None  # the null
    # (180, 8) at T = 492 (bound 22): the multiplier packing over Z_181 less the rows through 179
    # and 180 leaves neuron 179 unused; less 4 more rows, 14 neurons at 23 give it a place each
    design = allocation._design(180, 8)
    check(design, 180)
    for T in (489, 492):
        rows = allocation._design_rows(180, 8, T, 22)
        check(rows, 180)
        assert len(rows) == T and np.bincount(rows.ravel(), minlength=180).max() <= 22
        assert allocation._fresh(design[:T], 180, 22) is None  # the null


@pytest.mark.slow  # ~15 s; _redraw also runs in the (190, 8) and (150, 7) tests
def test_family_redraws_whole_rows_where_substitution_fails():
    """(300, 7) at T_max = 1902 (mean 44.4, bound 46): one neuron is used 47 times in the whole
    allocation, and neither point substitution nor ejection chains lower it (the null); _redraw
    gives one of its rows to 7 neurons used less, no two sharing a row once it is gone: a
    packing of 1902 rows, every neuron at most 46, the same in a second call."""
    alloc = make_allocation("affine", 300, 7)
    top = lambda rows: np.bincount(rows.ravel(), minlength=300).max()  # noqa: E731
    assert alloc.capacity == 1902 and top(alloc.sets) == 47
    lowered = allocation._eject(allocation._lower_top(alloc.sets, 300, top=46), 300)
    assert top(lowered) == 47  # the null
    rows = allocation.family(alloc, 1902)
    check(rows, 300)
    assert len(rows) == 1902 and top(rows) == 46
    assert (rows != lowered).any(1).sum() >= 1
    assert np.array_equal(allocation.family(alloc, 1902), rows)


def test_redraw_moves_sideways_and_uphill_where_no_redraw_lowers(monkeypatch):
    """(190, 8) at T = 494 (mean 20.8, bound 21): the substituted rows keep a neuron at 22, and
    so do redraws that must each lower the usage above the bound (the null: REDRAW_KINDS = 1);
    with sideways and uphill moves (tabu search) the family is a packing, every neuron ≤ 21."""
    alloc = make_allocation("affine", 190, 8)
    top = lambda rows: np.bincount(rows.ravel(), minlength=190).max()  # noqa: E731
    rows = allocation.family(alloc, 494)
    check(rows, 190)
    assert len(rows) == 494 and top(rows) <= 21
    monkeypatch.setattr(allocation, "REDRAW_KINDS", 1)
    assert top(allocation.family(alloc, 494)) > 21


def test_family_balances_where_no_subset_of_the_rows_can():
    """(500, 7) at T = 1492 (mean 20.9, bound 21): 3 neurons outside the top design lie in few
    rows, so Σ min(usage at T_max, 21) < S·T — no T of the allocation's rows are balanced (the
    null) —, but point substitution makes new rows: the family is a packing and balanced."""
    alloc = make_allocation("affine", 500, 7)
    assert np.minimum(alloc.usage(), 21).sum() < 7 * 1492  # the null
    rows = allocation.family(alloc, 1492)
    check(rows, 500)
    assert np.bincount(rows.ravel(), minlength=500).max() <= 21


def test_rebalance_fills_short_levels(monkeypatch):
    """(250, 6): _rebalance (levels short of rows repacked most-constrained-first and searched)
    leaves ≤ 20 T unbalanced (15 measured) where the level order with one-row exchanges alone, the
    null, leaves ≥ 50 (53); the first 583 rows (mean usage KEEP_MEAN) are the null's."""
    alloc = make_allocation("affine", 250, 6)
    monkeypatch.setattr(allocation, "_rebalance", lambda best, fails, hold: best)
    null = allocation._affine_plane.__wrapped__(250, 6)
    check(alloc.sets, 250)
    assert np.array_equal(alloc.sets[:583], null.sets[:583])
    assert (~allocation.prefix_balanced(alloc)).sum() <= 20
    assert (~allocation.prefix_balanced(null)).sum() >= 50


def test_lower_top_makes_the_last_t_balanceable(monkeypatch):
    """(100, 4) before _rebalance: 32 of mean 30.4 (1.051) at T_max, so no order passes at the last
    T; lowering the most used by point substitution keeps the guarantees and the first 350 rows
    and reaches 31 (1.018)."""
    monkeypatch.setattr(allocation, "_rebalance", lambda best, fails, hold: best)
    sets = allocation._even_out(allocation._affine_plane.__wrapped__(100, 4).sets, 100, protect=350)
    lower = allocation._lower_top(sets, 100, protect=350)
    check(lower, 100)
    assert np.array_equal(lower[:350], sets[:350])
    assert np.bincount(sets.ravel(), minlength=100).max() / (len(sets) * 4 / 100) > 1.05
    assert np.bincount(lower.ravel(), minlength=100).max() / (len(sets) * 4 / 100) <= 1.05


@pytest.mark.slow  # ~14 s: builds (250, 7) twice; ejection chains also run in the (100, 5) test
def test_eject_balances_250_7_at_t_max(monkeypatch):
    """(250, 7) from the recursion and local search: no single substitution lowers the 8
    neurons used 38 times (mean 35.28, 1.05·mean = 37.04), so without _eject (the null) no order
    passes at T_max (1.077) and 407 T fail; ejection chains take them to 37 (1.049 ≤ 1.05) and
    341 T fail (≤ 350 asserted), keeping the 1260 sets, the guarantees and the first 500 rows
    (mean usage KEEP_MEAN). Built without the cyclic table, which now gives (250, 7) 1275 sets."""
    monkeypatch.delitem(allocation._CYCLIC, (250, 7))
    alloc = allocation._affine_plane.__wrapped__(250, 7)
    monkeypatch.setattr(allocation, "_eject", lambda sets, n_points, protect=0: sets)
    null = allocation._affine_plane.__wrapped__(250, 7)
    check(alloc.sets, 250)
    assert alloc.capacity == null.capacity == 1260
    assert np.array_equal(alloc.sets[:500], null.sets[:500])
    assert alloc.balance()["max_over_mean"] <= 1.05 < null.balance()["max_over_mean"]
    assert (~allocation.prefix_balanced(alloc)).sum() <= 350
    assert (~allocation.prefix_balanced(null)).sum() >= 400


def test_order_can_balance_is_necessary():
    """A neuron in no set keeps the mean ≥ 20 below what a max one above ⌈mean⌉ needs: no order
    of AG(2, 23)'s lines plus 10 unused neurons is balanced, and prefix_balanced agrees."""
    lines, direction = allocation._affine_lines(2, 23)
    by_class = lines[np.argsort(direction, kind="stable")]
    assert allocation.order_can_balance(by_class, 529)
    assert not allocation.order_can_balance(by_class, 539)
    assert not allocation.prefix_balanced(allocation.Allocation(by_class, 539, "affine")).all()


def test_even_out_lifts_the_least_used_and_keeps_the_guarantees():
    """Point substitution: neurons in no set take the place of more used ones in late sets; the
    first `protect` sets stay, pairwise overlap stays ≤ 1, the usage spread narrows."""
    sets = make_allocation("affine", 120, 5).sets
    n = 124  # four neurons in no set
    even = allocation._even_out(sets, n, protect=100)
    check(even, n)
    assert np.array_equal(even[:100], sets[:100])
    before, after = np.bincount(sets.ravel(), minlength=n), np.bincount(even.ravel(), minlength=n)
    assert before.min() == 0 and after.min() >= 0.7 * before.mean()  # 0 → 19 of mean 25.6
    assert after.max() <= before.max()


def test_affine_keeps_its_first_rows_at_the_reference():
    """D/d = 250, S = 6: the first 557 rows (cis2-errors' family) stay whole parallel classes of
    the top design, on 246 of the 250 neurons, usage 13 or 14 (the level order starts later)."""
    u = np.bincount(make_allocation("affine", 250, 6).sets[:557].ravel(), minlength=250)
    assert (u > 0).sum() == 246 and set(u[u > 0]) == {13, 14}


def test_prefix_balanced_flips_on_order():
    """prefix_balanced on AG(2, 23)'s lines (552 sets of 23 on 529 points, mean usage up to 24):
    parallel class after class keeps the max at ⌈mean⌉ at every T; shuffled, it does not."""
    lines, direction = allocation._affine_lines(2, 23)
    by_class = lines[np.argsort(direction, kind="stable")]
    assert allocation.prefix_balanced(allocation.Allocation(by_class, 529, "affine")).all()
    shuffled = by_class[np.random.default_rng(0).permutation(len(lines))]
    assert not allocation.prefix_balanced(allocation.Allocation(shuffled, 529, "affine")).all()


def test_affine_is_deterministic_and_fields_are_fields():
    first = make_allocation("affine", 300, 5).sets.copy()
    allocation._packer.cache_clear()
    assert np.array_equal(allocation._affine_plane.__wrapped__(300, 5).sets, first)
    for q in (4, 8, 9, 16, 25, 27):
        add, mul = allocation._field(q)
        nonzero = mul[1:, 1:]
        assert (np.sort(nonzero, 1) == np.arange(1, q)).all()  # every non-zero has an inverse
        assert (np.sort(add, 1) == np.arange(q)).all()
        a, b, c = np.meshgrid(np.arange(q), np.arange(q), np.arange(q), indexing="ij")
        assert (mul[a, add[b, c]] == add[mul[a, b], mul[a, c]]).all()  # distributive


def test_check_rejects_double_overlap_and_repeats():
    with pytest.raises(SuperposeError, match="more than one"):
        check(np.array([[0, 1, 2], [0, 1, 3]]), 10)
    with pytest.raises(SuperposeError, match="repeated"):
        check(np.array([[0, 0, 2]]), 10)


def test_layer_positions_repermute_and_limit():
    alloc = make_allocation("prime", 250, 6)
    pos = layer_positions(alloc, 500, 3, torch.Generator().manual_seed(0))
    assert pos.shape == (3, 500, 6)
    assert not torch.equal(pos[0], pos[1])
    with pytest.raises(SuperposeError, match="exceeds the prime allocation's maximum 557"):
        layer_positions(alloc, 558, 1, torch.Generator())


def test_unknown_scheme():
    with pytest.raises(SuperposeError, match="known: prime, affine, random"):
        make_allocation("magic", 100, 3)


def test_allocation_cache_reads_back_what_was_built_and_nothing_damaged(tmp_path, monkeypatch):
    """A build kept in the cache folder is read back by the next process (here: the in-process
    caches cleared and the builder made to fail) with the same bytes; a damaged file is built
    again and replaced, never read; "off" and N < KEEP_FROM always build; another source (or
    numpy) gives another file."""
    monkeypatch.setenv(allocation.CACHE_ENV, str(tmp_path))
    allocation._affine_kept.cache_clear()
    built = allocation.affine_plane(100, 3).sets
    (kept,) = tmp_path.iterdir()

    def cannot_build(n, s):
        raise AssertionError("built again")

    monkeypatch.setattr(allocation, "_affine_plane", cannot_build)
    allocation._affine_kept.cache_clear()
    assert np.array_equal(allocation.affine_plane(100, 3).sets, built)  # read back
    whole = kept.read_bytes()
    changed = built.copy()
    changed[0, 0] = changed[0, 1]
    with np.load(kept) as arrays:  # a readable file whose rows are not the ones its digest names
        allocation._save_npz(kept, sets=changed, sha256=arrays["sha256"])
    for damaged in (kept.read_bytes(), whole[: len(whole) // 2], whole[:-40] + bytes(40), b""):
        kept.write_bytes(damaged)
        allocation._affine_kept.cache_clear()
        with pytest.raises(AssertionError, match="built again"):
            allocation.affine_plane(100, 3)
    monkeypatch.undo()
    monkeypatch.setenv(allocation.CACHE_ENV, str(tmp_path))
    allocation._affine_kept.cache_clear()
    assert np.array_equal(allocation.affine_plane(100, 3).sets, built)
    assert kept.read_bytes() == whole  # replaced whole
    for env, n in (("off", 100), (str(tmp_path), 99)):
        monkeypatch.setenv(allocation.CACHE_ENV, env)
        assert allocation._kept_path(n, 3) is None
    monkeypatch.setenv(allocation.CACHE_ENV, str(tmp_path))
    other = tmp_path / "other.py"
    other.write_bytes(Path(allocation.__file__).read_bytes() + b"\n")
    monkeypatch.setattr(allocation, "__file__", str(other))
    assert allocation._kept_path(100, 3) != kept
    allocation._affine_kept.cache_clear()
