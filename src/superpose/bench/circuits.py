"""Benchmark: CiS2 structured forward vs the dense large network, and the big structured run."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import torch

from . import BenchRow, register


def _best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _config(circuits: int, width: int, layers: int, **extra):
    """The benchmarked network: random circuits on the prime allocation."""
    from ..circuits.cis2 import CiS2Config

    return CiS2Config(
        width=width,
        circuits=circuits,
        layers=layers,
        circuit_kind="random",
        allocation="prime",
        max_load=100,
        **extra,
    )


def structured_run(circuits: int, width: int, layers: int, batch: int, seed: int = 0) -> dict:
    """Build (unverified), time one structured forward, then the strict verification of the same
    network (CPU seconds: every z ≤ max_active, verify_batch inputs each); peak RSS of this
    process."""
    from ..circuits.cis2 import build_cis2
    from ..circuits.cis2_regime import verify_cis2
    from ..circuits.small import sample_inputs

    cfg = _config(circuits, width, layers, seed=seed)
    start = time.perf_counter()
    net = build_cis2(cfg, verify=False)
    for k in range(layers):
        net._sparse(k)
    build = time.perf_counter() - start
    x, _ = sample_inputs(net.circuits, batch, 3, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        start, cpu = time.perf_counter(), time.process_time()
        net.forward(x)
        fwd, fwd_cpu = time.perf_counter() - start, time.process_time() - cpu
        cpu = time.process_time()
        verify_cis2(net, cfg.max_active, cfg.verify_batch, cfg.seed + 2)
        verify_cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30  # Linux: KiB
    return {
        "circuits": circuits,
        "width": width,
        "layers": layers,
        "batch": batch,
        "build_s": build,
        "forward_s": fwd,
        "forward_cpu_s": fwd_cpu,
        "verify_cpu_s": verify_cpu,
        "peak_gib": peak,
    }


def structured_run_subprocess(circuits: int, width: int, layers: int = 5, batch: int = 256) -> dict:
    """`structured_run` in a fresh process, so the peak memory is that run's alone."""
    code = f"import json; from superpose.bench.circuits import structured_run; print(json.dumps(structured_run({circuits}, {width}, {layers}, {batch})))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if proc.returncode:
        raise RuntimeError(f"structured run failed: {proc.stderr.strip().splitlines()[-1]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def dense_vs_structured(circuits: int, width: int, layers: int, batch: int) -> tuple[float, float]:
    """Seconds per forward of the structured path and the dense nn.Module on the same network."""
    from ..circuits.cis2 import build_cis2, dense_forward
    from ..circuits.small import sample_inputs

    net = build_cis2(_config(circuits, width, layers), verify=False)  # speed only
    dense = net.dense_module()
    x, _ = sample_inputs(net.circuits, batch, 3, torch.Generator().manual_seed(0))
    with torch.no_grad():
        ours = _best_of(lambda: net.forward(x))
        ref = _best_of(lambda: dense_forward(dense, x))
    return ours, ref


@register(
    "cis-forward", "CiS2 structured forward vs the dense network (same weights); big structured run"
)
def bench(quick: bool) -> list[BenchRow]:
    T, D = (1000, 2000) if quick else (2000, 4000)
    ours, ref = dense_vs_structured(T, D, 5, 256)
    rows = [BenchRow("cis-forward", f"forward T={T}, D={D}, L=5, batch 256 (vs dense)", ours, ref)]
    bigT, bigD = (8000, 4000) if quick else (50_000, 10_000)
    big = structured_run_subprocess(bigT, bigD)
    rows.append(
        BenchRow(
            "cis-forward",
            f"structured forward T={bigT}, D={bigD}, L=5, batch 256",
            big["forward_s"],
            None,
            f"peak {big['peak_gib']:.2f} GiB, CPU {big['forward_cpu_s']:.1f} s, build {big['build_s']:.1f} s, "
            f"strict verification {big['verify_cpu_s']:.1f} s CPU",
        )
    )
    return rows
