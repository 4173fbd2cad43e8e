"""A naive reference training loop, written as in the paper's notebook, for side-by-side timing.

Two random draws per step (values and mask; for correlated / anticorrelated sets and exactly-k
features the mask is drawn as the notebooks draw it: per-set gates, a one-hot member, top-k
scores), einsum forward with the instance axis second, autograd, torch.optim.AdamW with its
default settings. Kept deliberately plain: it is the yardstick
the trainer's speed-ups are measured against, on the same machine in the same run.
"""

from __future__ import annotations

import time

import torch


class ReferenceLoop:
    """ReLU-output models trained naively; `run(k)` advances k steps and returns the seconds."""

    def __init__(
        self,
        n_features: int,
        n_hidden: int,
        n_instances: int,
        sparsity: torch.Tensor,  # [instances]
        importance: torch.Tensor,  # [features]
        batch_size: int = 1024,
        lr: float = 1e-3,
        seed: int = 0,
        features: dict | None = None,  # FeatureConfig fields: structure, set_size, k, values
    ):
        torch.manual_seed(seed)
        self.features = {"structure": "independent", "set_size": 2, "k": 1, "values": "uniform"}
        self.features.update(features or {})
        self.shape = (n_instances, n_features)
        self.W = torch.nn.Parameter(torch.empty(n_instances, n_features, n_hidden))
        torch.nn.init.xavier_normal_(self.W)
        self.b = torch.nn.Parameter(torch.zeros(n_instances, n_features))
        self.opt = torch.optim.AdamW([self.W, self.b], lr=lr, weight_decay=0.01)
        self.prob = (1 - sparsity)[None, :, None]
        self.importance = importance
        self.batch_size = batch_size

    def batch(self, size: int) -> torch.Tensor:
        """x: [batch, instances, features] (the notebook's layout)."""
        feat = torch.rand(size, *self.shape)
        if self.features["values"] == "signed":
            feat = feat * 2 - 1
        elif self.features["values"] == "boolean":
            feat = torch.ones_like(feat)
        structure, s = self.features["structure"], self.features["set_size"]
        if structure == "independent":
            present = torch.rand(size, *self.shape) <= self.prob
        elif structure == "correlated":  # one gate per set, repeated over its members
            gate = torch.rand(size, self.shape[0], self.shape[1] // s) <= self.prob
            present = gate.repeat_interleave(s, dim=-1)
        elif structure == "anticorrelated":  # one gate per set, then one member of it
            gate = torch.rand(size, self.shape[0], self.shape[1] // s) <= self.prob
            member = torch.randint(0, s, gate.shape)
            onehot = torch.nn.functional.one_hot(member, s).bool() & gate[..., None]
            present = onehot.reshape(size, *self.shape)
        else:  # exactly k: the k highest of fresh scores
            top = torch.rand(size, *self.shape).topk(self.features["k"], dim=-1).indices
            present = torch.zeros(size, *self.shape, dtype=torch.bool).scatter_(-1, top, True)
        return torch.where(present, feat, 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.einsum("bif,ifh->bih", x, self.W)
        out = torch.einsum("bih,ifh->bif", h, self.W)
        return torch.relu(out + self.b)

    def run(self, steps: int) -> float:
        """Train `steps` steps; returns the seconds they took."""
        start = time.perf_counter()
        for _ in range(steps):
            self.opt.zero_grad(set_to_none=True)
            x = self.batch(self.batch_size)
            err = self.importance * (x - self.forward(x)) ** 2
            loss = err.sum(-1).mean(0).sum()
            loss.backward()
            self.opt.step()
        return time.perf_counter() - start

    @torch.no_grad()
    def final_loss(self, eval_batch: int = 8192) -> torch.Tensor:
        """Per-instance loss on a fresh batch: [instances]."""
        x = self.batch(eval_batch)
        return (self.importance * (x - self.forward(x)) ** 2).sum(-1).mean(0)


def reference_train(
    n_features: int,
    n_hidden: int,
    n_instances: int,
    sparsity: torch.Tensor,  # [instances]
    importance: torch.Tensor,  # [features]
    steps: int,
    batch_size: int = 1024,
    lr: float = 1e-3,
    seed: int = 0,
    eval_batch: int = 8192,
) -> tuple[torch.Tensor, float]:
    """Train ReLU-output models naively. Returns (final per-instance loss on a fresh batch
    [instances], seconds spent in the training loop)."""
    loop = ReferenceLoop(
        n_features, n_hidden, n_instances, sparsity, importance, batch_size, lr, seed
    )
    seconds = loop.run(steps)
    return loop.final_loss(eval_batch), seconds
