"""One thread against two, BASE's kernel (env, default main) and the working tree's, on small
models where a step's fixed costs show: µs per step (fastest of 6 blocks of 50 steps, back to back).
    python threads.py"""

import time

import torch
from kernels import kernels

from superpose.bench.toy import GeometryLoop
from superpose.toy import native

torch.set_num_threads(1)
SHAPES = [(5, 2, 4), (5, 2, 10), (5, 2, 20), (20, 5, 4), (20, 5, 10), (40, 10, 4), (100, 20, 10)]
for n, m, I in SHAPES:
    loop = GeometryLoop(n, m, I, kernel="native")
    row = []
    for name, lib in kernels(m).items():
        step = native.NativeStep(lib, loop.model, loop.dist, loop.importance, 0.0, 1024)
        gen = torch.Generator().manual_seed(1)
        for _ in range(20):
            step(gen)
        best = {1: float("inf"), 2: float("inf")}
        for _ in range(6):
            for threads in (1, 2):
                step.threads = threads
                t0 = time.perf_counter()
                for _ in range(50):
                    step(gen)
                best[threads] = min(best[threads], (time.perf_counter() - t0) / 50 * 1e6)
        row.append(f"{name}: 1 thread {best[1]:.0f} µs, 2 threads {best[2]:.0f} µs")
    print(f"{n}→{m}×{I}:", "; ".join(row), flush=True)
