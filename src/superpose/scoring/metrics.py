"""Score a dictionary against a layer's ground truth, beside the chance level for its size.

Similarity of latent j to circuit g is the norm of the projection of j's unit decoder row on g's
subspace (|cos| when g owns one direction). From the similarity matrix [k, n_groups]:
- MMCS: mean over circuits of the best latent's similarity (and the latent side: mean over latents
  of the best circuit); circuits recovered: best similarity ≥ threshold;
- MCC: mean similarity over a one-to-one Hungarian matching (scipy's linear_sum_assignment);
- uniqueness: distinct argmax directions / latents (1 when no two latents claim the same direction).
With the truth's samples (activations, activity, values): ML2R = mean ‖x̂‖/‖x‖ (< 1 is shrinkage),
explained variance, dead latents (never fire), and each matched latent as a detector of its
circuit's activity (precision, recall, F1; chance F1 = 2af/(a+f) for a detector independent of the
activity, from the pair's own firing rate f and activity rate a).

Chance level (`chance`): for k isotropic random unit latents, the squared projection on an r-dim
subspace of R^D is Beta(r/2, (D−r)/2); the best of k has CDF F^k, so E[max] = ∫₀¹ 1 − F(x)^k dx
and the expected number of circuits recovered at τ is n·(1 − F(τ)^k). MCC has no closed form: a
random dictionary of the same shape is scored beside (`null_draws`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..base.errors import SuperposeError
from ..toy.threads import torch_threads, work_threads
from .dictionary import Dictionary, as_dictionary
from .truth import Truth

_GRID = np.linspace(0.0, 1.0, 20001)


def _max_cdf(r: int, D: int, k: int) -> np.ndarray:
    """CDF on _GRID of the largest projection norm of k random unit vectors on an r-dim subspace."""
    from scipy.special import betainc  # scipy on first use: 0.4 s of every command's start

    if not 0 < r < D:
        raise SuperposeError(f"chance level needs 0 < subspace rank r = {r} < D = {D}")
    F = betainc(r / 2, (D - r) / 2, _GRID**2)
    with np.errstate(divide="ignore"):
        return np.exp(k * np.log(F))


@dataclass(frozen=True)
class Chance:
    """What k isotropic random latents score in D dims against circuits of the given ranks."""

    mmcs: float
    mmcs_sd: float  # sd of the mean over circuits, assuming independent circuits
    mmcs_latents: float
    recovered: float  # expected number of circuits recovered at the threshold
    threshold: float

    def band(self, width: float = 4.0) -> tuple[float, float]:
        """mmcs ± width·sd: where a random dictionary's MMCS lands."""
        return self.mmcs - width * self.mmcs_sd, self.mmcs + width * self.mmcs_sd


def chance(k: int, D: int, ranks: list[int] | torch.Tensor, threshold: float = 0.9) -> Chance:
    """Chance level of a random k-latent dictionary in D dims against circuits of `ranks` (one each)."""
    from scipy.integrate import trapezoid
    from scipy.special import betainc

    ranks = [int(r) for r in ranks]
    n = len(ranks)
    means, sqs, rec = [], [], 0.0
    per_rank = {}
    for r in sorted(set(ranks)):
        G = _max_cdf(r, D, k)
        m = float(trapezoid(1 - G, _GRID))
        m2 = float(trapezoid(2 * _GRID * (1 - G), _GRID))
        tail = 1 - float(np.interp(threshold, _GRID, G))
        per_rank[r] = (m, m2, tail)
    for r in ranks:
        m, m2, tail = per_rank[r]
        means.append(m)
        sqs.append(m2 - m * m)
        rec += tail
    mean = float(np.mean(means))
    sd = math.sqrt(max(float(np.sum(sqs)), 0.0)) / n
    # latent side: the best of n circuit subspaces (treated as independent) for one latent
    logF = np.zeros_like(_GRID)
    for r in sorted(set(ranks)):
        cnt = ranks.count(r)
        with np.errstate(divide="ignore"):
            logF += cnt * np.log(betainc(r / 2, (D - r) / 2, _GRID**2))
    lat = float(trapezoid(1 - np.exp(logF), _GRID))
    return Chance(mean, sd, lat, rec, threshold)


