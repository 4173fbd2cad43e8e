"""Phase-diagram speed: exact-loss batched training vs sampled training on the same grid points.

Run: `python benchmarks/bench_phase.py [--full]` (also `superpose bench --only phase-diagram`).
"""

from __future__ import annotations

import sys

from superpose.bench import run_benchmarks


def main() -> None:
    quick = "--full" not in sys.argv[1:]
    for row in run_benchmarks(["phase-diagram"], quick=quick):
        print(
            f"{row.task}: exact {row.ours_s:.2f} s, sampled {row.reference_s:.2f} s, "
            f"speed-up {row.ratio:.1f}x ({row.note})"
        )


if __name__ == "__main__":
    main()
