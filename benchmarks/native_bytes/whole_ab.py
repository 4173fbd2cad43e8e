"""Whole 1000-step runs of the bench geometry from initialisation, main's kernel vs the worktree's,
alternating; CPU seconds (process_time) and wall, threads as GeometryLoop picks (or THREADS)."""

import ctypes
import os
import subprocess
import sys
import time
from pathlib import Path

from superpose.bench.toy import GeometryLoop
from superpose.toy import native

n, m, I, steps, reps = (int(a) for a in sys.argv[1:6])
here = Path(__file__).resolve().parent


def build(src, tag):
    out = Path(f"/tmp/nat12_w_{tag}_m{m}.so")
    old = native.SOURCE
    native.SOURCE = src
    try:
        native._build(native._compiler(), m, out)
    finally:
        native.SOURCE = old
    lib = ctypes.CDLL(str(out))
    lib.toy_step.restype = ctypes.c_int
    lib.toy_step.argtypes = (
        [ctypes.c_int] * 9
        + [ctypes.c_float]
        + [ctypes.c_void_p] * 5
        + [ctypes.c_uint64]
        + [ctypes.c_void_p] * 5
    )
    lib.hidden = m
    return lib


ms = Path("/tmp/nat12_main_native_step.c")
ms.write_bytes(
    subprocess.run(
        ["git", "-C", str(here.parent.parent), "show", "main:src/superpose/toy/native_step.c"],
        capture_output=True,
        check=True,
    ).stdout
)
libs = {
    "main": build(ms, "main"),
    "new": build(here.parent.parent / "src/superpose/toy/native_step.c", "new"),
}
res = {k: [] for k in libs}
for r in range(reps):
    for k in ("main", "new") if r % 2 == 0 else ("new", "main"):
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
    a = sorted(x[i] for x in res["main"])
    b = sorted(x[i] for x in res["new"])
    print(
        f"{what}: main median {a[len(a) // 2]:.3f} s, new {b[len(b) // 2]:.3f} s, ratio {a[len(a) // 2] / b[len(b) // 2]:.3f}; min ratio {a[0] / b[0]:.3f}"
    )
