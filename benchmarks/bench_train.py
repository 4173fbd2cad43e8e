"""Time the toy trainer against the naive reference loop at the paper's sizes; write JSON.

    python benchmarks/bench_train.py [--steps 1000] [--ref-seeds 2] [--rounds 6]

1. Steady-state steps/s, reference vs ours (eager and torch.compile'd), in interleaved blocks,
   for 200→20×20 and 400→30×50 instances (AdamW, batch 1024, the geometry densities).
2. Equal final loss: whole runs of `--steps` steps at 200→20×20, ours vs the reference, with two
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

from superpose.bench.toy import SIZES, compare, steady_rates


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000, help="whole-run steps at 200→20×20")
    ap.add_argument("--ref-seeds", type=int, default=2, help="reference seeds (noise yardstick)")
    ap.add_argument("--rounds", type=int, default=6, help="interleaved timing rounds")
    ap.add_argument("--no-compile", action="store_true", help="skip the compiled variant")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "train.json")
    args = ap.parse_args()
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
    run = compare(200, 20, 20, args.steps, reference_seeds=args.ref_seeds, compile="off")
    print(
        f"{run['task']:>12} whole runs of {run['steps']} steps: ours {run['ours_steps_per_s']:.2f}"
        f" steps/s vs reference {run['reference_steps_per_s']:.2f} = {run['ratio']:.2f}x; mean "
        f"final loss ours {run['ours_mean_loss']:.4f} vs reference {run['reference_mean_loss']:.4f};"
        f" per-instance rel. diff ours-ref {run['loss_rel_diff']:.1%}"
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
    args.out.write_text(json.dumps({"meta": meta, "steady": rates, "whole_run": run}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
