"""Time the toy trainer against the naive reference loop at the paper's sizes; write JSON.

    python benchmarks/bench_train.py [--steps 2000] [--big-steps 200] [--ref-seeds 2]

Runs 200→20×20 instances (with two reference seeds: their loss difference is the noise yardstick for
"equal final loss") and 400→30×50 instances, both in this process, and writes
benchmarks/results/train.json. Timings on a loaded machine: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from superpose.bench.toy import compare


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000, help="steps for 200→20×20")
    ap.add_argument("--big-steps", type=int, default=200, help="steps for 400→30×50")
    ap.add_argument("--ref-seeds", type=int, default=2, help="reference seeds for 200→20×20")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "train.json")
    args = ap.parse_args()
    results = [
        compare(200, 20, 20, args.steps, reference_seeds=args.ref_seeds),
        compare(400, 30, 50, args.big_steps),
    ]
    for r in results:
        noise = r.get("reference_seed_rel_diff")
        print(
            f"{r['task']:>12} {r['steps']:>5} steps: ours {r['ours_steps_per_s']:.2f} steps/s, "
            f"reference {r['reference_steps_per_s']:.2f} steps/s, ratio {r['ratio']:.2f}x; "
            f"final-loss rel. diff ours-ref {r['loss_rel_diff']:.2%}"
            + ("" if noise is None else f", ref seed0-seed1 {noise:.2%}")
        )
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "cpus": __import__("os").cpu_count(),
        "note": "shared, loaded machine: ratios are meaningful, absolute times are not",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
