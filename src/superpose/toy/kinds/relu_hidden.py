"""relu_hidden: h = ReLU(W x), x' = ReLU(Wᵀ h + b) (privileged hidden basis)."""

from .base import ToyKind, register_kind


@register_kind
class ReluHidden(ToyKind):
    name = "relu_hidden"
    formula = "h = ReLU(W x),  x' = ReLU(Wᵀ h + b)"
    hidden_relu = True
    native_code = 2
