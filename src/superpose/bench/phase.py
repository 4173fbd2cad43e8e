"""Phase-diagram benchmark: exact-loss batched training vs sampled training of the same grid points."""

from __future__ import annotations

import time

import torch

from ..toy import theory
from ..toy.config import TrainConfig
from ..toy.exact import ExactTrainConfig
from ..toy.phase import classify, grid_axes, phase_row, row_point, sampled_config
from ..toy.train import train
from . import BenchRow, register


def _exact_grid(case: str, imp: torch.Tensor, dens: torch.Tensor, seeds: int) -> torch.Tensor:
    exact = ExactTrainConfig(seeds=seeds, steps=300, lr=0.05, nodes=8 if case == "2x1" else 4)
    rows = [
        phase_row(row_point(case, float(r), dens.tolist(), exact, i)) for i, r in enumerate(imp)
    ]
    return torch.tensor([row["phase"] for row in rows])


def _sampled_rows(
    case: str, imp: torch.Tensor, dens: torch.Tensor, seeds: int, steps: int
) -> torch.Tensor:
    """The paper's procedure on the same points: AdamW, lr 1e-3, batch 1024, `steps` steps,
    `seeds` restarts per point (best kept). Returns phases [rows, densities]."""
    points = [(float(r), float(p)) for r in imp for p in dens]
    cfg = sampled_config(case, points, TrainConfig(steps=steps, restarts=seeds, eval_batch=8192))
    W = train(cfg, progress=False).model.W.detach()
    return classify(W).view(len(imp), len(dens))


@register("phase-diagram", "n=2,m=1 phase diagram: exact-loss training vs sampled training")
def bench_phase(quick: bool) -> list[BenchRow]:
    """Quick: a 6×6 grid, 10 seeds, sampled with 2,000 steps, both timed in full.
    Full: the paper's 40×40 grid, 10 seeds; exact-loss training of all of it, against sampled
    training at the paper's 10,000 steps of 2 importance rows, scaled to 40 rows (stated)."""
    case, seeds = "2x1", 10
    if quick:
        imp, dens = grid_axes(6, 6)
        sub, steps = imp, 2000
    else:
        imp, dens = grid_axes(40, 40)
        sub, steps = imp[[10, 30]], 10_000
    start = time.perf_counter()
    exact = _exact_grid(case, imp, dens, seeds)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    sampled = _sampled_rows(case, sub, dens, seeds, steps)
    ref = (time.perf_counter() - start) * len(imp) / len(sub)
    rows_idx = [int((imp == r).nonzero()) for r in sub]
    same = float((sampled == exact[rows_idx]).float().mean())
    theo = theory.theoretical_phase(case, imp[:, None], dens[None, :])
    agree = float((exact == theo).float().mean())
    scaled = "" if len(sub) == len(imp) else f", reference timed on {len(sub)} rows and scaled"
    return [
        BenchRow(
            "phase-diagram",
            f"{len(imp)}x{len(dens)} grid x {seeds} seeds (n=2, m=1)",
            ours,
            ref,
            note=f"sampled {steps} steps{scaled}; same phase {same:.0%}; exact vs theory {agree:.0%}",
        )
    ]
