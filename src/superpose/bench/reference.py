"""A naive reference training loop, written as in the paper's notebook, for side-by-side timing.

Two random draws per step (values and mask), einsum forward with the instance axis second,
autograd, torch.optim.AdamW with its default settings. Kept deliberately plain: it is the yardstick
the trainer's speed-ups are measured against, on the same machine in the same run.
"""

from __future__ import annotations

import time

import torch


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
    torch.manual_seed(seed)
    W = torch.nn.Parameter(torch.empty(n_instances, n_features, n_hidden))
    torch.nn.init.xavier_normal_(W)
    b = torch.nn.Parameter(torch.zeros(n_instances, n_features))
    opt = torch.optim.AdamW([W, b], lr=lr, weight_decay=0.01)
    prob = (1 - sparsity)[None, :, None]

    def batch(size):
        feat = torch.rand(size, n_instances, n_features)
        return torch.where(torch.rand(size, n_instances, n_features) <= prob, feat, 0.0)

    def forward(x):
        h = torch.einsum("bif,ifh->bih", x, W)
        out = torch.einsum("bih,ifh->bif", h, W)
        return torch.relu(out + b)

    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        x = batch(batch_size)
        err = importance * (x - forward(x)) ** 2
        loss = err.sum(-1).mean(0).sum()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        x = batch(eval_batch)
        return (importance * (x - forward(x)) ** 2).sum(-1).mean(0), seconds
