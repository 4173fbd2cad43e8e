"""Allocation table for the README: fraction of the pair bound and neuron-usage balance.

For each (D/d, S): sets built (T_max), T_max / pair bound, T_max / Johnson bound (each neuron
lies in at most ⌊(N−1)/(S−1)⌋ sets, so T ≤ ⌊N⌊(N−1)/(S−1)⌋/S⌋, a proven bound never above the
pair bound), usage max/mean at T_max, the worst max/mean over every T ≤ T_max whose mean usage is
≥ 20 (below that ⌈mean⌉/mean alone exceeds 1.05), the worst excess of the max over the best
possible ⌈mean⌉ at any T, and the build time. Run: `python benchmarks/bench_allocation.py`
(`--scheme prime` for the published scheme); prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from superpose.circuits.allocation import make_allocation, pair_bound

GRID_N = (100, 150, 250, 500, 750, 1000)
GRID_S = range(3, 9)
NAMED = ((250, 6), (500, 5), (250, 5), (250, 4), (1000, 6), (500, 8))


def johnson_bound(n: int, size: int) -> int:
    """T ≤ ⌊N⌊(N−1)/(S−1)⌋/S⌋: each neuron is in at most ⌊(N−1)/(S−1)⌋ sets."""
    return n * ((n - 1) // (size - 1)) // size


def prefix_max_usage(sets: np.ndarray, n: int) -> np.ndarray:
    """[T_max]: the largest neuron usage among the first T sets, for T = 1 … T_max."""
    flat = sets.ravel()
    when = np.repeat(np.arange(len(sets)), sets.shape[1])
    order = np.argsort(flat, kind="stable")  # by neuron, then by set index
    start = np.searchsorted(flat[order], np.arange(n))
    rank = np.arange(len(flat)) - np.repeat(start, np.bincount(flat, minlength=n))
    first = np.full(rank.max() + 1, len(sets))
    np.minimum.at(first, rank, when[order])  # the first set at which some neuron reaches usage j+1
    return np.searchsorted(np.sort(first), np.arange(len(sets)), side="right")


def row(scheme: str, n: int, size: int) -> dict:
    t0 = time.perf_counter()
    alloc = make_allocation(scheme, n, size)
    seconds = time.perf_counter() - t0
    top = prefix_max_usage(alloc.sets, n)
    T = np.arange(1, alloc.capacity + 1)
    mean = T * size / n
    dense = mean >= 20
    return {
        "N": n,
        "S": size,
        "T": alloc.capacity,
        "pair": alloc.capacity / pair_bound(n, size),
        "johnson": alloc.capacity / johnson_bound(n, size),
        "full": top[-1] / mean[-1],
        "worst": float((top / mean)[dense].max()) if dense.any() else float("nan"),
        "excess": int((top - np.ceil(mean - 1e-9)).max()),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheme", default="affine")
    args = parser.parse_args()
    points = [(n, s) for s in GRID_S for n in GRID_N if s * (s - 1) < n]
    points += [p for p in NAMED if p not in points]
    print(
        "| D/d | S | T_max | of pair bound | of Johnson bound | max/mean at T_max "
        "| worst max/mean (mean ≥ 20) | worst max − ⌈mean⌉ | build s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n, s in points:
        r = row(args.scheme, n, s)
        named = "**" if (n, s) in NAMED else ""
        print(
            f"| {named}{n}{named} | {named}{s}{named} | {r['T']} | {r['pair']:.1%} | {r['johnson']:.1%} "
            f"| {r['full']:.3f} | {r['worst']:.3f} | {r['excess']} | {r['seconds']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
