"""Benchmark: scoring one dictionary of 4·T latents against a zoo entry's layer with T circuits
(a CiS2 network as a zoo entry; --full: T = 1000, issue 13's done-when: under 60 s on 2 cores).

Ours: `superpose.scoring.score` (all metrics, one random dictionary for the MCC chance level), on
the entry's truth (`ZooEntry.truth`: sampled inputs, activations, activity); its CPU seconds are in
the note (process time: on a shared machine wall time also counts other people's work).
Reference: every number `score` reports, computed the plain way — each circuit's subspace
orthonormalised and projected on separately (for the dictionary and for the random dictionary of
the MCC chance level, drawn from the same seed), each matched pair counted in a Python loop — with
the same Hungarian matching, SAE forward (one encoding, reused for the reconstruction) and
analytic chance level (the same calls, the same cost on both sides); the values are checked to
agree. Both sides do the same work: before, the reference skipped the chance MCC, ML2R, explained
variance and the direction-side MMCS that ours computes, and ours read 0.72× against a reference
doing about half the work. The sides are timed in turn, ROUNDS rounds, the fastest of each kept:
timed once, ours went first and paid for the first call's warm-up (0.104 s, 0.066 s warm) and
read 1.03–1.75× between runs.
"""

from __future__ import annotations

from typing import Any

import torch
from scipy.optimize import linear_sum_assignment

from . import BenchRow, register, timed

ROUNDS = 3  # each side timed this many times, in turn: a first call pays for warming up


def _plain_similarity(W: torch.Tensor, truth) -> torch.Tensor:
    """[k, n_groups]: each circuit's subspace orthonormalised and projected on, one at a time."""
    U = W / W.norm(dim=1, keepdim=True)
    sim = torch.empty(W.shape[0], truth.n_groups)
    for g in range(truth.n_groups):
        Q = torch.linalg.qr(truth.directions[truth.groups == g].T.double()).Q.float()
        sim[:, g] = (U @ Q).norm(dim=1)
    return sim.clamp_max(1.0)


def _naive(sae, truth, threshold: float = 0.9, seed: int = 0) -> dict[str, float]:
    """Every number `score` reports, one circuit and one matched pair at a time."""
    from ..scoring.metrics import chance

    W = sae.decoder
    sim = _plain_similarity(W, truth)
    rows, cols = linear_sum_assignment(sim.double().numpy(), maximize=True)
    U = W / W.norm(dim=1, keepdim=True)
    cos = (U @ (truth.directions / truth.directions.norm(dim=1, keepdim=True)).T).abs()
    z = sae.latent_acts(truth.acts)
    x, x_hat = truth.acts, sae.reconstruct(truth.acts, z)
    fires, alive = z > 0, (z > 0).any(0)
    f1s = []
    for j, g in zip(rows.tolist(), cols.tolist(), strict=True):
        on = truth.active[:, g]
        if not on.any():
            continue
        tp = int((fires[:, j] & on).sum())
        p = tp / max(int(fires[:, j].sum()), 1)
        r = tp / int(on.sum())
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    R = torch.randn(W.shape[0], truth.dim, generator=torch.Generator().manual_seed(seed))
    null = _plain_similarity(R, truth)
    r_, c_ = linear_sum_assignment(null.double().numpy(), maximize=True)
    chance(W.shape[0], truth.dim, truth.ranks, threshold)  # score's own call: its cost, timed
    nx = x.norm(dim=1)
    ok = nx > 0
    return {
        "mmcs": float(sim.max(0).values.mean()),
        "mmcs_latents": float(sim.max(1).values.mean()),
        "mmcs_directions": float(cos.max(0).values.mean()),
        "mcc": float(sim[rows, cols].mean()),
        "recovered": int((sim.max(0).values >= threshold).sum()),
        "uniqueness": len(cos.argmax(1)[alive].unique()) / max(int(alive.sum()), 1),
        "ml2r": float((x_hat.norm(dim=1)[ok] / nx[ok]).mean()),
        "explained_variance": float(
            1 - (x - x_hat).square().sum() / (x - x.mean(0)).square().sum()
        ),
        "dead_fraction": 1 - float(alive.float().mean()),
        "f1": sum(f1s) / len(f1s),
        "mcc_chance": float(null[r_, c_].mean()),
    }


@register("score", "scoring a 4·T-latent dictionary against T CiS2 circuits vs a per-circuit loop")
def bench_score(quick: bool) -> list[BenchRow]:
    from ..circuits.cis2 import CiS2Config
    from ..circuits.construction import build
    from ..scoring import random_dictionary, score
    from ..scoring.dictionary import sae_from_tensors
    from ..zoo import from_construction

    D, T, batch = (1000, 200, 512) if quick else (2000, 1000, 2048)
    # scored at z = 2, where this network fails the strict verification (decoded R² 0.90 and 0.79
    # < 0.9): a timing, so it is built for z ≤ 2 unverified, not trusted (a zoo entry refuses z
    # above its max_active)
    net = build(
        CiS2Config(
            width=D,
            circuits=T,
            layers=2,
            max_active=2,
            allocation="random",
            seed=0,
            allow_unverified=True,
        )
    )
    entry = from_construction(net, f"cis2 T={T}")
    truth = entry.truth(2, samples=batch, seed=0, active=2)
    W = random_dictionary(4 * T, D, seed=1)
    sae = sae_from_tensors(
        {"W_dec": W, "W_enc": W.T.contiguous(), "b_enc": torch.full((4 * T,), -0.1)}
    )
    sides = {"ours": lambda: score(sae, truth), "reference": lambda: _naive(sae, truth)}
    wall: dict[str, list[float]] = {k: [] for k in sides}
    cpu: dict[str, list[float]] = {k: [] for k in sides}
    value: dict[str, Any] = {}
    for r in range(ROUNDS):  # in turn, each side first every other round; the fastest kept
        for side in sorted(sides, reverse=r % 2 == 1):
            w, c, value[side] = timed(sides[side])
            wall[side].append(w)
            cpu[side].append(c)
    s, plain = value["ours"], value["reference"]
    same = all(abs(v - getattr(s, name)) < 1e-4 for name, v in plain.items())
    ours, ref = wall["ours"], wall["reference"]
    each = ", ".join(f"{b / a:.2f}" for a, b in zip(ours, ref, strict=True))
    return [
        BenchRow(
            bench="score",
            task=f"{4 * T} latents vs zoo entry of T={T} circuits (d=4), D={D}, {batch} samples",
            ours_s=min(ours),
            reference_s=min(ref),
            note=("the same 11 numbers" if same else "VALUES DIFFER")
            + f" (MMCS, MCC and its chance level, F1, ML2R, …); fastest of {ROUNDS} rounds each, "
            f"timed in turn (rounds {each}); "
            f"ours {min(cpu['ours']):.2f} s CPU",
        )
    ]
