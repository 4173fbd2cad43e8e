"""What makes a toy-model kind: its nonlinearities, tying, init, target and native-kernel branch."""

from __future__ import annotations

import math
from typing import ClassVar

import torch


class ToyKind:
    """One kind of toy model (a class, never instantiated). Subclass it in one file and decorate the
    subclass with `register_kind`; `ToyModel`, the compiled step and the native step read it."""

    name: ClassVar[str]
    formula: ClassVar[str]
    hidden_relu: ClassVar[bool] = False  # h = ReLU(W x) (else h = W x)
    output_relu: ClassVar[bool] = True  # out = ReLU(W_out h + b) (else linear)
    tied: ClassVar[bool] = True  # W_out = Wᵀ (else its own W_out: [instances, features, hidden])
    native_code: ClassVar[int | None] = None  # the model branch of native_step.c (None: none)

    @staticmethod
    def init_std(n_features: int, n_hidden: int) -> float:
        """Xavier-normal per instance: depends on (hidden, features) only, never on the number
        of instances (the reference notebook's init over the whole tensor does)."""
        return math.sqrt(2.0 / (n_hidden + n_features))

    @staticmethod
    def init_out(
        shape: tuple[int, int, int], generator: torch.Generator | None, device, std: float
    ) -> torch.Tensor:
        """Initial W_out: [instances, features, hidden] (untied kinds only); `shape` is W's."""
        raise NotImplementedError

    @staticmethod
    def target(x: torch.Tensor) -> torch.Tensor:
        """What the model should output for input x."""
        return x


KINDS: dict[str, type[ToyKind]] = {}


def register_kind(cls: type[ToyKind]) -> type[ToyKind]:
    KINDS[cls.name] = cls
    return cls


def get_kind(name: str) -> type[ToyKind]:
    if name not in KINDS:
        raise ValueError(f"unknown model kind {name!r}; expected one of {tuple(KINDS)}")
    return KINDS[name]
