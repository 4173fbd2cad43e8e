"""Sweeps: apply one function over a grid of points, locally or on a cluster, into a run store."""

from .driver import map_grid

__all__ = ["map_grid"]
