"""CiS2 structured forward: time and peak memory vs T and D (each run in a fresh process).

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/bench_circuits.py [--quick] [--out DIR]

Writes DIR/bench_circuits.json and DIR/bench_circuits.png. Expectation: time and memory grow about
linearly in T·d·S (the number of stored embedding entries), not with D².
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from superpose.base.fitting import fit_loglog
from superpose.bench.circuits import structured_run_subprocess
from superpose.plots import plt, save_figure


def plot(result: dict, path: Path) -> None:
    """Forward time and peak memory against T (D fixed) and D (T fixed), log-log."""
    vs_T, vs_D = result["vs_T"], result["vs_D"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, unit in (
        (axes[0], "forward_s", "forward time (s)"),
        (axes[1], "peak_gib", "peak RSS (GiB)"),
    ):
        ax.plot(
            [r["circuits"] for r in vs_T],
            [r[key] for r in vs_T],
            "o-",
            label=f"vs T (D={vs_T[0]['width']})",
        )
        ax.plot(
            [r["width"] for r in vs_D],
            [r[key] for r in vs_D],
            "s-",
            label=f"vs D (T={vs_D[0]['circuits']})",
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("T (circuits) or D (width)")
        ax.set_ylabel(unit)
        ax.set_title(unit)
        ax.legend()
        ax.grid(alpha=0.3, which="both")
    fig.suptitle(
        "CiS2 structured forward, L=5, batch 256 (shared 2-core machine; peak includes build)"
    )
    fig.tight_layout()
    save_figure(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a minute or so)")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results"), help="output folder"
    )
    parser.add_argument(
        "--replot", action="store_true", help="redraw the figure from the JSON in --out"
    )
    args = parser.parse_args()
    if args.replot:
        plot(
            json.loads((args.out / "bench_circuits.json").read_text()),
            args.out / "bench_circuits.png",
        )
        return
    if args.quick:
        T_grid, D_fixed = [2000, 4000, 8000], 4000
        D_grid, T_fixed = [2000, 4000, 8000], 2000
    else:
        T_grid, D_fixed = [6250, 12_500, 25_000, 50_000], 10_000
        D_grid, T_fixed = [5000, 10_000, 20_000, 40_000], 10_000
    vs_T = [structured_run_subprocess(T, D_fixed) for T in T_grid]
    vs_D = [structured_run_subprocess(T_fixed, D) for D in D_grid]
    result = {
        "vs_T": vs_T,
        "vs_D": vs_D,
        "slopes": {
            "forward_s vs T": fit_loglog(T_grid, [r["forward_s"] for r in vs_T])[0],
            "forward_s vs D": fit_loglog(D_grid, [r["forward_s"] for r in vs_D])[0],
            "peak_gib vs T": fit_loglog(T_grid, [r["peak_gib"] for r in vs_T])[0],
            "peak_gib vs D": fit_loglog(D_grid, [r["peak_gib"] for r in vs_D])[0],
        },
        "note": "timings on a shared machine; peak is the whole process's max RSS (includes torch itself)",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_circuits.json").write_text(json.dumps(result, indent=2))
    plot(result, args.out / "bench_circuits.png")
    print(json.dumps(result["slopes"], indent=2))


if __name__ == "__main__":
    main()
