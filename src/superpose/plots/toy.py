"""Figures of learned toy models: WᵀW, feature norms, 2-D geometry, dimensionality, neuron stacks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..toy import metrics
from . import plt, save_figure


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().float().numpy()


def wtw_and_norms(
    W: torch.Tensor,
    labels: Sequence[str],
    path: str | Path,
    title: str,
) -> Path:
    """Per instance: WᵀW heat-map (red +, blue −) above bars of ‖W_i‖ coloured by interference
    (black: no superposition, yellow: strong superposition). W: [instances, hidden, features]."""
    inst = W.shape[0]
    g = _np(metrics.gram(W))
    norms = _np(metrics.feature_norms(W))
    interf = np.clip(_np(metrics.interference(W)), 0, 1)
    fig, axes = plt.subplots(
        2, inst, figsize=(1.9 * inst + 1, 4.2), squeeze=False, height_ratios=[1, 1]
    )
    cmap = plt.get_cmap("viridis")
    for k in range(inst):
        ax = axes[0, k]
        lim = max(1e-6, np.abs(g[k]).max())
        im = ax.imshow(g[k], cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(labels[k], fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax = axes[1, k]
        n = norms.shape[1]
        ax.barh(np.arange(n), norms[k], color=cmap(interf[k]))
        ax.invert_yaxis()
        ax.set_xlim(0, max(1.2, norms.max() * 1.05))
        ax.set_yticks([])
        ax.set_xlabel("‖W_i‖", fontsize=8)
    axes[0, 0].set_ylabel("WᵀW", fontsize=9)
    axes[1, 0].set_ylabel("features (most important on top)", fontsize=8)
    fig.colorbar(im, ax=axes[0, :].tolist(), shrink=0.8, label="(WᵀW)_ij")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, 1))
    fig.colorbar(sm, ax=axes[1, :].tolist(), shrink=0.8, label="interference Σ_j≠i (Ŵ_i·W_j)²")
    fig.suptitle(title)
    return save_figure(fig, path)


def feature_geometry_2d(
    W: torch.Tensor, labels: Sequence[str], path: str | Path, title: str
) -> Path:
    """Feature directions W_i drawn as arrows in the 2-D hidden space. W: [instances, 2, features]."""
    inst, m, n = W.shape
    if m != 2:
        raise ValueError("feature_geometry_2d needs 2 hidden dimensions")
    w = _np(W)
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, n))
    fig, axes = plt.subplots(1, inst, figsize=(2.2 * inst, 2.5), squeeze=False)
    for k in range(inst):
        ax = axes[0, k]
        for i in range(n):
            ax.plot([0, w[k, 0, i]], [0, w[k, 1, i]], color=colors[i], lw=1.5)
            ax.scatter(w[k, 0, i], w[k, 1, i], color=colors[i], s=12)
        lim = max(1.1, np.abs(w[k]).max() * 1.1)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(labels[k], fontsize=8)
    fig.suptitle(title + " (colour: feature index, dark = most important)")
    return save_figure(fig, path)


def dimensionality_vs_sparsity(
    sparsity: torch.Tensor,
    W: torch.Tensor,
    path: str | Path,
    title: str,
) -> Path:
    """Left: D* = m/‖W‖²_F against 1/(1−S) (log x). Right: every feature's D_i at each sparsity,
    with the sticky fractions drawn as lines. sparsity: [instances]."""
    x = 1.0 / (1.0 - _np(sparsity))
    dstar = _np(metrics.dimensions_per_feature(W))
    di = _np(metrics.feature_dimensionality(W))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    a1.plot(x, dstar, "k-o", ms=3)
    a1.set_xscale("log")
    a1.set_xlabel("1 / (1 − S)  (inverse feature density)")
    a1.set_ylabel("dimensions per feature D* = m / ‖W‖²_F")
    a1.set_title("dimensions per feature")
    for frac in (1.0, 0.5):
        a1.axhline(frac, color="grey", ls=":", lw=0.8)
    a1.set_ylim(0, 1.1)
    jitter = np.exp(np.random.default_rng(0).normal(0, 0.02, size=di.shape))
    a2.scatter(np.repeat(x[:, None], di.shape[1], 1) * jitter, di, s=3, alpha=0.35)
    for name, frac in metrics.STICKY_FRACTIONS.items():
        a2.axhline(frac, color="grey", ls=":", lw=0.8)
        a2.text(x.max() * 1.05, frac, name, fontsize=7, va="center")
    a2.plot(x, dstar, "k-", lw=1, label="D*")
    a2.set_xscale("log")
    a2.set_ylim(-0.02, 1.1)
    a2.set_xlabel("1 / (1 − S)")
    a2.set_ylabel("feature dimensionality D_i")
    a2.set_title("per-feature dimensionality")
    a2.legend(loc="lower left", fontsize=8)
    fig.suptitle(title)
    return save_figure(fig, path)


def neuron_stacks(
    W: torch.Tensor, labels: Sequence[str], path: str | Path, title: str, max_neurons: int = 40
) -> Path:
    """Per instance, one stacked bar per neuron: the |weight| each feature puts into it, coloured
    by feature (monosemantic neurons are one colour). W: [instances, hidden, features]."""
    inst, _, n = W.shape
    w = np.abs(_np(W))[:, :max_neurons]
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.95, n))
    fig, axes = plt.subplots(1, inst, figsize=(2.0 * inst + 1, 3.2), squeeze=False, sharey=True)
    for k in range(inst):
        ax = axes[0, k]
        order = np.argsort(-w[k].max(axis=1))
        bottom = np.zeros(len(order))
        for i in range(n):
            ax.bar(
                np.arange(len(order)), w[k, order, i], bottom=bottom, color=colors[i], width=0.85
            )
            bottom += w[k, order, i]
        ax.set_title(labels[k], fontsize=8)
        ax.set_xlabel("neuron")
        ax.set_xticks([])
    axes[0, 0].set_ylabel("Σ_i |W_ji| (stacked by feature i)")
    fig.suptitle(title + " (colour: feature index)", y=1.06)
    return save_figure(fig, path)


def neuron_stacks_superposition(
    W: torch.Tensor,
    in_superposition: torch.Tensor,
    labels: Sequence[str],
    path: str | Path,
    title: str,
    max_neurons: int = 60,
) -> Path:
    """Neuron stack plots with features coloured by superposition: each neuron's bar stacks the
    |weight| of every feature into it; features in superposition in warm colours, the others in
    blues (darker = more important). Neurons sorted by their strongest feature.
    W: [instances, hidden, features], in_superposition: bool [instances, features]."""
    inst, _, n = W.shape
    w = np.abs(_np(W))[:, :max_neurons]
    sup = in_superposition.detach().cpu().numpy()
    shade = np.linspace(0.95, 0.35, n)
    warm, cool = plt.get_cmap("autumn"), plt.get_cmap("Blues")
    fig, axes = plt.subplots(1, inst, figsize=(2.6 * inst + 1, 3.4), squeeze=False, sharey=True)
    for k in range(inst):
        ax = axes[0, k]
        order = np.argsort(w[k].argmax(axis=1) + 1e-3 * -w[k].max(axis=1))
        bottom = np.zeros(len(order))
        for i in range(n):
            col = warm(1 - shade[i]) if sup[k, i] else cool(shade[i])
            ax.bar(np.arange(len(order)), w[k, order, i], bottom=bottom, color=col, width=0.85)
            bottom += w[k, order, i]
        ax.set_title(labels[k], fontsize=8)
        ax.set_xlabel("neuron (sorted by main feature)")
        ax.set_xticks([])
    axes[0, 0].set_ylabel("Σ_i |W_ji| (stacked by feature i)")
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=warm(0.3)),
        plt.Rectangle((0, 0), 1, 1, color=cool(0.7)),
    ]
    axes[0, -1].legend(handles, ["in superposition", "dedicated"], fontsize=7, loc="upper right")
    fig.suptitle(title, y=1.06)
    return save_figure(fig, path)


def abs_small_model(W_in: torch.Tensor, W_out: torch.Tensor, path: str | Path, title: str) -> Path:
    """The small |x| model as the paper draws it: W_in and W_out as heat maps, each hidden unit
    rescaled so its largest |input weight| is 1 (its output column divided by the same factor),
    neurons ordered by (feature, sign). W_in: [hidden, features], W_out: [features, hidden]."""
    w_in, w_out = _np(W_in), _np(W_out)
    scale = np.abs(w_in).max(axis=1).clip(min=1e-12)
    w_in, w_out = w_in / scale[:, None], w_out * scale[None, :]
    main = np.abs(w_in).argmax(axis=1)
    order = np.lexsort((-np.sign(w_in[np.arange(len(main)), main]), main))
    w_in, w_out = w_in[order], w_out[:, order]
    lim = max(np.abs(w_in).max(), np.abs(w_out).max())
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7, 3.2))
    for ax, mat, name, xl, yl in (
        (a1, w_in, "W_in (hidden × features)", "feature i", "neuron j"),
        (a2, w_out, "W_out (features × hidden)", "neuron j", "output i"),
    ):
        im = ax.imshow(mat, cmap="RdBu_r", vmin=-lim, vmax=lim)
        for (r, c), v in np.ndenumerate(mat):
            ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_xticks(range(mat.shape[1]))
        ax.set_yticks(range(mat.shape[0]))
    fig.colorbar(im, ax=[a1, a2], shrink=0.8)
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)
