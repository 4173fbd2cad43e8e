"""Residual-MLP "compressed computation" (Braun et al. 2025) with its controls (REFERENCE §5).

F sparse features x (each uniform on [−1, 1] with probability p, else 0) enter a residual stream
through a frozen random embedding W_E: [D, F] with unit-norm columns; one MLP of N ReLU neurons
(W_in: [N, D], W_out: [D, N], no biases) adds to it; the output is read with W_U = W_Eᵀ:
    ŷ = W_Eᵀ (W_E x + W_out ReLU(W_in W_E x)) = G x + B ReLU(A x),
    G = W_EᵀW_E [F, F], A = W_in W_E [N, F], B = W_Eᵀ W_out [F, N].
Labels (`labels`):
- "noisy" (Braun et al.): y = x + ReLU(x). The residual delivers G x, so the MLP is asked for
  ReLU(x) − (G − I) x: the embedding-noise term mixes features into its target (Bhagat et al.);
- "clean" (the control): y = G x + ReLU(x), the MLP's target is ReLU(x) alone.
Naive baseline: N neurons each compute one feature's ReLU exactly, the other F − N features get 0:
loss per feature (F − N)/F · E[ReLU(x_i)²] = (F − N)/F · p/6 (E over u ~ U[−1, 1]: ½·⅓).

Training runs on (A, B) — the same function class as (W_in, W_out), since W_E has full column rank —
which makes a step cost F·N instead of D·N per input (Bhagat et al.'s equivalent model). The
residual-stream weights are recovered exactly: W_in = A W_E⁺, W_out = W_E G⁻¹ B. Optimiser: AdamW
with a cosine learning-rate decay; minibatches from the config's seed (deterministic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from pydantic import Field

from ..base.config import FrozenConfig


class ResidMLPConfig(FrozenConfig):
    features: int = Field(100, ge=2, le=100_000, description="sparse input features F")
    d_embed: int = Field(1000, ge=2, le=100_000, description="residual width D (≥ F)")
    neurons: int = Field(50, ge=1, le=100_000, description="MLP neurons N")
    p: float = Field(0.01, gt=0, le=1, description="probability a feature is non-zero")
    labels: Literal["noisy", "clean"] = Field(
        "noisy", description="noisy: y = x + ReLU(x) (Braun et al.); clean: y = W_EᵀW_E x + ReLU(x)"
    )
    steps: int = Field(10_000, ge=1, le=10_000_000, description="AdamW steps")
    batch: int = Field(2048, ge=1, le=1_000_000, description="inputs per step")
    lr: float = Field(3e-3, gt=0, le=1, description="peak learning rate (cosine decay to 0)")
    weight_decay: float = Field(0.0, ge=0, le=1, description="AdamW weight decay on A and B")
    eval_batch: int = Field(100_000, ge=1, le=10_000_000, description="inputs of the final loss")
    embed_seed: int = Field(0, ge=0, description="seed of the frozen embedding W_E")
    seed: int = Field(0, ge=0, description="seed of the initial weights and the data")


def embedding(cfg: ResidMLPConfig) -> torch.Tensor:
    """Frozen random W_E: [D, F], columns of unit norm."""
    gen = torch.Generator().manual_seed(cfg.embed_seed)
    W = torch.randn(cfg.d_embed, cfg.features, generator=gen)
    return W / W.norm(dim=0, keepdim=True)


def sample_features(batch: int, F: int, p: float, gen: torch.Generator) -> torch.Tensor:
    """x: [batch, F], each entry uniform on [−1, 1] with probability p, else 0."""
    on = torch.rand(batch, F, generator=gen) < p
    return torch.where(on, 2 * torch.rand(batch, F, generator=gen) - 1, 0.0)


def naive_loss(cfg: ResidMLPConfig) -> float:
    """The naive baseline's loss per feature, (F − N)/F · p/6 (0 when N ≥ F)."""
    F, N = cfg.features, cfg.neurons
    return max(F - N, 0) / F * cfg.p / 6


