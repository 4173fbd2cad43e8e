"""A functional twin of `ToyModel.loss_and_grads` for `torch.compile`.

Compiling fuses the elementwise passes over the [instances, batch, features] activations (bias,
ReLU mask, error) into one, around the matmuls. It pays off only for long runs (warm-up is
~20–70 s of compilation), so the trainer turns it on by `train.compile` (auto: for big runs).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

from .kinds import KINDS

GradsFn = Callable[..., tuple]

# auto turns compilation on when steps × instances × batch × features reaches this
COMPILE_WORK = 1e10


def toy_loss_and_grads(
    kind: str,
    W: torch.Tensor,
    W_out: torch.Tensor | None,
    b: torch.Tensor,
    x: torch.Tensor,
    importance: torch.Tensor,
    l1_hidden: float,
    need_loss: bool,
) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """(per-instance loss [I] or None, dW [I, m, n], dW_out [I, n, m] or None, db [I, n]) for
    the summed loss; the same numbers as `ToyModel.loss_and_grads`, written functionally.
    Shapes: W [I, m, n], W_out [I, n, m] (abs only), b [I, n], x [I, B, n], importance [I, n]."""
    spec = KINDS[kind]
    batch = x.shape[1]
    a = torch.bmm(x, W.transpose(1, 2))  # [I, B, m]
    h = torch.relu(a) if spec.hidden_relu else a
    w_out = W if spec.tied else W_out.transpose(1, 2)  # [I, m, n]
    pre = torch.bmm(h, w_out) + b[:, None, :]  # [I, B, n]
    target = spec.target(x)
    out = torch.relu(pre) if spec.output_relu else pre
    loss = None
    if need_loss:
        loss = (importance[:, None, :] * (out - target) ** 2).sum(-1).mean(-1)
        if l1_hidden:
            loss = loss + l1_hidden * h.abs().sum(-1).mean(-1)
    d = torch.where(pre > 0, pre - target, 0.0) if spec.output_relu else out - target
    c = importance * (2.0 / batch)  # [I, n]
    g_h = torch.bmm(d, (w_out * c[:, None, :]).transpose(1, 2))  # [I, B, m]
    if l1_hidden:
        g_h = g_h + torch.sign(h) * (l1_hidden / batch)
    if spec.hidden_relu:
        g_h = torch.where(a > 0, g_h, 0.0)
    g_enc = torch.bmm(g_h.transpose(1, 2), x)  # [I, m, n]
    g_dec = torch.bmm(h.transpose(1, 2), d) * c[:, None, :]  # [I, m, n]
    g_b = d.sum(1) * c
    if spec.tied:
        return loss, g_enc + g_dec, None, g_b
    return loss, g_enc, g_dec.transpose(1, 2).contiguous(), g_b


def compiled_grads(enabled: bool) -> GradsFn | None:
    """`torch.compile`d `toy_loss_and_grads`, or None (eager) when not enabled or when this
    machine cannot compile (no C compiler, unsupported platform): then with a warning."""
    if not enabled:
        return None
    try:
        return torch.compile(toy_loss_and_grads, dynamic=False)
    except Exception as err:  # pragma: no cover - depends on the machine
        warnings.warn(f"torch.compile unavailable ({err}); training eagerly", stacklevel=2)
        return None


def use_compile(setting: str, steps: int, instances: int, batch: int, features: int) -> bool:
    """on / off as given; auto when the run is big enough to repay the compile warm-up."""
    if setting == "auto":
        return steps * instances * batch * features >= COMPILE_WORK
    return setting == "on"
