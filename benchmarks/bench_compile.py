"""Compile and verification CPU time, and the decoded R² per layer at every z, for the compiler.

Cases: three user-written circuits (D=600, z ≤ 2) and the family mix of configs/compile-mix.yaml
(T=500, D=2000, z=1; --z 2 tries z ≤ 2). Compile = everything `sp.compile` / `build` does but the
strict verification; verification = `verify_cis2` run again on the built network (the same work
the build did). Run: `nice -n 10 python benchmarks/bench_compile.py`; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from superpose.base.errors import SuperposeError
from superpose.circuits.cis2_regime import verify_cis2
from superpose.circuits.compiler import build_compiled
from superpose.circuits.construction import load_construction_config


def three() -> tuple[str, object]:
    import superpose as sp

    torch.manual_seed(0)
    mine = [
        nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.ReLU()),
        [(torch.randn(2, 2), torch.tensor([0.5, -0.2])), (torch.randn(2, 2), torch.zeros(2))],
        nn.Sequential(nn.Linear(2, 2), nn.ReLU()),
    ]
    return "3 user circuits, D=600, z≤2", lambda: sp.compile(mine, width=600, max_active=2)


def mix(z: int) -> tuple[str, object]:
    cfg = load_construction_config("configs/compile-mix.yaml").replace(max_active=z)
    return f"family mix T=500, D=2000, z≤{z}", lambda: build_compiled(cfg)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--z", type=int, default=1, help="max_active of the family mix")
    args = ap.parse_args()
    print("| case | build CPU s | of which verification CPU s | decoded R² per layer, per z |")
    print("|---|---|---|---|")
    for label, make in (three(), mix(args.z)):
        t0 = time.process_time()
        try:
            net = make()
        except SuperposeError as err:
            print(f"| {label} | {time.process_time() - t0:.2f} | — | refused: {err} |")
            continue
        build = time.process_time() - t0
        cfg = net.cis2.config
        t0 = time.process_time()
        report = verify_cis2(net.net, cfg.max_active, cfg.verify_batch, cfg.seed + 2)
        verify = time.process_time() - t0
        r2 = "; ".join(
            f"z={z}: " + " ".join(f"{v:.4f}" for v in rows["r2"])
            for z, rows in report["per_z"].items()
        )
        print(f"| {label} | {build:.2f} | {verify:.2f} | {r2} |")


if __name__ == "__main__":
    main()
