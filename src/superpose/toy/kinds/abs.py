"""abs: h = ReLU(W x), y' = ReLU(W_out h + b), target |x| (computation; W_out untied)."""

import math

import torch

from .base import ToyKind, register_kind


@register_kind
class Abs(ToyKind):
    name = "abs"
    formula = "h = ReLU(W x),  y' = ReLU(W_out h + b), target |x|"
    hidden_relu = True
    tied = False
    native_code = 3

    @staticmethod
    def init_std(n_features: int, n_hidden: int) -> float:
        # The notebook's xavier_normal_ on the [instances, hidden, features] tensor has
        # fan_in = hidden·features; we use its one-instance value, ~√features smaller than
        # per-matrix Xavier. With the larger scale, sparse models start with large
        # interference and let whole output units (or one sign of them) die.
        return math.sqrt(2.0 / (n_features * (n_hidden + 1)))

    @staticmethod
    def init_out(shape, generator, device, std: float) -> torch.Tensor:
        # W_out ≥ 0 at init (half-normal): every output unit ReLU(W_out h + b) starts alive
        # for both signs of every feature. With signed W_out, a feature whose initial gain
        # Σ_j W_out[i, j] ReLU(±W[j, i]) is negative gets no gradient on that side at sparse
        # inputs, and training settles with only ReLU(x_i) or ReLU(−x_i) (half-wave).
        w_out = torch.randn(shape, generator=generator, device=device).abs_() * std
        return w_out.transpose(1, 2).contiguous()  # [inst, features, hidden]

    @staticmethod
    def target(x: torch.Tensor) -> torch.Tensor:
        return x.abs()