@dataclass
class Score:
    """Scores of one dictionary on one layer's truth (None where samples or an encoder are missing)."""

    name: str
    truth: str
    n_latents: int
    n_truth: int
    dim: int
    mmcs: float
    mmcs_latents: float
    mmcs_directions: float
    mcc: float
    recovered: int
    threshold: float
    uniqueness: float
    chance: Chance
    mcc_chance: float | None = None
    ml2r: float | None = None
    explained_variance: float | None = None
    dead_fraction: float | None = None
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    f1_chance: float | None = None
    similarity: torch.Tensor = field(repr=False, default_factory=lambda: torch.empty(0))
    matching: tuple[np.ndarray, np.ndarray] = field(repr=False, default=(np.empty(0), np.empty(0)))

    def to_dict(self) -> dict[str, Any]:
        """The scalar scores and their chance levels (JSON-ready)."""
        keys = [
            "name", "truth", "n_latents", "n_truth", "dim", "mmcs", "mmcs_latents",
            "mmcs_directions", "mcc", "recovered", "threshold", "uniqueness", "mcc_chance",
            "ml2r", "explained_variance", "dead_fraction", "precision", "recall", "f1", "f1_chance",
        ]  # fmt: skip
        out = {k: getattr(self, k) for k in keys}
        out["chance"] = {
            "mmcs": self.chance.mmcs,
            "mmcs_band": list(self.chance.band()),
            "mmcs_latents": self.chance.mmcs_latents,
            "recovered": self.chance.recovered,
        }
        return out

    def rows(self) -> list[tuple[str, float | None, float | None]]:
        """(metric, value, chance) rows for a table."""
        c = self.chance
        return [
            ("MMCS (circuits)", self.mmcs, c.mmcs),
            ("MMCS (latents)", self.mmcs_latents, c.mmcs_latents),
            ("MMCS (directions)", self.mmcs_directions, None),
            ("MCC (Hungarian)", self.mcc, self.mcc_chance),
            (f"recovered ≥ {self.threshold:g}", self.recovered, c.recovered),
            ("uniqueness", self.uniqueness, None),
            ("ML2R", self.ml2r, None),
            ("explained variance", self.explained_variance, None),
            ("dead latents", self.dead_fraction, None),
            ("precision", self.precision, None),
            ("recall", self.recall, None),
            ("F1", self.f1, self.f1_chance),
        ]


def unit_rows(W: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit norm (zero rows stay zero): [k, D]."""
    return W / W.norm(dim=1, keepdim=True).clamp_min(1e-12)


def similarity(decoder: torch.Tensor, truth: Truth) -> torch.Tensor:
    """Projection norm of each unit latent on each circuit's subspace: [k, n_groups] in [0, 1]."""
    proj = unit_rows(decoder) @ truth.basis()  # [k, n_dirs]
    sq = torch.zeros(decoder.shape[0], truth.n_groups).index_add_(1, truth.groups, proj.square())
    return sq.sqrt().clamp_max(1.0)


def match(sim: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one latent↔circuit matching maximising total similarity: (latents, circuits)."""
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(sim.double().numpy(), maximize=True)
    return rows, cols


def _detection(
    z: torch.Tensor, active: torch.Tensor, rows: np.ndarray, cols: np.ndarray, fire: float
) -> tuple[float, float, float, float]:
    """Mean precision, recall, F1 and chance F1 of matched latents as detectors of their circuit."""
    fires = z[:, torch.as_tensor(rows)] > fire  # [batch, m]
    on = active[:, torch.as_tensor(cols)]
    keep = on.any(0)  # circuits never on in the samples say nothing about recall
    if not keep.any():
        raise SuperposeError("detection: no matched circuit is ever active in the samples")
    fires, on = fires[:, keep].float(), on[:, keep].float()
    tp = (fires * on).sum(0)
    nf, na, b = fires.sum(0), on.sum(0), fires.shape[0]
    prec = torch.where(nf > 0, tp / nf.clamp_min(1), torch.zeros_like(tp))
    rec = tp / na
    f1 = torch.where(prec + rec > 0, 2 * prec * rec / (prec + rec).clamp_min(1e-12), 0.0)
    f, a = nf / b, na / b
    f1c = torch.where(f + a > 0, 2 * a * f / (a + f).clamp_min(1e-12), 0.0)
    return float(prec.mean()), float(rec.mean()), float(f1.mean()), float(f1c.mean())


def score(
    dictionary: Any,
    truth: Truth,
    threshold: float = 0.9,
    fire: float = 0.0,
    null_draws: int = 1,
    seed: int = 0,
) -> Score:
    """Score `dictionary` (any form `as_dictionary` accepts) against `truth` (see module docstring).

    threshold: similarity at which a circuit counts as recovered; fire: a latent fires when its
    activation exceeds this; null_draws: random dictionaries of the same shape scored for the MCC
    chance level (0 skips it).
    """
    from ..base.errors import MAX_SEED, int_arg

    if not 0 < threshold <= 1:
        raise SuperposeError(f"threshold = {threshold}: must be in (0, 1]")
    null_draws = int_arg("score", "null_draws", null_draws, 0, 1000)
    seed = int_arg("score", "seed", seed, 0, MAX_SEED)
    dic: Dictionary = as_dictionary(dictionary)
    # PyTorch's threads chosen for the work, not inherited (toy/threads.py): with another process
    # on the second core, 800 latents against 200 circuits took 600 ms on two threads, 82 on one
    batch = 0 if truth.acts is None else truth.acts.shape[0]
    work = dic.n_latents * truth.dim * max(len(truth.directions), batch)  # its largest product
    with torch_threads(work_threads(work)):
        return _score(dic, truth, threshold, fire, null_draws, seed)


def _score(
    dic: Dictionary, truth: Truth, threshold: float, fire: float, null_draws: int, seed: int
) -> Score:
    """`score` on the threads it chose."""
    if dic.decoder.ndim != 2 or dic.decoder.shape[1] != truth.dim:
        raise SuperposeError(
            f"{dic.name}: decoder is {list(dic.decoder.shape)} but {truth.name} has width D = {truth.dim} ([k, {truth.dim}] needed)"
        )
    sim = similarity(dic.decoder, truth)
    rows, cols = match(sim)
    cos_dirs = unit_rows(dic.decoder) @ unit_rows(truth.directions).T  # [k, n_dirs]
    best_dir = cos_dirs.abs().argmax(1)
    k = dic.n_latents
    out = Score(
        name=dic.name,
        truth=truth.name,
        n_latents=k,
        n_truth=truth.n_groups,
        dim=truth.dim,
        mmcs=float(sim.max(0).values.mean()),
        mmcs_latents=float(sim.max(1).values.mean()),
        mmcs_directions=float(cos_dirs.abs().max(0).values.mean()),
        mcc=float(sim[rows, cols].mean()),
        recovered=int((sim.max(0).values >= threshold).sum()),
        threshold=threshold,
        uniqueness=0.0,
        chance=chance(k, truth.dim, truth.ranks, threshold),
        similarity=sim,
        matching=(rows, cols),
    )
    alive = torch.ones(k, dtype=torch.bool)
    if truth.acts is not None:
        z = dic.latent_acts(truth.acts)
        if z is not None:
            if z.shape != (truth.acts.shape[0], k):
                raise SuperposeError(
                    f"{dic.name}: latent activations are {list(z.shape)}, expected [batch, {k}]"
                )
            if not torch.isfinite(z).all():
                raise SuperposeError(f"{dic.name}: latent activations hold NaN or infinite values")
            alive = (z > fire).any(0)
            out.dead_fraction = 1 - float(alive.float().mean())
            x_hat = dic.reconstruct(truth.acts, z)
            assert x_hat is not None
            x = truth.acts
            nx = x.norm(dim=1)
            ok = nx > 0
            out.ml2r = float((x_hat.norm(dim=1)[ok] / nx[ok]).mean())
            var = (x - x.mean(0)).square().sum()
            out.explained_variance = float(1 - (x - x_hat).square().sum() / var.clamp_min(1e-12))
            if truth.active is not None:
                p, r, f1, f1c = _detection(z, truth.active, rows, cols, fire)
                out.precision, out.recall, out.f1, out.f1_chance = p, r, f1, f1c
    n_alive = int(alive.sum())
    out.uniqueness = len(best_dir[alive].unique()) / max(n_alive, 1)
    if null_draws:
        gen = torch.Generator().manual_seed(seed)
        mccs = []
        for _ in range(null_draws):
            R = torch.randn(k, truth.dim, generator=gen)
            s = similarity(R, truth)
            r_, c_ = match(s)
            mccs.append(float(s[r_, c_].mean()))
        out.mcc_chance = float(np.mean(mccs))
    return out


def random_dictionary(k: int, D: int, seed: int = 0) -> torch.Tensor:
    """k isotropic random unit latents in D dims: [k, D] (the null every score is read against)."""
    gen = torch.Generator().manual_seed(seed)
    return unit_rows(torch.randn(k, D, generator=gen))


def truth_dictionary(truth: Truth) -> Dictionary:
    """The ground truth as a dictionary (one latent per direction; codes = the exact values)."""
    return Dictionary(truth.directions, codes=truth.values, name=f"{truth.name} (true)")


__all__ = [
    "Chance",
    "Score",
    "chance",
    "match",
    "random_dictionary",
    "score",
    "similarity",
    "truth_dictionary",
]
