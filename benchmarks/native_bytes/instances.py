"""Where a native step's wall time goes on two threads: each instance's kernel time (a copy of the
working tree's native_step.c with a clock around every instance), how well the instances pack onto
the threads (taken in index order, as the kernel does, against largest first and the ideal
half), and the step split into the kernel call and the AdamW update, after `steps` training
steps of a bench geometry.
    python instances.py N M I [steps]"""

import ctypes
import sys
import tempfile
import time
from pathlib import Path

import torch

from superpose.bench.toy import GeometryLoop
from superpose.toy import native
from superpose.toy.train import optimizer_step

TIMED = """            struct timespec t0_, t1_;
            clock_gettime(CLOCK_MONOTONIC, &t0_);
            run_instance(J, i, *scratch, ibuf, gram_room);
            clock_gettime(CLOCK_MONOTONIC, &t1_);
            if (i < 256)
                instance_ns[i] += (t1_.tv_sec - t0_.tv_sec) * 1e9 + (t1_.tv_nsec - t0_.tv_nsec);"""
COUNTERS = """double instance_ns[256];
void instance_reset(void) { for (int i = 0; i < 256; i++) instance_ns[i] = 0; }
double instance_get(int i) { return instance_ns[i]; }
"""


def timed_library(m: int) -> ctypes.CDLL:
    """The working tree's kernel with a clock around each instance (per-instance sums in ns)."""
    src = native.SOURCE.read_text()
    call = "            run_instance(J, i, *scratch, ibuf, gram_room);"
    anchor = "static void take_instances("
    if src.count(call) != 1 or src.count(anchor) != 1:
        sys.exit("native_step.c changed: update instances.py's patch")
    src = src.replace(call, TIMED).replace(anchor, COUNTERS + anchor)
    path = Path(tempfile.gettempdir()) / "native_step-instances.c"
    path.write_text(src)
    lib = native.library(m, path)
    lib.instance_get.restype = ctypes.c_double
    return lib


def makespan(times: list[float], order, threads: int) -> float:
    """The step's kernel time if each instance goes to the first free thread, in `order`."""
    load = [0.0] * threads
    for i in order:
        load[load.index(min(load))] += times[i]
    return max(load)


def main() -> None:
    n, m, inst = (int(a) for a in sys.argv[1:4])
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    lib = timed_library(m)
    loop = GeometryLoop(n, m, inst, kernel="native")
    loop.native.lib = lib
    loop.run(steps)
    torch.set_num_threads(1)  # as `train` runs PyTorch beside the native step
    reps = 200
    for threads in (1, 2):
        loop.native.threads = threads
        lib.instance_reset()
        call = update = 0.0
        for _ in range(reps):
            t0 = time.perf_counter()
            loop.native(loop.gen)
            t1 = time.perf_counter()
            optimizer_step(loop.opt)
            call, update = call + t1 - t0, update + time.perf_counter() - t1
        ms = [lib.instance_get(i) / reps / 1e6 for i in range(inst)]
        print(
            f"{threads} thread(s): step {1e3 * (call + update) / reps:.3f} ms = kernel call "
            f"{1e3 * call / reps:.3f} + AdamW {1e3 * update / reps:.3f}; instances' kernel time "
            f"summed {sum(ms):.3f} ms"
        )
        if threads == 1:
            print("  per instance (ms):", " ".join(f"{t:.2f}" for t in ms))
            order = sorted(range(inst), key=lambda i: -ms[i])
            print(
                f"  on 2 threads: index order {makespan(ms, range(inst), 2):.3f} ms, largest "
                f"first {makespan(ms, order, 2):.3f}, ideal {sum(ms) / 2:.3f}"
            )


if __name__ == "__main__":
    main()
