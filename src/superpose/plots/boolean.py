"""Figures of boolean circuits in superposition: U-AND errors per case, width scaling, depth, capacity."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import plt, save_figure


def case_errors(
    measured: dict[str, dict[str, float]],
    predicted: dict[str, float],
    path: str | Path,
    title: str,
) -> Path:
    """Bars of measured mean error per case (±std, worst as a dot) beside the exact formula."""
    cases = [c for c in ("both", "one", "neither") if c in measured]
    xs = np.arange(len(cases))
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.bar(
        xs - 0.2,
        [measured[c]["mean"] for c in cases],
        0.4,
        yerr=[measured[c]["std"] for c in cases],
        label="measured mean (± std)",
        color="tab:blue",
        capsize=3,
    )
    ax.bar(xs + 0.2, [predicted[c] for c in cases], 0.4, label="formula", color="tab:orange")
    ax.plot(xs - 0.2, [measured[c]["worst"] for c in cases], "kv", label="worst |error|")
    ax.axhline(0.25, color="gray", ls="--", lw=1, label="linear readout (1/4)")
    ax.set_xticks(xs, [f"{c} on" for c in cases])
    ax.set_xlabel("case (inputs of the pair that are on)")
    ax.set_ylabel("readout − AND")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def width_scaling(
    series: dict[str, tuple[Sequence[float], Sequence[float], Sequence[float]]],
    fits: dict[str, tuple[float, float]],
    path: str | Path,
    title: str,
) -> Path:
    """log-log width needed vs m: series name → (m, median d*, spread of d*), with fitted lines."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for (name, (m, d, spread)), color in zip(
        series.items(), ("tab:blue", "tab:red", "tab:green"), strict=False
    ):
        m, d, spread = np.asarray(m), np.asarray(d), np.asarray(spread)
        ax.errorbar(m, d, yerr=spread, fmt="o", color=color, capsize=3, label=f"{name} (measured)")
        slope, icpt = fits[name]
        ax.plot(
            m, np.exp(icpt) * m**slope, "-", color=color, label=f"{name} fit: slope {slope:.2f}"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.yaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xlabel("features m")
    ax.set_ylabel("neurons d needed for target error")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def error_vs_depth(
    curves: dict[str, Sequence[float]], path: str | Path, title: str, ylabel: str, log: bool = False
) -> Path:
    """One line per variant: error after each layer (symlog y-axis when `log`)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, ys in curves.items():
        ax.plot(np.arange(1, len(ys) + 1), ys, "o-", label=name)
    if log:
        ax.set_yscale("symlog", linthresh=0.01)
    ax.set_xlabel("layer")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def capacity(
    d: Sequence[float],
    gates: dict[str, Sequence[float]],
    lower: Sequence[float],
    path: str | Path,
    title: str,
) -> Path:
    """Gates computed vs neurons d, beside the most gates the Ω(√(m' log m')) bound allows."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name, g in gates.items():
        ax.plot(d, g, "o-", label=name)
    ax.plot(d, lower, "k--", label="bound: largest m' with √(m' ln m') ≤ d")
    ax.plot(d, d, ":", color="gray", label="one gate per neuron")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("neurons d")
    ax.set_ylabel("gates m' within the error target")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, path)
