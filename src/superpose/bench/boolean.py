"""Benchmark: blocked U-AND pair readout (sparse or dense by the work) vs a per-pair loop."""

from __future__ import annotations

import time

import torch

from . import BenchRow, register


def _naive_readout(h: torch.Tensor, conn: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Reference: one pair at a time, mean over the neurons wired to both."""
    out = torch.empty(h.shape[0], len(pairs))
    for q, (i, j) in enumerate(pairs.tolist()):
        idx = (conn[:, i] & conn[:, j]).nonzero().squeeze(1)
        out[:, q] = h[:, idx].mean(1) if len(idx) else 0.0
    return out


@register(
    "uand-readout", "U-AND readout of many pairs: blocked sparse/dense matmul vs a per-pair loop"
)
def bench_uand_readout(quick: bool) -> list[BenchRow]:
    from ..circuits import boolean as B
    from ..circuits import boolean_inputs as BI

    m, d, n_pairs, batch = (500, 2000, 2000, 64) if quick else (2000, 8000, 20000, 256)
    layer = B.build_uand(B.make_config(B.UAndConfig, m=m, d=d, s=3, shared=20, seed=0))
    gen = torch.Generator().manual_seed(0)
    x = BI.sample_inputs(batch, m, 3, gen)
    h = layer.hidden(x)
    pairs = torch.randint(m, (n_pairs, 2), generator=gen)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    layer.readout(h, pairs[:8])  # warm both (first-call set-up is not per-pair work)
    _naive_readout(h, layer.conn, pairs[:8])
    t0 = time.perf_counter()
    ours = layer.readout(h, pairs)
    t1 = time.perf_counter()
    ref = _naive_readout(h, layer.conn, pairs)
    t2 = time.perf_counter()
    same = torch.allclose(ours, ref, atol=1e-5)
    return [
        BenchRow(
            bench="uand-readout",
            task=f"{len(pairs)} pairs, m={m}, d={d}, batch={batch}",
            ours_s=t1 - t0,
            reference_s=t2 - t1,
            note="same values" if same else "VALUES DIFFER",
        )
    ]
