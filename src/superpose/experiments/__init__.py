"""Registry of experiments. Every module in this package that calls `register` is loaded."""

from __future__ import annotations

import importlib
import pkgutil

from ..base.errors import SuperposeError
from .base import Claim, Experiment, ExperimentResult, RunContext, run_experiment

_REGISTRY: dict[str, Experiment] = {}
_loaded = False


def register(exp: Experiment) -> Experiment:
    if exp.name in _REGISTRY and _REGISTRY[exp.name] is not exp:
        raise ValueError(f"experiment {exp.name!r} registered twice")
    _REGISTRY[exp.name] = exp
    return exp


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base" and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True


def registry() -> dict[str, Experiment]:
    """All registered experiments by name, in name order."""
    _load_all()
    return dict(sorted(_REGISTRY.items()))


def get_experiment(name: str) -> Experiment:
    reg = registry()
    if name not in reg:
        raise SuperposeError(f"unknown experiment {name!r}; known: {', '.join(reg)}")
    return reg[name]


__all__ = [
    "Claim",
    "Experiment",
    "ExperimentResult",
    "RunContext",
    "get_experiment",
    "register",
    "registry",
    "run_experiment",
]
