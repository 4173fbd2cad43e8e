"""Benchmark: scoring one dictionary of 4·T latents against a CiS2 layer with T circuits.

Ours: `superpose.scoring.score` (all metrics, one random dictionary for the MCC chance level).
Reference: the same similarity and matched-detector numbers computed the plain way — each
circuit's subspace orthonormalised and projected on separately, each matched pair counted in a
Python loop — with the same Hungarian matching; the values are checked to agree.
"""

from __future__ import annotations

import time

import torch
from scipy.optimize import linear_sum_assignment

from . import BenchRow, register


def _naive(W_dec: torch.Tensor, encode, truth) -> tuple[float, float]:
    """MCC and mean matched F1, one circuit and one pair at a time."""
    U = W_dec / W_dec.norm(dim=1, keepdim=True)
    sim = torch.empty(W_dec.shape[0], truth.n_groups)
    for g in range(truth.n_groups):
        Q = torch.linalg.qr(truth.directions[truth.groups == g].T.double()).Q.float()
        sim[:, g] = (U @ Q).norm(dim=1)
    rows, cols = linear_sum_assignment(sim.double().numpy(), maximize=True)
    fires = encode(truth.acts) > 0
    f1s = []
    for j, g in zip(rows.tolist(), cols.tolist(), strict=True):
        on = truth.active[:, g]
        if not on.any():
            continue
        tp = int((fires[:, j] & on).sum())
        p = tp / max(int(fires[:, j].sum()), 1)
        r = tp / int(on.sum())
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return float(sim[rows, cols].mean()), sum(f1s) / len(f1s)


@register("score", "scoring a 4·T-latent dictionary against T CiS2 circuits vs a per-circuit loop")
def bench_score(quick: bool) -> list[BenchRow]:
    from ..circuits.cis2 import CiS2Config, build_cis2
    from ..circuits.small import sample_inputs
    from ..scoring import cis2_truth, random_dictionary, score
    from ..scoring.dictionary import sae_from_tensors

    D, T, batch = (1000, 200, 512) if quick else (2000, 1000, 2048)
    net = build_cis2(
        CiS2Config(width=D, circuits=T, layers=2, max_active=1, allocation="random", seed=0)
    )
    x, mask = sample_inputs(net.circuits, batch, 2, torch.Generator().manual_seed(0))
    truth = cis2_truth(net, 1, x, mask)
    W = random_dictionary(4 * T, D, seed=1)
    sae = sae_from_tensors(
        {"W_dec": W, "W_enc": W.T.contiguous(), "b_enc": torch.full((4 * T,), -0.1)}
    )
    t0 = time.perf_counter()
    s = score(sae, truth)
    t1 = time.perf_counter()
    mcc, f1 = _naive(W, sae.encode, truth)
    t2 = time.perf_counter()
    same = abs(mcc - s.mcc) < 1e-4 and s.f1 is not None and abs(f1 - s.f1) < 1e-4
    return [
        BenchRow(
            bench="score",
            task=f"{4 * T} latents vs T={T} circuits (d=4), D={D}, {batch} samples",
            ours_s=t1 - t0,
            reference_s=t2 - t1,
            note=("same MCC and F1" if same else "VALUES DIFFER")
            + "; ours also computes the chance MCC",
        )
    ]
