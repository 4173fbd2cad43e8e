"""Exact expected loss of small ReLU-output models, and full-batch training on it.

For n independent features (active w.p. p_i, value uniform on [0, 1]) the expected loss
E[Σ_i I_i (x_i − ReLU(WᵀW x + b)_i)²] is a sum over the 2^n activity patterns of the pattern's
probability times an integral over the active values. We enumerate the patterns and integrate with a
tensor-product Gauss–Legendre rule: no sampling noise, so a few hundred full-batch steps replace
thousands of sampled ones, and every grid point × seed trains in one batched tensor program.
The ReLU kinks make the rule approximate (error ≲ 1e-3 relative at q = 8), which is far below the
loss gaps that decide a phase.

Shapes: W [instances, hidden, features], b / importance / density [instances, features].
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..base.device import make_generator
from ..base.errors import SuperposeError
from .threads import step_threads, torch_threads

MAX_FEATURES = 8  # 2^n patterns × q^k nodes grows fast; beyond this sample instead


@dataclass(frozen=True)
class QuadraturePoints:
    """The integration points of every activity pattern, flattened.

    x: [points, features] values (0 where inactive); active: [points, features] bool;
    weight: [points] quadrature weight of the values (sums to 1 within each pattern).
    """

    x: torch.Tensor
    active: torch.Tensor
    weight: torch.Tensor

    def pattern_probability(self, density: torch.Tensor) -> torch.Tensor:
        """Probability of each point's activity pattern times its quadrature weight: [instances, points]."""
        act = self.active[None]  # [1, K, n]
        p = density[:, None, :]  # [I, 1, n]
        prob = torch.where(act, p, 1.0 - p).prod(-1)
        return prob * self.weight[None]


def quadrature_points(
    n_features: int, nodes: int = 8, device: torch.device | str = "cpu"
) -> QuadraturePoints:
    """All 2^n activity patterns, each with a nodes^k Gauss–Legendre grid over its k active values."""
    if not 1 <= n_features <= MAX_FEATURES:
        raise SuperposeError(f"n_features={n_features}: exact loss supports 1..{MAX_FEATURES}")
    if not 1 <= nodes <= 64:
        raise SuperposeError(f"nodes={nodes}: must lie in 1..64")
    t, w = np.polynomial.legendre.leggauss(nodes)
    t, w = (t + 1) / 2, w / 2  # map [-1, 1] → [0, 1]
    xs, acts, ws = [], [], []
    for pattern in itertools.product((0, 1), repeat=n_features):
        idx = [i for i, a in enumerate(pattern) if a]
        k = len(idx)
        if k == 0:
            xs.append(np.zeros((1, n_features)))
            ws.append(np.ones(1))
        else:
            grid = np.stack(np.meshgrid(*([t] * k), indexing="ij"), -1).reshape(-1, k)
            wgrid = np.stack(np.meshgrid(*([w] * k), indexing="ij"), -1).reshape(-1, k).prod(-1)
            x = np.zeros((len(grid), n_features))
            x[:, idx] = grid
            xs.append(x)
            ws.append(wgrid)
        acts.append(np.broadcast_to(np.array(pattern, dtype=bool), (len(ws[-1]), n_features)))
    return QuadraturePoints(
        x=torch.tensor(np.concatenate(xs), dtype=torch.float32, device=device),
        active=torch.tensor(np.concatenate(acts), device=device),
        weight=torch.tensor(np.concatenate(ws), dtype=torch.float32, device=device),
    )


