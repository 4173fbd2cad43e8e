"""Whole runs of a bench geometry from initialisation, BASE's kernel (env, default main) against
the working tree's, alternating; CPU seconds (process_time) and wall, threads as GeometryLoop picks
(or env THREADS).
    python whole_ab.py N M I steps repeats"""

import os
import sys
import time

from kernels import kernels

from superpose.bench.toy import GeometryLoop

n, m, I, steps, reps = (int(a) for a in sys.argv[1:6])
libs = kernels(m)
res = {k: [] for k in libs}
for r in range(reps):
    for k in ("base", "new") if r % 2 == 0 else ("new", "base"):
        loop = GeometryLoop(n, m, I, kernel="native")
        loop.native.lib = libs[k]
        if os.environ.get("THREADS"):
            loop.native.threads = loop.threads = int(os.environ["THREADS"])
        c0, w0 = time.process_time(), time.perf_counter()
        loop.run(steps)
        res[k].append((time.process_time() - c0, time.perf_counter() - w0))
        fl = loop.final_loss(eval_batch=1024)
        print(
            k,
            r,
            f"cpu {res[k][-1][0]:.3f} s wall {res[k][-1][1]:.3f} s threads {loop.native.threads} loss-hash {hash(fl.numpy().tobytes())}",
            flush=True,
        )
for i, what in enumerate(("cpu", "wall")):
    a = sorted(x[i] for x in res["base"])
    b = sorted(x[i] for x in res["new"])
    print(
        f"{what}: base median {a[len(a) // 2]:.3f} s, new {b[len(b) // 2]:.3f} s, ratio {a[len(a) // 2] / b[len(b) // 2]:.3f}; min ratio {a[0] / b[0]:.3f}"
    )
