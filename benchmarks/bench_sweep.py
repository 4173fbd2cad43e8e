"""Sweep engine benchmark: what the run store costs per run compared with a plain loop.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bench_sweep.py [--full]

Same as `superpose bench --only sweep-store`.
"""

from __future__ import annotations

import sys

from superpose.bench import run_benchmarks


def main() -> None:
    rows = run_benchmarks(["sweep-store"], quick="--full" not in sys.argv)
    for r in rows:
        print(
            f"{r.task:40s} ours {r.ours_s:8.3f} s  plain loop {r.reference_s:8.3f} s  "
            f"ratio {r.ratio:.2f}×  {r.note}"
        )


if __name__ == "__main__":
    main()
