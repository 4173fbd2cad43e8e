"""Where a training step's time goes: torch.profiler over our eager step, grouped by kind of work.

    python benchmarks/profile_train.py [--steps 10]

Profiles `superpose.toy.train.train_step` (sampling, hand-written gradients, fused AdamW) at the
geometry sizes 200→20×20 and 400→30×50 (batch 1024) and prints each category's share of the CPU
time. The results are written up in benchmarks/profile_train.md.
"""

from __future__ import annotations

import argparse

import torch
from torch.profiler import profile

from superpose.bench.toy import SIZES, geometry_config
from superpose.device import make_generator
from superpose.features import FeatureDistribution
from superpose.toy.models import ToyModel
from superpose.toy.train import importance_tensor, make_optimizer, train_step

CATEGORIES = {
    "matmul (bmm)": ("aten::bmm", "aten::mm", "aten::baddbmm"),
    "random numbers": ("aten::uniform_", "aten::random_", "aten::normal_"),
    "scatter of active entries": (
        "aten::index_put_",
        "aten::_index_put_impl_",
        "aten::index_copy_",
    ),
    "zero fill": ("aten::fill_", "aten::zero_"),
    "optimizer": ("aten::_fused_adamw_", "aten::_foreach"),
}


def category(name: str) -> str:
    for cat, names in CATEGORIES.items():
        if any(name.startswith(n) for n in names):
            return cat
    return "other elementwise / small ops"


def profile_size(n: int, m: int, inst: int, steps: int) -> tuple[dict[str, float], list]:
    cfg = geometry_config(n, m, inst, steps)
    gen = make_generator(0, torch.device("cpu"))
    dist = FeatureDistribution(cfg.features, inst, n)
    model = ToyModel("relu_output", inst, n, m, gen)
    opt = make_optimizer(model, cfg.train)
    imp = importance_tensor(cfg)
    for _ in range(2):
        train_step(model, opt, dist, imp, cfg.train, gen)
    with profile() as prof:
        for _ in range(steps):
            train_step(model, opt, dist, imp, cfg.train, gen)
    shares: dict[str, float] = {}
    for ev in prof.key_averages():
        shares[category(ev.key)] = shares.get(category(ev.key), 0.0) + ev.self_cpu_time_total
    total = sum(shares.values())
    top = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:8]
    ops = [(e.key, e.self_cpu_time_total / total, e.count // steps) for e in top]
    return {k: v / total for k, v in sorted(shares.items(), key=lambda kv: -kv[1])} | {
        "ms per step": total / 1e3 / steps
    }, ops


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--steps", type=int, default=10)
    args = ap.parse_args()
    for n, m, inst in SIZES:
        shares, ops = profile_size(n, m, inst, args.steps)
        print(f"{n}→{m}×{inst}: {shares.pop('ms per step'):.1f} ms per step (profiled)")
        for k, v in shares.items():
            print(f"  {k:<32} {v:6.1%}")
        print("  top ops: " + ", ".join(f"{k} {v:.1%} ({c}/step)" for k, v, c in ops))


if __name__ == "__main__":
    main()
