"""Allocation table for the README: fraction of the pair bound and neuron-usage balance.

For each (D/d, S): sets built (T_max), T_max / pair bound, T_max / Johnson bound (each neuron
lies in at most ⌊(N−1)/(S−1)⌋ sets, so T ≤ ⌊N⌊(N−1)/(S−1)⌋/S⌋, a proven bound never above the
pair bound), usage max/mean at T_max, the worst max/mean over every T ≤ T_max whose mean usage is
≥ 20 (below that ⌈mean⌉/mean alone exceeds 1.05 at some T), the worst excess of the max over the
best possible ⌈mean⌉ at the T with mean < 20 — these three of `family(alloc, T)`, the rows a
network of T circuits takes —, how many T it leaves unbalanced (issue 12's balance at every T),
beside how many first-T prefixes fail `prefix_balanced`, and the build's CPU seconds (the
families not counted). Run: `python benchmarks/bench_allocation.py`
(`--scheme prime` for the published scheme); prints a Markdown table. `--sweep STEP` prints instead,
per S, the lowest fraction of the pair bound over D/d = 100, 100 + STEP, …, 1000; with `--balance`
also, per S, the cells whose families are unbalanced at some T and how many T (what the full form of
`cis2-capacity` checks; hours of CPU at STEP 10, most of it in the T that stay unbalanced).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from superpose.circuits.allocation import (
    DENSE_MEAN,
    allowed_max,
    families_balanced,
    family_max_usage,
    make_allocation,
    pair_bound,
    prefix_balanced,
)

os.environ["SUPERPOSE_ALLOCATION_CACHE"] = "off"  # the build's seconds, not the cache's
GRID_N = (100, 150, 250, 500, 750, 1000)
GRID_S = range(3, 9)
NAMED = ((250, 6), (500, 5), (250, 5), (250, 4), (1000, 6), (500, 8))


def johnson_bound(n: int, size: int) -> int:
    """T ≤ ⌊N⌊(N−1)/(S−1)⌋/S⌋: each neuron is in at most ⌊(N−1)/(S−1)⌋ sets."""
    return n * ((n - 1) // (size - 1)) // size


def row(scheme: str, n: int, size: int) -> dict:
    t0 = time.process_time()
    alloc = make_allocation(scheme, n, size)
    seconds = time.process_time() - t0
    top = family_max_usage(alloc)
    T = np.arange(1, alloc.capacity + 1)
    mean = T * size / n
    dense = mean >= DENSE_MEAN
    return {
        "N": n,
        "S": size,
        "T": alloc.capacity,
        "pair": alloc.capacity / pair_bound(n, size),
        "johnson": alloc.capacity / johnson_bound(n, size),
        "full": top[-1] / mean[-1],
        "worst": float((top / mean)[dense].max()) if dense.any() else float("nan"),
        "excess": int((top - np.ceil(mean - 1e-9))[~dense].max()),
        "unbalanced": int((top > allowed_max(T, size, n)).sum()),
        "first": int((~prefix_balanced(alloc)).sum()),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheme", default="affine")
    parser.add_argument("--sweep", type=int, default=0, help="step of the D/d sweep (0: table)")
    parser.add_argument(
        "--balance", action="store_true", help="with --sweep: also the families' balance at every T"
    )
    args = parser.parse_args()
    if args.sweep:
        balance = " | cells with T unbalanced | T unbalanced / T checked | cells (T unbalanced)"
        print(
            "| S | lowest of pair bound | at D/d | D/d below 85 %"
            + (balance if args.balance else "")
            + " |"
        )
        print("|---|---|---|---" + ("|---|---|---" if args.balance else "") + "|")
        for s in GRID_S:
            allocs = {
                n: make_allocation(args.scheme, n, s)
                for n in range(100, 1001, args.sweep)
                if s * (s - 1) < n
            }
            fracs = {n: a.capacity / pair_bound(n, s) for n, a in allocs.items()}
            low = min(fracs, key=fracs.get)
            below = ", ".join(str(n) for n, f in fracs.items() if f < 0.85) or "none"
            line = f"| {s} | {fracs[low]:.1%} | {low} | {below}"
            if args.balance:
                bad = {n: int((~families_balanced(a)).sum()) for n, a in allocs.items()}
                cells = ", ".join(f"{n} ({k})" for n, k in bad.items() if k) or "none"
                checked = sum(a.capacity for a in allocs.values())
                line += f" | {sum(k > 0 for k in bad.values())} | {sum(bad.values())} / {checked} | {cells}"
            print(line + " |", flush=True)
        return
    points = [(n, s) for s in GRID_S for n in GRID_N if s * (s - 1) < n]
    points += [p for p in NAMED if p not in points]
    print(
        "| D/d | S | T_max | of pair bound | of Johnson bound | max/mean at T_max "
        "| worst max/mean (mean ≥ 20) | worst max − ⌈mean⌉ (mean < 20) | T unbalanced "
        "| first T rows unbalanced | build CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, s in points:
        r = row(args.scheme, n, s)
        named = "**" if (n, s) in NAMED else ""
        print(
            f"| {named}{n}{named} | {named}{s}{named} | {r['T']} | {r['pair']:.1%} | {r['johnson']:.1%} "
            f"| {r['full']:.3f} | {r['worst']:.3f} | {r['excess']} "
            f"| {r['unbalanced']} ({r['unbalanced'] / r['T']:.1%}) | {r['first']} "
            f"| {r['seconds']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
