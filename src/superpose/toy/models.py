"""Toy models of superposition, batched over a leading instance axis.

Shapes: x [instances, batch, features], W [instances, hidden, features], b [instances, features].
The kinds (one file each in `toy/kinds/`: nonlinearities, tying, init, target, native branch):

- linear:       x' = Wᵀ W x + b
- relu_output:  x' = ReLU(Wᵀ W x + b)
- relu_hidden:  h = ReLU(W x),  x' = ReLU(Wᵀ h + b)           (privileged hidden basis)
- abs:          h = ReLU(W x),  y' = ReLU(W_out h + b), target |x|  (computation; W_out untied)

Each model computes its loss and gradients by hand (`loss_and_grads`): the same numbers as autograd
(tested), without building a graph every step.
"""

from __future__ import annotations

import torch
from torch import nn

from .kinds import KINDS, MODEL_KINDS, ModelKind, ToyKind, get_kind

__all__ = ["MODEL_KINDS", "ModelKind", "ToyModel"]


class ToyModel(nn.Module):
    """A batch of independent toy models of one kind."""

    def __init__(
        self,
        kind: ModelKind,
        n_instances: int,
        n_features: int,
        n_hidden: int,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        spec = get_kind(kind)
        self.kind = kind
        self.n_instances, self.n_features, self.n_hidden = n_instances, n_features, n_hidden
        std = spec.init_std(n_features, n_hidden)
        shape = (n_instances, n_hidden, n_features)
        self.W = nn.Parameter(torch.randn(shape, generator=generator, device=device) * std)
        if not spec.tied:
            self.W_out = nn.Parameter(spec.init_out(shape, generator, device, std))
        self.b = nn.Parameter(torch.zeros(n_instances, n_features, device=device))

    @property
    def spec(self) -> type[ToyKind]:
        """This model's kind (toy/kinds/)."""
        return KINDS[self.kind]

    @property
    def tied(self) -> bool:
        return self.spec.tied

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """Hidden activations h: [instances, batch, hidden]."""
        a = torch.bmm(x, self.W.transpose(1, 2))
        return torch.relu(a) if self.spec.hidden_relu else a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output x' (or y' for abs): [instances, batch, features]."""
        h = self.hidden(x)
        w_out = self.W if self.tied else self.W_out.transpose(1, 2)
        pre = torch.baddbmm(self.b[:, None, :], h, w_out)
        return torch.relu(pre) if self.spec.output_relu else pre

    def target(self, x: torch.Tensor) -> torch.Tensor:
        return self.spec.target(x)

    def loss(
        self, x: torch.Tensor, importance: torch.Tensor, l1_hidden: float = 0.0
    ) -> torch.Tensor:
        """Per-instance loss: mean over batch of Σ_i I_i (target_i − out_i)² (+ L1 on h): [instances]."""
        err = importance[:, None, :] * (self.target(x) - self(x)) ** 2
        loss = err.sum(-1).mean(-1)
        if l1_hidden:
            loss = loss + l1_hidden * self.hidden(x).abs().sum(-1).mean(-1)
        return loss

    @torch.no_grad()
    def loss_and_grads(
        self,
        x: torch.Tensor,
        importance: torch.Tensor,
        l1_hidden: float = 0.0,
        need_loss: bool = True,
    ) -> torch.Tensor | None:
        """Write the gradient of the summed loss into each `.grad`; return the per-instance loss
        [instances] when `need_loss` (skipping it saves two passes over the batch).

        x may be a transposed view of a contiguous [instances, features, batch] tensor
        (`FeatureDistribution.sample(..., feature_major=True)`): the [I, B, n] intermediates are
        then laid out the same way, so every elementwise pass runs over contiguous memory."""
        inst, batch, _ = x.shape
        spec = self.spec
        a = torch.bmm(x, self.W.transpose(1, 2))  # [I, B, m]
        h = torch.relu(a) if spec.hidden_relu else a
        w_out = self.W if spec.tied else self.W_out.transpose(1, 2)  # [I, m, n]
        # the bias rides in the matmul as an extra hidden unit fixed at 1: no pass to add it
        # (baddbmm with a broadcast bias is ~3x slower than bmm on CPU)
        h1 = torch.cat([h, h.new_ones(inst, batch, 1)], dim=2)  # [I, B, m+1]
        w1 = torch.cat([w_out, self.b[:, None, :]], dim=1)  # [I, m+1, n]
        # the two [I, B, n] intermediates live in buffers reused across steps (fresh large
        # tensors every step cost page faults); laid out like x so elementwise passes are linear
        if x.transpose(1, 2).is_contiguous():  # feature-major x: pre in the same layout
            shape = (inst, x.shape[2], batch)
            pre_buf, d_buf = self._workspace(shape, x), self._workspace(shape, x, 1)
            pre = torch.bmm(w1.transpose(1, 2), h1.transpose(1, 2), out=pre_buf).transpose(1, 2)
            d = d_buf.transpose(1, 2)
        else:
            shape = (inst, batch, x.shape[2])
            pre = torch.bmm(h1, w1, out=self._workspace(shape, x))  # [I, B, n]
            d = self._workspace(shape, x, 1)
        loss = None
        if need_loss:
            out = torch.relu(pre) if spec.output_relu else pre
            diff = out.sub(self.target(x))
            loss = (diff.square_().mul_(importance[:, None, :])).sum(-1).mean(-1)
            if l1_hidden:
                loss += l1_hidden * h.abs().sum(-1).mean(-1)
        # d loss / d pre = D · c with D = (out − target) where the output ReLU is on, else 0, and
        # c = 2 I / B per feature; c is folded into the small matrices so the big D needs no pass.
        # Float arithmetic only: boolean masks (masked_fill, where) are ~10x slower on CPU here.
        torch.sub(pre, self.target(x), out=d)
        if spec.output_relu:
            # ReLU's own backward kernel: (pre − target) where pre > 0, else 0
            torch.ops.aten.threshold_backward.grad_input(d, pre, 0.0, grad_input=d)
        c = importance * (2.0 / batch)  # [I, n]
        g_h = torch.bmm(d, (w_out * c[:, None, :]).transpose(1, 2))  # [I, B, m]
        if l1_hidden:
            g_h.add_(torch.sign(h), alpha=l1_hidden / batch)
        if spec.hidden_relu:
            g_h.mul_(torch.sign(h))  # h = relu(a): zero the gradient where a <= 0
        g_enc = torch.bmm(g_h.transpose(1, 2), x)  # [I, m, n]
        # the ones column of h1 turns the decoder gradient's last row into Σ_batch D: the bias's
        g_dec1 = torch.bmm(h1.transpose(1, 2), d).mul_(c[:, None, :])  # [I, m+1, n]
        self.b.grad = g_dec1[:, -1].contiguous()
        g_dec = g_dec1[:, :-1]
        if spec.tied:
            self.W.grad = g_enc.add_(g_dec)
        else:
            self.W.grad = g_enc
            self.W_out.grad = g_dec.transpose(1, 2).contiguous()
        return loss

    def _workspace(self, shape: tuple[int, ...], like: torch.Tensor, slot: int = 0) -> torch.Tensor:
        """A scratch tensor of `shape` kept between calls (contents undefined)."""
        spaces = self.__dict__.setdefault("_spaces", {})
        buf = spaces.get(slot)
        if buf is None or buf.shape != shape or buf.device != like.device:
            buf = spaces[slot] = torch.empty(shape, device=like.device, dtype=like.dtype)
        return buf

    def select_instances(self, index: torch.Tensor) -> ToyModel:
        """A new model holding only the given instances (used by best-of-N)."""
        new = ToyModel.__new__(ToyModel)
        nn.Module.__init__(new)
        new.kind, new.n_features, new.n_hidden = self.kind, self.n_features, self.n_hidden
        new.n_instances = len(index)
        for name, p in self.named_parameters():
            setattr(new, name, nn.Parameter(p.detach()[index].clone()))
        return new

    def weights(self) -> dict[str, torch.Tensor]:
        """Detached parameter tensors by name (W, b, and W_out for abs)."""
        return {name: p.detach() for name, p in self.named_parameters()}
