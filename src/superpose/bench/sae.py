"""Benchmark: training a TopK SAE (`scoring.sae.train_sae`) against the plain PyTorch loop it
replaces, at the size `superpose score cis2 --train-sae topk` trains (D = 1000, 600 latents,
k = 4, batch 1024).

Reference: the TopK SAE written the usual way — dense pre-activations, `topk`, the kept values
scattered into a dense [batch, latents] z, z @ W_dec, autograd through all of it, torch.optim.Adam
with its default update, decoder rows renormalised after each step — from the same initial
weights, on the same minibatches (the same generator), on the same threads. Ours: `_TopK`'s
backward touching only the kept encoder columns, `embedding_bag` decoding only the kept rows,
the fused Adam. The same work: one step from the same start gives the same loss and weights
(checked: to 10⁻⁶ and 0.1·lr); the note gives both last losses. The data: sparse sums of 150
random 4-dim subspaces in D = 1000 (about 1.5 on per input), like a CiS2 layer's activations.
The sides run in turn, the fastest of `repeats` rounds kept.
"""

from __future__ import annotations

import time

import torch

from . import BenchRow, register


def sparse_data(n: int, D: int, seed: int = 0) -> torch.Tensor:
    """[n, D]: each input a sum of ~1.5 of 150 random 4-dim subspaces with Gaussian coefficients."""
    gen = torch.Generator().manual_seed(seed)
    basis = torch.randn(150, 4, D, generator=gen) / D**0.5
    on = torch.rand(n, 150, generator=gen) < 0.01
    coef = torch.randn(n, 150, 4, generator=gen) * on.unsqueeze(-1)
    return torch.einsum("ngc,gcd->nd", coef, basis)


def _plain(X: torch.Tensor, cfg, start: dict[str, torch.Tensor]) -> tuple[dict, float]:
    """The usual TopK SAE loop from `start` (W_enc, b_enc, W_dec, b_dec) on train_sae's
    minibatches: (weights, last loss)."""
    from torch import nn

    from ..scoring.sae import init_sae

    _, draw, gen = init_sae(X, cfg)  # the sampler and generator train_sae's steps take over
    p = {n: nn.Parameter(t.clone()) for n, t in start.items()}
    opt = torch.optim.Adam(p.values(), lr=cfg.lr)
    loss = torch.tensor(0.0)
    for _step in range(cfg.steps):
        x = draw(cfg.batch, gen)
        pre = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
        val, idx = pre.topk(cfg.k, dim=-1)
        z = torch.zeros_like(pre).scatter(-1, idx, torch.relu(val))
        loss = (x - (z @ p["W_dec"] + p["b_dec"])).square().sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            p["W_dec"].div_(p["W_dec"].norm(dim=1, keepdim=True).clamp_min(1e-12))
    return {n: t.detach() for n, t in p.items()}, loss.item()


def start_weights(X: torch.Tensor, cfg) -> dict[str, torch.Tensor]:
    """train_sae's initial weights."""
    from ..scoring.sae import init_sae

    return {n: t for n, t in init_sae(X, cfg)[0].tensors().items() if n != "k"}


def one_step_agrees(X: torch.Tensor, cfg, start: dict[str, torch.Tensor]) -> bool:
    """train_sae and the plain loop, one step from `start`: the same loss (10⁻⁶) and weights
    (Adam's first step is about lr·sign(g), so 0.1·lr tells a different update apart)."""
    from ..scoring.sae import train_sae

    one = train_sae(X, cfg.replace(steps=1))
    plain, loss = _plain(X, cfg.replace(steps=1), start)
    ours = one.sae.tensors()
    return abs(one.losses[0] - loss) <= 1e-6 * loss and all(
        torch.allclose(ours[n], plain[n], rtol=0, atol=0.1 * cfg.lr) for n in plain
    )


@register("sae-train", "TopK SAE training (score --train-sae) vs the usual dense PyTorch loop")
def bench_sae_train(quick: bool) -> list[BenchRow]:
    from ..scoring.sae import SAEConfig, train_sae
    from ..toy.threads import step_threads, torch_threads

    D, latents, k, batch = 1000, 600, 4, 1024
    steps, repeats = (30, 3) if quick else (200, 3)
    X = sparse_data(20_000, D)
    cfg = SAEConfig(kind="topk", latents=latents, k=k, batch=batch, steps=steps, seed=0)
    start = start_weights(X, cfg)
    same = one_step_agrees(X, cfg, start)
    t_ours, t_plain = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ours = train_sae(X, cfg)
        t_ours.append(time.perf_counter() - t0)
        with torch_threads(step_threads(False, torch.device("cpu"), 1, batch, D, latents)):
            t0 = time.perf_counter()
            _, plain_loss = _plain(X, cfg, start)
            t_plain.append(time.perf_counter() - t0)
    return [
        BenchRow(
            "sae-train",
            f"TopK SAE D={D}, {latents} latents, k={k}, batch {batch}, {steps} steps",
            min(t_ours),
            min(t_plain),
            note=("one step from the same start: the same loss and weights" if same else "DIFFER")
            + f"; last loss ours {ours.losses[-1]:.4g}, reference {plain_loss:.4g}; "
            f"{1000 * min(t_ours) / steps:.1f} vs {1000 * min(t_plain) / steps:.1f} ms a step",
        )
    ]
