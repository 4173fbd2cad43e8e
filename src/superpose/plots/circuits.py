"""Figures for circuits in superposition: error vs layer, decomposition, scaling, capacity, timing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import NullFormatter

from . import plt, save_figure


def error_vs_layer(
    curves: dict[str, tuple[Sequence[float], dict]], path: str | Path, title: str
) -> Path:
    """One line per label: (values per layer, matplotlib style kwargs); log y."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, (values, style) in curves.items():
        layers = np.arange(1, len(values) + 1)
        vals = np.asarray(values, dtype=float)
        # exact zeros (and float round-off) cannot sit on a log axis: drop them from the line
        ax.plot(layers, np.where(vals > 1e-9, vals, np.nan), label=label, **style)
    ax.set_yscale("log")
    ax.set_xticks(range(1, max(len(v) for v, _ in curves.values()) + 1))
    ax.set_xlabel("layer l (values ≤ 1e-9, i.e. exact, not drawn)")
    ax.set_ylabel("readout MSE per circuit neuron")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def decomposition(parts: dict[str, Sequence[float]], path: str | Path, title: str) -> Path:
    """Grouped bars of each error part's MSE per layer."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    names = list(parts)
    L = len(next(iter(parts.values())))
    width = 0.8 / len(names)
    for j, name in enumerate(names):
        ax.bar(
            np.arange(1, L + 1) + (j - (len(names) - 1) / 2) * width, parts[name], width, label=name
        )
    ax.set_xlabel("layer l")
    ax.set_ylabel("MSE per circuit neuron")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def loglog_panels(panels: list[dict], path: str | Path, title: str) -> Path:
    """Panels of log-log scatter + fitted line; each dict: x, ys {label: values}, fits {label:
    slope, intercept}, xlabel, title; optional ylabel, refs {label: values} (dashed, the label's
    colour, no fit)."""
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.6), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        x = np.asarray(panel["x"], dtype=float)
        for label, ys in panel["ys"].items():
            y = np.asarray(ys, dtype=float)
            (line,) = ax.plot(x, y, "o", label=label)
            fit = panel["fits"][label]
            ax.plot(
                x,
                np.exp(fit["intercept"]) * x ** fit["slope"],
                "-",
                color=line.get_color(),
                alpha=0.6,
            )
            if label in panel.get("refs", {}):
                ref = np.asarray(panel["refs"][label], dtype=float)
                ax.plot(x, ref, "--", color=line.get_color(), lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(x)
        ax.set_xticklabels([f"{v:g}" for v in x])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(panel["xlabel"])
        ax.set_ylabel(panel.get("ylabel", "MSE per circuit neuron"))
        ax.set_title(panel["title"], fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def capacity(
    widths: Sequence[int],
    found: dict[str, Sequence[float]],
    reference: Sequence[float],
    path: str | Path,
    title: str,
) -> Path:
    """Largest T at the target error vs D, per allocation, with D²/(d²z) scaled to the data."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for scheme, ts in found.items():
        ax.plot(widths, ts, "o-", label=f"{scheme} allocation")
    ax.plot(widths, reference, "k--", label="∝ D²/(d²z)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width D")
    ax.set_ylabel("largest T at target error")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return save_figure(fig, path)
