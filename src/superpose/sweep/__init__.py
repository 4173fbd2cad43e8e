"""Sweeps: apply one function over a grid of points, locally or on a cluster, into a run store."""

from __future__ import annotations

from typing import Any

__all__ = ["map_grid"]


def __getattr__(name: str) -> Any:
    # loaded on first use, so a pool worker (which imports sweep.worker) starts without the
    # driver's progress bars
    if name == "map_grid":
        from .driver import map_grid

        return map_grid
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