@dataclass
class ResidMLP:
    """A (trained) residual MLP: W_E: [D, F] frozen, A = W_in W_E: [N, F], B = W_Eᵀ W_out: [F, N]."""

    config: ResidMLPConfig
    W_E: torch.Tensor
    A: torch.Tensor
    B: torch.Tensor

    @property
    def gram(self) -> torch.Tensor:
        """G = W_EᵀW_E: [F, F] (I plus the embedding noise)."""
        return self.W_E.T @ self.W_E

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ŷ = G x + B ReLU(A x): [batch, F] → [batch, F]."""
        return x @ self.gram + torch.relu(x @ self.A.T) @ self.B.T

    def labels(self, x: torch.Tensor) -> torch.Tensor:
        """Targets for x under the config's labels: [batch, F]."""
        y = torch.relu(x)
        return y + (x if self.config.labels == "noisy" else x @ self.gram)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Mean squared error per feature (mean over batch and features)."""
        return (self.forward(x) - self.labels(x)).square().mean()

    def residual_weights(self) -> dict[str, torch.Tensor]:
        """The network in the residual stream: W_E [D, F], W_in [N, D], W_out [D, N], W_U [F, D]."""
        W_E, G = self.W_E.double(), self.gram.double()
        W_in = self.A.double() @ torch.linalg.solve(G, W_E.T)
        W_out = W_E @ torch.linalg.solve(G, self.B.double())
        return {"W_E": self.W_E, "W_in": W_in.float(), "W_out": W_out.float(), "W_U": self.W_E.T}

    def residual_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The same output computed through the residual stream (checks `residual_weights`)."""
        w = self.residual_weights()
        r = x @ w["W_E"].T
        return (r + torch.relu(r @ w["W_in"].T) @ w["W_out"].T) @ w["W_U"].T


def naive_model(cfg: ResidMLPConfig) -> ResidMLP:
    """The naive baseline as a network: neuron i computes ReLU(x_i) for the first N features."""
    F, N = cfg.features, min(cfg.neurons, cfg.features)
    A = torch.zeros(cfg.neurons, F)
    A[torch.arange(N), torch.arange(N)] = 1.0
    return ResidMLP(cfg, embedding(cfg), A, A.T.clone())


@dataclass
class ResidMLPResult:
    """A trained model, its training-loss curve (every 1% of the steps), its final loss per
    feature on `eval_batch` fresh inputs and that estimate's standard error."""

    model: ResidMLP
    losses: list[float]
    final_loss: float
    final_se: float


def evaluate(model: ResidMLP, n: int, seed: int) -> tuple[float, float]:
    """Loss per feature on n fresh inputs and its standard error (over inputs), in chunks."""
    cfg, gen = model.config, torch.Generator().manual_seed(seed)
    per_input = []
    with torch.no_grad():
        for start in range(0, n, 50_000):
            x = sample_features(min(50_000, n - start), cfg.features, cfg.p, gen)
            per_input.append((model.forward(x) - model.labels(x)).square().mean(1))
    losses = torch.cat(per_input).double()
    return float(losses.mean()), float(losses.std() / math.sqrt(n)) if n > 1 else 0.0


def init_resid_mlp(cfg: ResidMLPConfig, gen: torch.Generator) -> ResidMLP:
    """The untrained model training starts from: nn.Linear's default init in the residual
    stream, folded into feature space (the null a trained model is measured against)."""
    W_E = embedding(cfg)
    D, N = cfg.d_embed, cfg.neurons
    W_in = (2 * torch.rand(N, D, generator=gen) - 1) / math.sqrt(D)
    W_out = (2 * torch.rand(D, N, generator=gen) - 1) / math.sqrt(N)
    return ResidMLP(cfg, W_E, W_in @ W_E, W_E.T @ W_out)


def train_resid_mlp(cfg: ResidMLPConfig) -> ResidMLPResult:
    """Train (A, B) with AdamW + cosine decay; W_E stays frozen. Deterministic per seed."""
    gen = torch.Generator().manual_seed(cfg.seed)
    F = cfg.features
    start = init_resid_mlp(cfg, gen)
    W_E, A, B = start.W_E, start.A.requires_grad_(), start.B.requires_grad_()
    model = ResidMLP(cfg, W_E, A, B)
    opt = torch.optim.AdamW([A, B], lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / cfg.steps))
    )
    losses, every = [], max(1, cfg.steps // 100)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # [batch, F]×[F, N] products: a second thread only adds spinning
    try:
        for step in range(cfg.steps):
            loss = model.loss(sample_features(cfg.batch, F, cfg.p, gen))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if step % every == 0 or step == cfg.steps - 1:
                losses.append(loss.item())
    finally:
        torch.set_num_threads(threads)
    trained = ResidMLP(cfg, W_E, A.detach(), B.detach())
    return ResidMLPResult(trained, losses, *evaluate(trained, cfg.eval_batch, cfg.seed + 1))


__all__ = [
    "ResidMLP",
    "ResidMLPConfig",
    "ResidMLPResult",
    "embedding",
    "evaluate",
    "init_resid_mlp",
    "naive_loss",
    "naive_model",
    "sample_features",
    "train_resid_mlp",
]
