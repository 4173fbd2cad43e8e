import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from superpose.base.errors import SuperposeError
from superpose.circuits.allocation import (
    check,
    layer_positions,
    make_allocation,
    pair_bound,
    prime_step,
)


def brute_overlap_ok(sets):
    return all(len(set(a) & set(b)) <= 1 for a, b in itertools.combinations(sets.tolist(), 2))


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(7, 90), s=st.integers(2, 6), scheme=st.sampled_from(["prime", "affine", "random"])
)
def test_guarantees_hold_for_many_sizes(n, s, scheme):
    if s * (s - 1) >= n:
        with pytest.raises(SuperposeError, match="too large"):
            make_allocation(scheme, n, s)
        return
    try:
        alloc = make_allocation(scheme, n, s, target=200)
    except SuperposeError as err:  # affine needs a prime q in [S, N/S]
        assert "affine" in str(err)
        return
    sets = alloc.sets
    assert sets.shape[1] == s
    assert all(len(set(row)) == s for row in sets.tolist())
    assert sets.min() >= 0 and sets.max() < n
    assert brute_overlap_ok(sets)
    assert alloc.capacity <= pair_bound(n, s)
    assert alloc.balance()["max"] >= alloc.balance()["mean"]


def test_published_prime_counts():
    assert prime_step(250, 6).capacity == 557
    assert prime_step(500, 5).capacity == 3237
    assert pair_bound(250, 6) == 2075


def test_affine_reaches_80_percent_of_bound():
    alloc = make_allocation("affine", 250, 6)
    assert alloc.capacity >= 0.8 * pair_bound(250, 6)
    assert alloc.capacity == 1717
    assert alloc.balance()["max_over_mean"] < 1.05  # near-perfect balance


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
