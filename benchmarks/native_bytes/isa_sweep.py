"""Whole runs of the step built with AVX-512 against the same source built without it (its AVX2
code), width by width, alternating; on an AMD Zen 4 host this measures ZEN4_AVX2_WIDTHS in
superpose.toy.native (the widths where the AVX2 build is >= 1.05x, median wall over rounds).
With --tune: each width's build as chosen, without and with ZEN4_TUNE (-mtune=icelake-server).
Geometry n = r·m features (at least 5; r = 10 by default), m hidden, I instances (20), batch 1024,
threads as GeometryLoop picks; whole runs from initialisation of 1.5 s (200 to 1,000 steps), as
models sparsify while they train.
    python isa_sweep.py [--tune] [WIDTHS, default 1-32] [ROUNDS, default 4] [r] [I]"""

import statistics
import sys
import time

from superpose.bench.toy import GeometryLoop
from superpose.toy import native

tune = "--tune" in sys.argv
args = [a for a in sys.argv[1:] if a != "--tune"]
widths = [int(w) for w in args[0].split(",")] if args and args[0] else range(1, 33)
rounds = int(args[1]) if len(args) > 1 else 4
per_hidden = int(args[2]) if len(args) > 2 else 10
instances = int(args[3]) if len(args) > 3 else 20
chosen_arch = native._arch


def untuned(hidden: int) -> tuple:
    return tuple(a for a in chosen_arch(hidden) if native.ZEN4_TUNE not in a)


builds = (
    {
        "untuned": untuned,
        "tuned": lambda hidden: native._tuned(untuned(hidden)),
    }
    if tune
    else {
        "avx512": lambda hidden: native.ARCH,
        "avx2": lambda hidden: (native.AVX2, *native.ARCH),
    }
)
first, second = builds
chosen = []
for m in widths:
    libs = {}
    for name, arch in builds.items():
        native._arch = arch
        native.library.cache_clear()
        libs[name] = native.library(m)
    n = max(5, per_hidden * m)
    probe = GeometryLoop(n, m, instances, kernel="native")
    probe.native.lib = libs[first]
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
    ratio = statistics.median(wall[first]) / statistics.median(wall[second])
    rounds_text = ", ".join(f"{a / b:.2f}" for a, b in zip(wall[first], wall[second], strict=True))
    print(
        f"m={m:3d} n={n:4d} {steps:5d} steps: {first}/{second} {ratio:.3f} (rounds {rounds_text})"
    )
    if ratio >= 1.05:
        chosen.append(m)
print(f"{second} >= 1.05x at", chosen)
