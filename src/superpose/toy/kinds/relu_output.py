"""relu_output: x' = ReLU(Wᵀ W x + b)."""

from .base import ToyKind, register_kind


@register_kind
class ReluOutput(ToyKind):
    name = "relu_output"
    formula = "x' = ReLU(Wᵀ W x + b)"
    native_code = 1
