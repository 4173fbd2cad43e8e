"""Bisection over a sorted grid for where a monotone test starts (or stops) passing."""

from __future__ import annotations

from collections.abc import Callable


def grid_boundary(n: int, passes: Callable[[int], bool], *, rising: bool) -> int | None:
    """The passing grid index next to the boundary of a monotone test on indices 0..n-1.

    rising: fails below the boundary and passes above it → the first passing index;
    falling: passes below and fails above → the last passing index. None when none passes.
    The far end is tested first (if it fails nothing passes), then the near end, then the gap
    is halved (mid = (lo + hi) // 2); callers that cache `passes` and record what they
    evaluated get the same points in the same order every time.
    """
    lo, hi = 0, n - 1
    far, near = (hi, lo) if rising else (lo, hi)
    if not passes(far):
        return None
    if passes(near):
        return near
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if passes(mid) == rising:
            hi = mid
        else:
            lo = mid
    return hi if rising else lo
