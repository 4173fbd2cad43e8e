"""Benchmarks: superpose side by side with a naive reference on the same work, in the same run.

Each benchmark module in this package registers a function `fn(quick: bool) -> list[BenchRow]`;
`superpose bench` and the scripts in `benchmarks/` run them and print ratios, never bare times.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ..base.errors import SuperposeError


@dataclass(frozen=True)
class BenchRow:
    """One timed task: our time and the reference's on the same work (seconds)."""

    bench: str
    task: str
    ours_s: float
    reference_s: float | None = None
    note: str = ""
    # a tolerance row (the same code under two conditions, so no reference and no speed-up):
    # (measured, bar), within while measured ≤ bar; the note says what both are
    tolerance: tuple[float, float] | None = None

    @property
    def ratio(self) -> float | None:
        """How many times faster we are than the reference (None without a reference)."""
        return None if self.reference_s is None else self.reference_s / self.ours_s

    @property
    def within(self) -> bool | None:
        """A tolerance row's verdict (None for a speed-up row)."""
        return None if self.tolerance is None else self.tolerance[0] <= self.tolerance[1]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "within": self.within}


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds, value) of `fn()`."""
    t0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - t0, time.process_time() - c0, value


BenchFn = Callable[[bool], list[BenchRow]]
_REGISTRY: dict[str, tuple[str, BenchFn]] = {}


def register(name: str, description: str) -> Callable[[BenchFn], BenchFn]:
    """Decorator: register `fn(quick) -> rows` under `name`."""

    def wrap(fn: BenchFn) -> BenchFn:
        _REGISTRY[name] = (description, fn)
        return fn

    return wrap


def registry() -> dict[str, tuple[str, BenchFn]]:
    """All benchmarks by name: (description, function)."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return dict(sorted(_REGISTRY.items()))


def run_benchmarks(names: list[str] | None = None, quick: bool = True) -> list[BenchRow]:
    reg = registry()
    unknown = [n for n in names or [] if n not in reg]
    if unknown:
        raise SuperposeError(f"unknown benchmark {unknown[0]!r}; known: {', '.join(reg)}")
    rows: list[BenchRow] = []
    for name in names or list(reg):
        rows.extend(reg[name][1](quick))
    return rows


__all__ = ["BenchRow", "register", "registry", "run_benchmarks"]
