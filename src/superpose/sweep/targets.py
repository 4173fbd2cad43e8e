"""What a sweep can run: toy configs, registered experiments, constructions — each a registered target.

A target knows how to find its base config from the spec's field of the same name (`toy:`,
`experiment:`, `construction:`) and how to run one point in a worker. Targets register themselves
where their code lives (the toy and construction targets in `sweep.runners`, the experiment target in
`experiments/sweep_target.py`); a worker process imports the registering module of a built-in target on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base.config import FrozenConfig
from ..base.errors import SuperposeError

# spec value, mode (quick|full), source for errors, folder of the spec → (name, config class, dict)
BaseFn = Callable[[Any, str, str, Path], tuple[str, type[FrozenConfig], dict[str, Any]]]
# target name, quick, config dict → the run's metrics
RunFn = Callable[[str, bool, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class SweepTarget:
    """One kind of thing a sweep runs (the spec field of the same name chooses it)."""

    kind: str
    base: BaseFn
    run: RunFn


_TARGETS: dict[str, SweepTarget] = {}
# the module that registers each built-in target (imported on first use, e.g. in a fresh worker)
_BUILT_IN = {
    "toy": "superpose.sweep.runners",
    "construction": "superpose.sweep.runners",
    "experiment": "superpose.experiments.sweep_target",
}
KINDS = tuple(_BUILT_IN)


def register_target(target: SweepTarget) -> SweepTarget:
    _TARGETS[target.kind] = target
    return target


def get_target(kind: str) -> SweepTarget:
    if kind not in _TARGETS and kind in _BUILT_IN:
        importlib.import_module(_BUILT_IN[kind])
    if kind not in _TARGETS:
        raise SuperposeError(f"unknown sweep target {kind!r}; known: {', '.join(KINDS)}")
    return _TARGETS[kind]
