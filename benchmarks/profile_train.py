"""Where a training step's time goes, for the native step and for the PyTorch step.

    python benchmarks/profile_train.py [--steps 10] [--warm 2000]

At the geometry sizes 200→20×20 and 400→30×50 (batch 1024):

1. Native step (the default on the CPU), after `--warm` training steps: the share of a step spent
   in the C kernel, in AdamW and in the rest (Python); then the kernel's time per instance, one
   instance at a time on one thread, summed by the path each density takes (blocks of samples,
   per sample with vector draws, per sample with geometric skipping), at initialisation and
   after the warm-up (the kernel's cost falls as sparse models settle).
2. PyTorch step (CUDA, and features the kernel does not draw): torch.profiler's self CPU time by
   kind of work.

The results are written up in benchmarks/profile_train.md.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.profiler import profile

from superpose.bench.toy import SIZES, GeometryLoop
from superpose.features import FeatureConfig, FeatureDistribution
from superpose.toy.native import NativeStep, library
from superpose.toy.threads import torch_threads
from superpose.toy.train import optimizer_step

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

# the kernel's paths by the instance's density (native_step.c: BLOCK_FROM, DRAW_DENSE_FROM)
PATHS = (
    (0.1, "blocks of 8 samples (p ≥ 0.1)"),
    (0.02, "per sample, vector draws (0.02 ≤ p < 0.1)"),
    (0.0, "per sample, geometric skips (p < 0.02)"),
)


def category(name: str) -> str:
    for cat, names in CATEGORIES.items():
        if any(name.startswith(n) for n in names):
            return cat
    return "other elementwise / small ops"


def per_instance_ms(model, dist, imp, gen, reps: int = 5) -> list[tuple[float, float]]:
    """(density, ms per step) of each instance alone on one thread."""
    out = []
    for i in range(model.n_instances):
        sub = model.select_instances(torch.tensor([i]))
        density = dist.density[i : i + 1]
        one = FeatureDistribution(
            FeatureConfig(sparsity=(1 - density).tolist()), 1, dist.n_features
        )
        step = NativeStep(library(model.n_hidden), sub, one, imp[i : i + 1], 0.0, 1024, threads=1)
        step(gen)
        start = time.perf_counter()
        for _ in range(reps):
            step(gen)
        out.append((float(density.max()), (time.perf_counter() - start) / reps * 1e3))
    return out


def by_path(costs: list[tuple[float, float]]) -> dict[str, tuple[int, float]]:
    """Instances and summed ms per kernel path."""
    out = {name: (0, 0.0) for _, name in PATHS}
    for p, ms in costs:
        name = next(name for lo, name in PATHS if p >= lo)
        count, total = out[name]
        out[name] = (count + 1, total + ms)
    return out


def profile_native(n: int, m: int, inst: int, steps: int, warm: int) -> None:
    loop = GeometryLoop(n, m, inst, kernel="native")
    model, dist, imp, gen = loop.model, loop.dist, loop.importance, loop.gen
    at_init = per_instance_ms(model, dist, imp, gen)
    loop.run(warm)
    kernel = adam = 0.0
    start = time.perf_counter()
    with torch_threads(loop.threads):  # as `train` runs it
        for _ in range(steps):
            t0 = time.perf_counter()
            loop.native(gen)
            t1 = time.perf_counter()
            optimizer_step(loop.opt)  # as `train_step` takes it
            kernel, adam = kernel + t1 - t0, adam + time.perf_counter() - t1
    total = time.perf_counter() - start
    print(f"{n}→{m}×{inst} native, after {warm} steps: {total / steps * 1e3:.1f} ms per step")
    print(
        f"  native step (C kernel + wrapper) {kernel / total:6.1%}   AdamW {adam / total:6.1%}   ",
        end="",
    )
    print(f"rest {(total - kernel - adam) / total:6.1%}")
    warmed = per_instance_ms(model, dist, imp, gen)
    for label, costs in (("at initialisation", at_init), (f"after {warm} steps", warmed)):
        whole = sum(ms for _, ms in costs)
        print(f"  kernel per instance, one thread, {label}: {whole:.1f} ms in all")
        for name, (count, ms) in by_path(costs).items():
            print(f"    {name:<44} {count:3d} instances {ms:7.1f} ms  {ms / whole:6.1%}")


def profile_torch(n: int, m: int, inst: int, steps: int) -> None:
    loop = GeometryLoop(n, m, inst, kernel="torch")
    loop.run(2)
    with profile() as prof:
        loop.run(steps)
    shares: dict[str, float] = {}
    for ev in prof.key_averages():
        shares[category(ev.key)] = shares.get(category(ev.key), 0.0) + ev.self_cpu_time_total
    total = sum(shares.values())
    print(f"{n}→{m}×{inst} PyTorch step: {total / 1e3 / steps:.1f} ms per step (profiled)")
    for k, v in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"  {k:<32} {v / total:6.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--steps", type=int, default=10, help="steps timed / profiled")
    ap.add_argument("--warm", type=int, default=2000, help="training steps before timing")
    args = ap.parse_args()
    for size in SIZES:
        if library(size[1]) is not None:
            profile_native(*size, args.steps, args.warm)
        profile_torch(*size, args.steps)


if __name__ == "__main__":
    main()
