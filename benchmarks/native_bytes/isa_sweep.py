"""Whole runs of the step built with AVX-512 against the same source built without it (its AVX2
code), width by width, alternating; on an AMD Zen 4 host this measures ZEN4_AVX2_WIDTHS in
superpose.toy.native (the widths where the AVX2 build is >= 1.05x, median wall over rounds).
Geometry n = r·m features (at least 5; r = 10 by default), m hidden, I instances (20), batch 1024,
threads as GeometryLoop picks; whole runs from initialisation of 1.5 s (200 to 1,000 steps), as
models sparsify while they train.
    python isa_sweep.py [WIDTHS, default 1-32] [ROUNDS, default 4] [r] [I]"""

import statistics
import sys
import time

from superpose.bench.toy import GeometryLoop
from superpose.toy import native

widths = (
    [int(w) for w in sys.argv[1].split(",")] if len(sys.argv) > 1 and sys.argv[1] else range(1, 33)
)
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 4
per_hidden = int(sys.argv[3]) if len(sys.argv) > 3 else 10
instances = int(sys.argv[4]) if len(sys.argv) > 4 else 20
builds = {
    "avx512": lambda hidden: native.ARCH,
    "avx2": lambda hidden: (native.AVX2, *native.ARCH),
}
chosen = []
for m in widths:
    libs = {}
    for name, arch in builds.items():
        native._arch = arch
        native.library.cache_clear()
        libs[name] = native.library(m)
    n = max(5, per_hidden * m)
    probe = GeometryLoop(n, m, instances, kernel="native")
    probe.native.lib = libs["avx512"]
    per_step = probe.run(20) / 20
    steps = min(1000, max(200, int(1.5 / per_step)))
    wall = {name: [] for name in libs}
    for r in range(rounds):
        for name in list(libs) if r % 2 == 0 else list(libs)[::-1]:
            loop = GeometryLoop(n, m, instances, kernel="native")
            loop.native.lib = libs[name]
            start = time.perf_counter()
            loop.run(steps)
            wall[name].append(time.perf_counter() - start)
    ratio = statistics.median(wall["avx512"]) / statistics.median(wall["avx2"])
    rounds_text = ", ".join(
        f"{a / b:.2f}" for a, b in zip(wall["avx512"], wall["avx2"], strict=True)
    )
    print(f"m={m:3d} n={n:4d} {steps:5d} steps: avx512/avx2 {ratio:.3f} (rounds {rounds_text})")
    if ratio >= 1.05:
        chosen.append(m)
print("AVX2 >= 1.05x at", chosen)
