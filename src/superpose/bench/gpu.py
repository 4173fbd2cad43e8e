"""The toy-train work on a CUDA device beside the CPU, so a user with a GPU sees what it gains.

Whole `train` runs of the paper's geometry sizes (and one wide model, where a GPU's matmuls pay
most), the same config on the CPU (the step `train` picks there) and on `cuda` (the PyTorch
step), each timed around the whole call with the device synchronised. Without a CUDA device the
benchmark prints one line and adds no rows.
"""

from __future__ import annotations

import sys
import time

import torch

from . import BenchRow, register

# (features, hidden, instances) per task: the toy-train sizes and a wide model
CUDA_SIZES: tuple[tuple[int, int, int], ...] = ((200, 20, 20), (400, 30, 50), (2048, 256, 4))


def _timed_train(cfg) -> float:
    from ..toy.train import train

    start = time.perf_counter()
    train(cfg, progress=False)
    if cfg.device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def cuda_rows(quick: bool, device: str = "cuda") -> list[BenchRow]:
    """One row per size: CUDA's whole run against the CPU's (ratio = CPU seconds / CUDA seconds)."""
    from .toy import geometry_config

    steps = 300 if quick else 3000
    rows = []
    for n, m, inst in CUDA_SIZES:
        cfg = geometry_config(n, m, inst, steps)
        _timed_train(cfg.replace(device=device, train={**cfg.train.model_dump(), "steps": 2}))
        cuda_s = _timed_train(cfg.replace(device=device))
        cpu_s = _timed_train(cfg)
        rows.append(
            BenchRow(
                "toy-train-cuda",
                f"{n}→{m}×{inst} whole run ({steps} steps) on {torch.cuda.get_device_name(device)}",
                cuda_s,
                cpu_s,
                note="reference: the same run on this machine's CPU (the step train picks there)",
            )
        )
    return rows


@register("toy-train-cuda", "toy-model training on a CUDA device vs the CPU (skipped without one)")
def bench_cuda(quick: bool) -> list[BenchRow]:
    if not torch.cuda.is_available():
        sys.stderr.write("toy-train-cuda: skipped, no CUDA device here\n")
        return []
    return cuda_rows(quick)
