"""The grid bisection shared by the capacity and width searches."""

import math

from superpose.base.search import grid_boundary


def test_grid_boundary_finds_every_boundary_in_few_evaluations():
    for n in (1, 2, 7, 25):
        for b in range(n + 1):  # points ≥ b pass (rising) or points < b pass (falling)
            seen: list[int] = []

            def rising(i: int, b=b, seen=seen) -> bool:
                seen.append(i)
                return i >= b

            got = grid_boundary(n, rising, rising=True)
            assert got == (b if b < n else None)
            assert len(set(seen)) <= 2 + math.ceil(math.log2(max(n, 2)))
            got = grid_boundary(n, lambda i, b=b: i < b, rising=False)
            assert got == (b - 1 if b > 0 else None)
