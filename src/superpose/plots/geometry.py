"""Figures of 2-D feature geometry (canonicalised polygons) and of competing geometries' losses."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from . import plt, save_figure


def canonicalize(W: torch.Tensor, anchor: int, min_norm: float = 0.5) -> torch.Tensor:
    """Rotate (and reflect) 2-D feature directions W [2, features] so that `anchor` (or, if it is
    not represented, the first represented feature) points along +x and the next feature
    counter-clockwise of it lies in the upper half-plane."""
    norms = W.norm(dim=0)
    if norms[anchor] < min_norm:
        rep = (norms >= min_norm).nonzero().flatten()
        anchor = int(rep[0]) if len(rep) else anchor
    theta = torch.atan2(W[1, anchor], W[0, anchor])
    c, s = torch.cos(-theta), torch.sin(-theta)
    out = torch.stack([c * W[0] - s * W[1], s * W[0] + c * W[1]])
    others = [i for i in range(W.shape[1]) if i != anchor and norms[i] >= min_norm]
    if others:
        ang = torch.atan2(out[1, others], out[0, others])
        nearest = others[int(ang.abs().argmin())]
        if out[1, nearest] < 0:
            out = out * torch.tensor([[1.0], [-1.0]])
    return out


def geometry_panels(
    Ws: Sequence[torch.Tensor],
    labels: Sequence[str],
    highlight: int,
    path: str | Path,
    title: str,
) -> Path:
    """One small panel per model: feature directions W [2, features] as spokes; `highlight` marks
    the feature whose density varies."""
    k = len(Ws)
    cols = min(k, 6)
    rows = (k + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(2.1 * cols, 2.3 * rows), squeeze=False)
    lim = max(1.3, max(float(W.norm(dim=0).max()) for W in Ws) * 1.1)
    for ax in axes.flat[k:]:
        ax.axis("off")
    for ax, W, label in zip(axes.flat, Ws, labels, strict=False):
        Wc = canonicalize(W.cpu(), highlight).numpy()
        for i in range(Wc.shape[1]):
            color = "tab:red" if i == highlight else "tab:blue"
            ax.plot([0, Wc[0, i]], [0, Wc[1, i]], color=color, lw=1.5)
            ax.scatter(Wc[0, i], Wc[1, i], color=color, s=14, zorder=3)
        ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, ls=":", color="grey"))
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(label, fontsize=8)
    axes[0, 0].plot([], [], color="tab:red", label="varied feature")
    axes[0, 0].plot([], [], color="tab:blue", label="other features")
    axes[0, 0].legend(fontsize=6, loc="lower left")
    fig.suptitle(title)
    return save_figure(fig, path)


def competing_losses(
    density: torch.Tensor,
    curves: Sequence[tuple[str, torch.Tensor]],
    scatter: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None,
    path: str | Path,
    title: str,
    xlabel: str = "density of the varied feature",
    scatter_labels: tuple[str, str] = ("seeds: first geometry", "seeds: other"),
) -> Path:
    """Loss against density for competing geometries (curves: (name, losses [D])), with every
    seed's loss as a scatter (densities [K], losses [K], is_first_geometry bool [K])."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    d = density.cpu().numpy()
    if scatter is not None:
        sd, sl, first = (t.cpu().numpy() for t in scatter)
        ax.scatter(sd[first], sl[first], s=8, alpha=0.35, color="tab:blue", label=scatter_labels[0])
        ax.scatter(
            sd[~first], sl[~first], s=8, alpha=0.35, color="tab:orange", label=scatter_labels[1]
        )
    styles = ["-o", "-s", "-^"]
    for (name, loss), style in zip(curves, styles, strict=False):
        ax.plot(d, np.asarray(loss.cpu()), style, ms=3, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("expected loss")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return save_figure(fig, path)
