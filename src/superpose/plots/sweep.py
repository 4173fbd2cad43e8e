"""Figures of sweep results: a phase-diagram-style heat-map (2 axes) or lines with seed spread (1 axis)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import plt, save_figure


def _label(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list | dict):
        return json.dumps(v)[:20]
    return str(v)


def _log_axis(values: Sequence[Any]) -> bool:
    nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return len(nums) == len(values) >= 3 and min(nums) > 0 and max(nums) / min(nums) >= 100


def heatmap(
    x_values: Sequence[Any],
    y_values: Sequence[Any],
    z: np.ndarray,  # [len(y), len(x)], NaN where no finished run
    path: str | Path,
    *,
    title: str,
    x_label: str,
    y_label: str,
    z_label: str,
) -> Path:
    """Heat-map of a metric over two axes (mean over seeds); missing cells are grey."""
    fig, ax = plt.subplots(
        figsize=(1.0 + 0.55 * max(4, len(x_values)), 1.0 + 0.45 * max(4, len(y_values)))
    )
    cmap = plt.get_cmap("viridis").with_extremes(bad="#cccccc")
    im = ax.imshow(np.ma.masked_invalid(z), cmap=cmap, origin="lower", aspect="auto")
    ax.set_xticks(range(len(x_values)), [_label(v) for v in x_values], rotation=45, ha="right")
    ax.set_yticks(range(len(y_values)), [_label(v) for v in y_values])
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label=z_label)
    if z.size <= 144:
        finite = z[np.isfinite(z)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for (i, j), v in np.ndenumerate(z):
            if np.isfinite(v):
                ax.text(
                    j,
                    i,
                    f"{v:.3g}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if v > mid else "white",
                )
    return save_figure(fig, path)


def lines(
    x_values: Sequence[Any],
    series: dict[str, tuple[np.ndarray, np.ndarray]],  # name → (mean, std) per x, NaN if missing
    path: str | Path,
    *,
    title: str,
    x_label: str,
    y_label: str,
) -> Path:
    """Metric against one axis; the band is ± one standard deviation over seeds."""
    fig, ax = plt.subplots(figsize=(6, 4))
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in x_values)
    x = np.asarray(x_values, dtype=float) if numeric else np.arange(len(x_values))
    for name, (mean, std) in series.items():
        ax.plot(x, mean, marker="o", label=name)
        if np.any(std > 0):
            ax.fill_between(x, mean - std, mean + std, alpha=0.2)
    if numeric and _log_axis(x_values):
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(x, [_label(v) for v in x_values], rotation=45, ha="right")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return save_figure(fig, path)
