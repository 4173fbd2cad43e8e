"""Compile and verification CPU time, and the decoded R² per layer at every z, for the compiler.

Cases: three user-written circuits (D=600, z ≤ 2) and the family mix of configs/compile-mix.yaml
(T=500, D=2000; z ≤ --z). Build = everything `sp.compile` / `build` does, the strict verification
included; verification = `verify_cis2` run again on the built network (the same work the build
did). Null: the same activations read with every layer's positions rolled by one circuit (each
circuit read off another's neurons), z = 1: its worst decoded R² must fall below the 0.9 the check
needs, or the check could not tell circuits apart.
Run: `nice -n 10 python benchmarks/bench_compile.py [--z 2]`; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch
from torch import nn

from superpose.base.errors import SuperposeError
from superpose.circuits.cis2_regime import _r2, decoded, verify_cis2
from superpose.circuits.compiler import build_compiled, compile
from superpose.circuits.construction import load_construction_config


def three() -> tuple[str, object]:
    torch.manual_seed(0)
    mine = [
        nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.ReLU()),
        [(torch.randn(2, 2), torch.tensor([0.5, -0.2])), (torch.randn(2, 2), torch.zeros(2))],
        nn.Sequential(nn.Linear(2, 2), nn.ReLU()),
    ]
    return "3 user circuits, D=600, z≤2", lambda: compile(mine, width=600, max_active=2)


def mix(z: int) -> tuple[str, object]:
    cfg = load_construction_config("configs/compile-mix.yaml").replace(max_active=z)
    return f"family mix T=500, D=2000, z≤{z}", lambda: build_compiled(cfg)


def null_r2(net) -> float:
    """Worst decoded R² over layers when each circuit is read off the next circuit's neurons."""
    s = net.sample(256, 1, torch.Generator().manual_seed(1))
    wrong = replace(net.net, positions=net.net.positions.roll(1, 1))
    acts, exact = net.forward(s.x), net.exact(s.x)
    worst = 1.0
    for k, A in enumerate(acts):
        v_r, _ = decoded(net.net, wrong.read(A, k)[s.active])
        v_e, _ = decoded(net.net, exact[k][s.active])
        worst = min(worst, _r2(v_r.reshape(len(v_r), -1), v_e.reshape(len(v_e), -1)))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--z", type=int, default=2, help="max_active of the family mix")
    args = ap.parse_args()
    print("| case | build CPU s | verification CPU s | decoded R² per layer, per z | null min R² |")
    print("|---|---|---|---|---|")
    for label, make in (three(), mix(args.z)):
        t0 = time.process_time()
        try:
            net = make()
        except SuperposeError as err:
            print(f"| {label} | {time.process_time() - t0:.2f} | — | refused: {err} | — |")
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
        print(f"| {label} | {build:.2f} | {verify:.2f} | {r2} | {null_r2(net):.3f} |")


if __name__ == "__main__":
    main()
