"""Toy-model kinds, one file each (copy `relu_hidden.py` to add one; import it below)."""

from typing import Literal

from . import abs, linear, relu_hidden, relu_output  # noqa: F401  (each registers itself)
from .base import KINDS, ToyKind, get_kind, register_kind

_ORDER = ("linear", "relu_output", "relu_hidden", "abs")
MODEL_KINDS: tuple[str, ...] = (*_ORDER, *(k for k in KINDS if k not in _ORDER))
ModelKind = Literal[MODEL_KINDS]  # type: ignore[valid-type]

__all__ = ["KINDS", "MODEL_KINDS", "ModelKind", "ToyKind", "get_kind", "register_kind"]