def exact_loss(
    W: torch.Tensor,
    b: torch.Tensor,
    importance: torch.Tensor,
    density: torch.Tensor,
    points: QuadraturePoints | None = None,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Expected loss of ReLU-output models x' = ReLU(WᵀW x + b): [instances].

    `weights` ([instances, points], from `points.pattern_probability(density)`) may be passed to
    reuse them across calls.
    """
    if points is None:
        points = quadrature_points(W.shape[-1], device=W.device)
    if weights is None:
        weights = points.pattern_probability(density)
    h = torch.matmul(points.x, W.transpose(1, 2))  # [I, K, m]
    out = torch.relu(torch.baddbmm(b[:, None, :], h, W))  # [I, K, n]
    err = (points.x - out).square().mul(importance[:, None, :]).sum(-1)  # [I, K]
    return (err * weights).sum(-1)


@torch.no_grad()
def exact_loss_grads(
    W: torch.Tensor,
    b: torch.Tensor,
    importance: torch.Tensor,
    points: QuadraturePoints,
    weights: torch.Tensor,
    scale: torch.Tensor | None = None,
) -> None:
    """Write the gradient of the summed exact loss into W.grad and b.grad (by hand: the loss depends
    on W only through G = WᵀW, so one [I, K, n] forward and one reduction give everything).
    `scale` [points, instances, features] = 2·I·w may be passed precomputed (it is constant)."""
    inst, n = b.shape
    G = W.transpose(1, 2) @ W  # [I, n, n]
    # Points-major layout [K, I, n]: both products below are one large GEMM, not I tiny ones.
    pre = (points.x @ G.transpose(0, 1).reshape(n, inst * n)).view(-1, inst, n).add_(b)
    # d loss / d pre = 2 I w (ReLU(pre) − x) where pre > 0, else 0
    if scale is None:
        scale = weights.T[:, :, None] * (2 * importance)
    d = torch.where(pre > 0, pre.sub_(points.x[:, None, :]), 0.0).mul_(scale)
    b.grad = d.sum(0)
    g_G = (points.x.T @ d.view(-1, inst * n)).view(n, inst, n).transpose(0, 1)  # Σ_k x_ki d_kj
    W.grad = W @ (g_G + g_G.transpose(1, 2))


class ExactTrainConfig(FrozenConfig):
    """Full-batch training on the exact loss (`train_exact`'s settings, without the seed):
    `train_exact(m, importance, density, **cfg.to_dict(), seed=...)`."""

    seeds: int = Field(10, ge=1, le=1000, description="models per setting; the best is kept")
    steps: int = Field(400, ge=1, le=100_000, description="full-batch Adam steps on the exact loss")
    lr: float = Field(0.05, gt=0, le=10, description="peak learning rate (cosine decay)")
    nodes: int = Field(8, ge=2, le=32, description="Gauss–Legendre nodes per active feature")


@dataclass
class ExactTrainResult:
    """Best-of-seeds models trained on the exact loss, one per setting."""

    W: torch.Tensor  # [settings, hidden, features]
    b: torch.Tensor  # [settings, features]
    loss: torch.Tensor  # [settings] exact loss of the kept seed
    seed_losses: torch.Tensor  # [settings, seeds]


def train_exact(
    n_hidden: int,
    importance: torch.Tensor,
    density: torch.Tensor,
    seeds: int = 10,
    steps: int = 400,
    lr: float = 0.05,
    nodes: int = 8,
    seed: int = 0,
    init: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> ExactTrainResult:
    """Train `seeds` models per setting (rows of importance/density [settings, features]) by full-batch
    Adam on the exact loss with a cosine learning-rate decay; keep the lowest-loss seed of each.
    `init` (W [settings, hidden, features], b [settings, features]) starts every seed there instead
    of at a random init (continuing a solution into neighbouring settings)."""
    device = importance.device
    settings, n = importance.shape
    points = quadrature_points(n, nodes, device)
    # PyTorch threads chosen for the work, as in sampled training (`toy.threads`): these steps are
    # small, and on one thread they took 5× less CPU than on two (8×8 settings, 3125 points)
    threads = step_threads(False, device, settings * seeds, len(points.weight), n, n_hidden)
    with torch_threads(threads):
        return _train_exact(n_hidden, importance, density, points, seeds, steps, lr, seed, init)


def _train_exact(n_hidden, importance, density, points, seeds, steps, lr, seed, init):
    """`train_exact` on the given quadrature points (PyTorch's thread count already chosen)."""
    device = importance.device
    settings, n = importance.shape
    total = settings * seeds
    imp = importance.repeat_interleave(seeds, 0)
    dens = density.repeat_interleave(seeds, 0)
    weights = points.pattern_probability(dens)
    gen = make_generator(seed, device)
    std = math.sqrt(2.0 / (n_hidden + n))  # the same Xavier-normal init as ToyModel
    if init is None:
        W = torch.randn(total, n_hidden, n, generator=gen, device=device) * std
        b = torch.zeros(total, n, device=device)
    else:
        W = init[0].to(device).repeat_interleave(seeds, 0).clone()
        b = init[1].to(device).repeat_interleave(seeds, 0).clone()
    W.requires_grad_()
    b.requires_grad_()
    try:
        opt = torch.optim.Adam([W, b], lr=lr, fused=True)
    except (RuntimeError, TypeError):
        opt = torch.optim.Adam([W, b], lr=lr, foreach=True)
    scale = weights.T[:, :, None] * (2 * imp)
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        exact_loss_grads(W, b, imp, points, weights, scale)
        opt.step()
    with torch.no_grad():
        final = exact_loss(W, b, imp, dens, points, weights).view(settings, seeds)
        best = final.argmin(1) + torch.arange(settings, device=device) * seeds
        return ExactTrainResult(
            W=W.detach()[best], b=b.detach()[best], loss=final.min(1).values, seed_losses=final
        )
