"""Figures (matplotlib, PNG, headless). Each figure is titled and labelled for a reader."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def save_figure(fig: plt.Figure, path: str | Path, dpi: int = 110) -> Path:
    """Save and close a figure; returns the path."""
    path = Path(path)
    from ..base.files import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".") or "png"
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=fmt))
    finally:
        plt.close(fig)
    return path


__all__ = ["plt", "save_figure"]
