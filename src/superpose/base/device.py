"""Device choice: CPU everywhere, CUDA when present, the same code path."""

from __future__ import annotations

import torch

from .errors import SuperposeError


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks CUDA when available, else CPU; `cpu`, `cuda`, `cuda:N` are taken as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SuperposeError(
            f"device {name!r} is not a device (use auto, cpu, cuda or cuda:N)"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SuperposeError(f"device {name!r} asked for, but CUDA is not available here")
    return device


def make_generator(seed: int, device: torch.device) -> torch.Generator:
    """A seeded generator on `device`: the same seed gives the same draws on the same device."""
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen
