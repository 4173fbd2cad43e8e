"""Figures for scoring dictionaries against ground truth: matched similarity matrix, recovery vs layer."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..scoring.metrics import Score
from . import plt, save_figure


def similarity_matrix(score: Score, path: str | Path, show: int = 100) -> Path:
    """Similarity of latents (rows) to circuits (columns), latents reordered by the Hungarian
    matching so a recovered circuit sits on the diagonal; the first `show` circuits."""
    sim = score.similarity.numpy()
    rows, cols = score.matching
    order = np.argsort(cols)
    cols_s, rows_s = cols[order][:show], rows[order][:show]
    fig, ax = plt.subplots(figsize=(5.6, 4.8))
    im = ax.imshow(sim[np.ix_(rows_s, cols_s)], vmin=0, vmax=1, cmap="viridis")
    fig.colorbar(im, ax=ax, label="projection on circuit subspace (|cos|)")
    ax.set_xlabel(f"circuit (first {len(cols_s)} of {score.n_truth})")
    ax.set_ylabel("latent matched to that circuit")
    ax.set_title(
        f"{score.name} vs {score.truth}\nMCC {score.mcc:.3f} (chance "
        + (f"{score.mcc_chance:.3f})" if score.mcc_chance is not None else "n/a)"),
        fontsize=9,
    )
    return save_figure(fig, path)


def recovery_vs_layer(scores: dict[str, list[Score]], path: str | Path, title: str) -> Path:
    """MMCS and the fraction of circuits recovered per layer, one line per dictionary kind,
    with the chance MMCS of the first kind's dictionary size as a dotted line."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.6, 3.8))
    for label, per_layer in scores.items():
        layers = np.arange(1, len(per_layer) + 1)
        a1.plot(layers, [s.mmcs for s in per_layer], "o-", label=label)
        a2.plot(layers, [s.recovered / s.n_truth for s in per_layer], "o-", label=label)
    first = next(iter(scores.values()))
    layers = np.arange(1, len(first) + 1)
    a1.plot(layers, [s.chance.mmcs for s in first], "k:", label="random dictionary (chance)")
    a2.plot(layers, [s.chance.recovered / s.n_truth for s in first], "k:", label="chance")
    a1.set_ylabel("MMCS (circuits)")
    a2.set_ylabel(f"circuits recovered (similarity ≥ {first[0].threshold:g})")
    for ax in (a1, a2):
        ax.set_xlabel("layer")
        ax.set_xticks(layers)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    a1.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


__all__ = ["recovery_vs_layer", "similarity_matrix"]
