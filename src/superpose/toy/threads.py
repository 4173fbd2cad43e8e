"""How many threads PyTorch's own ops get while toy models train: chosen for the work, not
inherited from the process.

A parallel PyTorch op splits its work over its threads and waits for the last one. When another
process holds a core, the thread on it waits for a time slice, and every op waits with it; idle
OpenMP workers also spin and take cores from the native kernel's threads. Measured on the shared
2-core machine (load ~14): 600 PyTorch steps of a 20→5 × 4 model took 60.7 s on 2 threads against
3.5 s on one, and the eager step at 200→20×20, 400→30×50 and 1000→100×20 ran 10×, 4.4× and 3.7×
faster on one thread than on two. With the native step, PyTorch's spinning workers after AdamW
slowed the kernel from 6.5 to 9.5 ms per step at 200→20×20. So the training loop runs PyTorch on
one thread, except for PyTorch steps so large that a waiting op is a small part of them.
"""

from __future__ import annotations

import contextlib
import os

import torch

# multiply-adds per matmul of the PyTorch step (instances × batch × features × hidden) from
# which it uses the process's cores: twice the largest work measured faster on one thread
PARALLEL_WORK = 2**32


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def work_threads(macs: int) -> int:
    """PyTorch's threads for CPU work whose largest product has `macs` multiply-adds: one below
    PARALLEL_WORK (a waiting op costs more than a second thread gains), else up to the cores
    (never more than PyTorch's own setting)."""
    return 1 if macs < PARALLEL_WORK else max(1, min(cores(), torch.get_num_threads()))


def step_threads(
    native: bool, device: torch.device, instances: int, batch: int, features: int, hidden: int
) -> int:
    """PyTorch's threads for a training loop: one with the native step (it has its own threads)
    and on CUDA (the CPU only launches kernels); for the PyTorch step on the CPU, `work_threads`
    of its matmul."""
    if native or device.type != "cpu":
        return 1
    return work_threads(instances * batch * features * hidden)


@contextlib.contextmanager
def torch_threads(threads: int):
    """PyTorch's ops run on `threads` threads inside the block; restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
