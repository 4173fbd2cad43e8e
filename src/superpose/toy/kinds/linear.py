"""linear: x' = Wᵀ W x + b."""

from .base import ToyKind, register_kind


@register_kind
class Linear(ToyKind):
    name = "linear"
    formula = "x' = Wᵀ W x + b"
    output_relu = False
    native_code = 0
