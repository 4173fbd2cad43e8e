"""Time the toy trainer against the naive reference loop at the paper's sizes; write JSON.

    python benchmarks/bench_train.py [--steps 1000] [--run-steps 10000] [--ref-seeds 2]

1. Whole training runs of `--run-steps` steps with our default (native) step, for 200→20×20 and
   400→30×50 instances (AdamW, batch 1024, the geometry densities), with reference steps timed
   between chunks of the run: the issue's measure (steps/s over a fixed number of steps).
2. First-step rates right after initialisation, reference vs ours (native, eager PyTorch and
   torch.compile'd), in interleaved blocks.
3. Equal final loss: whole runs of `--steps` steps at 200→20×20, ours vs the reference, with two
   reference seeds (their gap is the noise yardstick).
Writes benchmarks/results/train.json. On a loaded machine compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from superpose.bench.toy import SIZES, compare, steady_rates, whole_run


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000, help="equal-loss runs at 200→20×20")
    ap.add_argument("--run-steps", type=int, default=10_000, help="timed whole-run steps")
    ap.add_argument("--ref-seeds", type=int, default=2, help="reference seeds (noise yardstick)")
    ap.add_argument("--rounds", type=int, default=6, help="interleaved timing rounds")
    ap.add_argument("--no-compile", action="store_true", help="skip the compiled variant")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "train.json")
    args = ap.parse_args()
    runs = []
    for size, ref_block in zip(SIZES, (5, 2), strict=True):
        r = whole_run(*size, args.run_steps, chunks=20, ref_block=ref_block)
        runs.append(r)
        print(
            f"{r['task']:>12}: whole run of {r['steps']} steps ({r['kernel']}) "
            f"{r['ours_steps_per_s']:.2f} steps/s vs reference {r['reference_steps_per_s']:.2f}"
            f" = {r['ratio']:.2f}x",
            flush=True,
        )
    rates = []
    for size, block in zip(SIZES, (5, 2), strict=True):
        r = steady_rates(*size, rounds=args.rounds, block=block, compile=not args.no_compile)
        rates.append(r)
        sps = r["steps_per_s"]
        print(
            f"{r['task']:>12}: reference {sps['reference']:.2f} steps/s; "
            + "; ".join(f"{k} {sps[k]:.2f} steps/s = {v:.2f}x" for k, v in r["ratio"].items())
            + (
                f" (compile warm-up {r['compile_warmup_s']:.0f} s)"
                if "compile_warmup_s" in r
                else ""
            ),
            flush=True,
        )
    run = compare(200, 20, 20, args.steps, reference_seeds=args.ref_seeds)
    print(
        f"{run['task']:>12} whole runs of {run['steps']} steps: ours {run['ours_steps_per_s']:.2f}"
        f" steps/s vs reference {run['reference_steps_per_s']:.2f} = {run['ratio']:.2f}x; mean "
        f"final loss ours {run['ours_mean_loss']:.4f} vs reference {run['reference_mean_loss']:.4f};"
        f" per-instance rel. diff ours-ref {run['loss_rel_diff']:.1%}, ours from the reference's"
        f" initial weights-ref {run['same_init_rel_diff']:.1%}"
        + (
            f", ref seed0-seed1 {run['reference_seed_rel_diff']:.1%}"
            if "reference_seed_rel_diff" in run
            else ""
        )
    )
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "note": "shared, loaded machine: ratios are meaningful, absolute times are not",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"meta": meta, "whole_runs": runs, "first_steps": rates, "equal_loss": run}
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
