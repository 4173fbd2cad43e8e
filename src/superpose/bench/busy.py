"""The `toy-busy` benchmark: the PyTorch training step on a busy machine.

Other processes are added by hand: one busy loop per core but one (the issue's case, "the other
core busy"). The PyTorch step (geometry work, `train.kernel: torch`) runs on the threads `train`
chooses for it (`toy.threads.step_threads`) and on PyTorch's default of one per core, in
interleaved blocks; the chosen threads also run without the added load. Two ratios: chosen vs
default threads on the busy machine, and the chosen threads busy vs not (1 on an otherwise idle
machine: the added loops take the other cores; below 1 where other jobs already load them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from ..toy.threads import cores
from . import BenchRow, register
from .toy import GeometryLoop


class BusyCores:
    """`count` busy-loop processes while the block runs; each is stopped (killed and reaped) on
    exit."""

    def __init__(self, count: int):
        self.count, self.procs = count, []

    def __enter__(self) -> BusyCores:
        for _ in range(self.count):
            self.procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
        time.sleep(0.2)  # let them start spinning
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            proc.kill()
        for proc in self.procs:
            proc.wait()
        self.procs = []


def busy_rates(
    n_features: int, n_hidden: int, n_instances: int, batch: int, rounds: int, block: int
) -> dict:
    """Seconds of `rounds` × `block` PyTorch steps: chosen threads and default threads (one per
    core) with the other cores busy, and chosen threads without added load."""
    loop = GeometryLoop(n_features, n_hidden, n_instances, batch, kernel="torch")
    chosen, default = loop.threads, cores()
    loop.run(1)  # warm-up
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    seconds = {"busy chosen": 0.0, "busy default": 0.0, "quiet chosen": 0.0}
    for _ in range(rounds):
        with BusyCores(max(1, cores() - 1)):
            seconds["busy chosen"] += loop.run(block)
            loop.threads = default
            seconds["busy default"] += loop.run(block)
            loop.threads = chosen
        seconds["quiet chosen"] += loop.run(block)
    return {
        "task": f"{n_features}→{n_hidden}×{n_instances} batch {batch}",
        "steps": rounds * block,
        "threads": {"chosen": chosen, "default": default},
        "seconds": seconds,
        "load_before": load,
    }


@register("toy-busy", "PyTorch training step with the other cores busy: chosen vs default threads")
def toy_busy(quick: bool) -> list[BenchRow]:
    """Chosen threads vs PyTorch's default on a busy machine, and busy vs quiet, for a small
    model (the issue's case) and the paper's 200→20×20 geometry work."""
    rows = []
    work = ((20, 5, 4, 256, 30), (200, 20, 20, 1024, 2)) if quick else (
        (20, 5, 4, 256, 100), (200, 20, 20, 1024, 6)
    )  # fmt: skip
    for n, m, inst, batch, block in work:
        r = busy_rates(n, m, inst, batch, rounds=2 if quick else 4, block=block)
        s, t = r["seconds"], r["threads"]
        head = f"{r['task']}, {r['steps']} PyTorch steps"
        rows.append(
            BenchRow(
                "toy-busy",
                f"{head}, busy: {t['chosen']} vs {t['default']} threads",
                s["busy chosen"],
                s["busy default"],
                note=f"other {max(1, cores() - 1)} of {cores()} cores running a busy loop",
            )
        )
        rows.append(
            BenchRow(
                "toy-busy",
                f"{head}, {t['chosen']} thread(s): busy vs without added load",
                s["busy chosen"],
                s["quiet chosen"],
                note=f"1 on an otherwise idle machine (the busy loops take the other cores); "
                f"below where they share ours (1-min load average before: {r['load_before']:.1f})",
            )
        )
    return rows
