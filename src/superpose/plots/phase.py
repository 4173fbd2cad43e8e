"""Phase-diagram figures: empirical vs theoretical phase of the extra feature over importance × density."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from ..toy.theory import PHASES
from . import plt, save_figure

PHASE_COLORS = ("#d9d9d9", "#3b75af", "#e8873a")  # not learned, superposition, dedicated


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges for log-spaced centres."""
    logv = np.log10(values)
    mid = (logv[1:] + logv[:-1]) / 2
    step0, step1 = logv[1] - logv[0], logv[-1] - logv[-2]
    return 10 ** np.concatenate([[logv[0] - step0 / 2], mid, [logv[-1] + step1 / 2]])


def phase_diagrams(
    importance: torch.Tensor,
    density: torch.Tensor,
    panels: Sequence[tuple[str, torch.Tensor]],
    path: str | Path,
    title: str,
) -> Path:
    """Side-by-side phase maps. importance [R], density [D], each panel (name, phases [R, D])."""
    imp, dens = importance.cpu().numpy(), density.cpu().numpy()
    order = np.argsort(dens)
    cmap = ListedColormap(PHASE_COLORS)
    fig, axes = plt.subplots(
        1, len(panels), figsize=(5 * len(panels), 4.4), squeeze=False, constrained_layout=True
    )
    for ax, (name, phase) in zip(axes[0], panels, strict=True):
        grid = phase.cpu().numpy().T[order]  # [D, R], density ascending
        ax.pcolormesh(_edges(imp), _edges(dens[order]), grid, cmap=cmap, vmin=-0.5, vmax=2.5)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("relative importance of the extra feature")
        ax.set_ylabel("feature density 1 − S")
        ax.set_title(name)
    handles = [Patch(color=c, label=p) for c, p in zip(PHASE_COLORS, PHASES, strict=True)]
    axes[0, -1].legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    fig.suptitle(title)
    return save_figure(fig, path)


def candidate_loss_curves(
    density: torch.Tensor,
    losses: torch.Tensor,
    names: Sequence[str],
    path: str | Path,
    title: str,
) -> Path:
    """Closed-form loss of each candidate against density at one importance: losses [D, candidates]."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    d = density.cpu().numpy()
    for k, name in enumerate(names):
        ax.plot(d, losses[:, k].cpu().numpy(), label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("feature density 1 − S")
    ax.set_ylabel("expected loss (closed form)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return save_figure(fig, path)
