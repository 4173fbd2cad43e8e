"""Figures of the scaling-law experiment (Liu, Liu & Gore): loss against width, the fitted
exponent against the frequency exponent α, and feature norms by frequency rank."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from . import plt, save_figure


def loss_vs_width(
    widths: Sequence[int],
    loss: torch.Tensor,
    labels: Sequence[str],
    decays: Sequence[float],
    weak_theory: dict[str, Sequence[float]],
    path: str | Path,
    title: str,
) -> Path:
    """Log-log loss against width, one panel per weight decay (strong superposition first), one
    line per α, with an m^-1 guide and the weak-superposition prediction (dotted).
    loss: [widths, instances]; labels / decays: per instance."""
    order = sorted(set(decays))
    fig, axes = plt.subplots(1, len(order), figsize=(4.2 * len(order), 3.8), squeeze=False)
    m = np.asarray(widths, dtype=float)
    for ax, g in zip(axes[0], order, strict=True):
        for k, label in enumerate(labels):
            if decays[k] == g:
                ax.loglog(m, loss[:, k].numpy(), "o-", label=label, ms=4)
        ref = float(loss[0, [k for k in range(len(labels)) if decays[k] == g]].mean())
        ax.loglog(m, ref * m[0] / m, "k--", lw=0.8, label="∝ m^-1")
        if g > 0:
            for name, pred in weak_theory.items():
                ax.loglog(m, pred, ":", lw=1.2, label=f"E[v²]Σ_(i>m) p_i, {name}")
        regime = "strong" if g < 0 else ("weak" if g > 0 else "no decay")
        ax.set_title(f"γ = {g:g} ({regime} superposition)", fontsize=9)
        ax.set_xlabel("width m")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("loss per sample")
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def exponent_vs_alpha(
    exponents: dict[float, dict[float, float]], predicted: dict[float, float], path: str | Path
) -> Path:
    """Fitted model exponent (−slope of log loss against log m) against α, one series per weight
    decay (each over its own α), beside the weak prediction and the strong value 1."""
    fig, ax = plt.subplots(figsize=(4.8, 3.8))
    alphas = sorted(predicted)
    for g, by_alpha in sorted(exponents.items()):
        own = sorted(by_alpha)
        ax.plot(own, [-by_alpha[a] for a in own], "o-", label=f"trained, γ={g:g}")
    ax.plot(alphas, [-predicted[a] for a in alphas], "k:", label="m most frequent kept (finite n)")
    above = [a for a in alphas if a >= 1]
    ax.plot(above, [a - 1 for a in above], color="grey", lw=0.8, label="α − 1")
    ax.axhline(1.0, color="grey", ls="--", lw=0.8, label="1 (strong)")
    ax.set_xlabel("frequency exponent α (p_i ∝ i^-α)")
    ax.set_ylabel("model exponent (loss ∝ m^-exponent)")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def norms_by_rank(norms: torch.Tensor, labels: Sequence[str], path: str | Path, m: int) -> Path:
    """‖W_i‖ against frequency rank i (log x) per instance at width m: strong superposition keeps
    every feature near norm 1, weak superposition only the most frequent ~m. norms: [instances, n]."""
    norms = norms.numpy()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    rank = np.arange(1, norms.shape[1] + 1)
    for k, label in enumerate(labels):
        ax.semilogx(rank, norms[k], ".", ms=2, label=label)
    ax.axvline(m, color="grey", ls="--", lw=0.8, label=f"rank m = {m}")
    ax.set_xlabel("feature rank i (most frequent first)")
    ax.set_ylabel("‖W_i‖")
    ax.set_title(f"Feature norms at width m = {m}", fontsize=9)
    ax.legend(fontsize=7, markerscale=4)
    return save_figure(fig, path)
