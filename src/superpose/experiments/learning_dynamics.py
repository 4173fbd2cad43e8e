"""TMS §"Superposition and learning dynamics": the loss falls in discrete jumps between plateaus, and
at each jump feature dimensionalities D_i move between values. Two setups, as the paper's two
phenomena: (1) "energy level" jumps in the uniform-superposition setup with a model whose features
all end in digons (n = 2m, equal importance and sparsity: `digons`), (2) n = 6 features in m = 3
dimensions, two correlated sets of three (`model`). Each trains several models, finds in each loss
curve the jumps that separate two plateaus (`loss_jumps`; the initial transient is never one: it
has no plateau before it) and keeps the model with the sharpest jump, like the paper picks one
model to show (for (1), among the models that end in digons). The bar for "sharp" comes from the
same statistic on smooth decays with the run's own noise (the null), never from the run.

Measured for (1) (quick: n = 40, m = 5, S = 0.7, 4 models, seed 0): every model ends with 10
features in digons (D_i within 0.004 of 1/2) and 30 not represented; features rise towards 1/2,
some fall back to 0 as others take their place, and the shown model's sharpest loss drop
(sharpness 4.40 against the smooth-decay bar 2.81) moves a D_i by 0.20 — but the drop is small,
0.4 % of the loss (the 30 unrepresented features' loss dominates it), like the paper's "very small
one at the first jump". With n = 2m (10 features, m = 5, S = 0.75–0.99; also 30 in 15) every
feature ends in a digon but there is no competition: the digons form straight from the init's
spread of D_i (within 0.02 of 1/2 by step ~1,300), the later sharp drop (sharpness 3.6) is the
digons turning orthogonal to each other while the bias relaxes, and no D_i moves across it
(largest |ΔD_i| 0.02; a 10× smaller init changed nothing). So the jumps need more features than
the digons can hold.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from pydantic import Field, model_validator
from scipy.ndimage import maximum_filter1d

from ..base.config import FrozenConfig
from ..base.device import make_generator
from ..plots import plt, save_figure
from ..toy import metrics
from ..toy.config import ToyConfig
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext, train_on, with_null


class LearningDynamicsConfig(FrozenConfig):
    model: ToyConfig = Field(
        ToyConfig(
            n_features=6,
            n_hidden=3,
            n_instances=8,
            features={"sparsity": 0.9, "structure": "correlated", "set_size": 3},
            train={"steps": 10_000, "lr": 1e-3, "snapshot_every": 25},
        ),
        description="the models (TMS phenomenon 2: n=6, m=3, two correlated sets of 3; one "
        "sparsity): n_instances trained, the one with the sharpest jump shown; "
        "train.snapshot_every sets the weight snapshots",
    )
    digons: ToyConfig | None = Field(
        ToyConfig(
            n_features=40,
            n_hidden=5,
            n_instances=4,
            features={"sparsity": 0.7},
            train={"steps": 10_000, "lr": 1e-3, "snapshot_every": 25},
        ),
        description="TMS phenomenon 1 (energy-level jumps): uniform superposition at a sparsity "
        "where the represented features end in digons (2m of n, the rest not represented); "
        "n_instances trained, the one with the sharpest jump among those ending so shown "
        "(None: skip)",
    )
    eval_batch: int = Field(2048, ge=64, description="fixed samples scoring every snapshot")
    window: float = Field(
        0.01, gt=0, le=0.2, description="loss drops are measured over this fraction of snapshots"
    )
    jump: float = Field(
        0.1,
        gt=0,
        le=1,
        description="a jump moves some D_i at least this much (the gap between the sticky values "
        "1/2 and 2/5, TMS §'Feature dimensionality')",
    )
    null_draws: int = Field(
        400, ge=50, le=100_000, description="smooth-decay null curves per model for the bar"
    )
    null_quantile: float = Field(
        0.99, gt=0.5, lt=1, description="the sharpness bar is this quantile of the null's"
    )

    @model_validator(mode="after")
    def _check(self) -> LearningDynamicsConfig:
        for name, tc in (("model", self.model), ("digons", self.digons)):
            if tc is not None and (
                tc.train.snapshot_every is None or isinstance(tc.features.sparsity, list)
            ):
                raise ValueError(
                    f"{name}: train.snapshot_every must be set and features.sparsity one value"
                )
        return self


def loss_jumps(logl: torch.Tensor | np.ndarray, w: int, floor: float) -> list[dict[str, float]]:
    """Jumps between plateaus in a log-loss curve. logl: [T] log loss at evenly spaced snapshots.

    r[t] = logl[t] − logl[t+w] is the drop over w snapshots. Every local maximum t* of r is a
    candidate; its *plateaus* are the minima of r on each side, out to the nearest faster point
    (or the curve's end). Its sharpness is min(r[t*], fastest drop before the left plateau) /
    max(both plateaus, floor): a jump rises above the plateaus on both sides, and the plateau
    before it follows a faster phase — so the initial transient (nothing before it) and a smooth
    decay (r falls monotonically: sharpness ≈ 1) are never sharp. `floor` (the run's own noise in r)
    keeps noise around a converged loss from making ratios of nothing. Returns one dict per
    candidate: at, left, right (plateau positions), start, end (the snapshots where the drop is
    above half its height over the plateaus), sharpness, drop (log-loss fall left → right).
    """
    x = np.asarray(logl, dtype=np.float64)
    r = x[:-w] - x[w:]
    T = len(r)
    peaks = np.flatnonzero((r == maximum_filter1d(r, 2 * w + 1, mode="nearest")) & (r > floor))
    out = []
    for t in peaks[(peaks > 0) & (peaks < T - 1)].tolist():
        higher = np.flatnonzero(r[:t] > r[t])
        a = int(higher[-1]) if len(higher) else -1
        higher = np.flatnonzero(r[t + 1 :] > r[t])
        b = t + 1 + int(higher[0]) if len(higher) else T
        left = a + 1 + int(r[a + 1 : t + 1].argmin())
        right = t + int(r[t:b].argmin())
        before = float(r[:left].max()) if left > 0 else 0.0
        base = max(float(r[left]), float(r[right]), floor)
        half = r >= (r[t] + base) / 2
        start, end = t, t
        while start > left and half[start - 1]:
            start -= 1
        while end < right and half[end + 1]:
            end += 1
        out.append(
            {
                "at": t,
                "start": start,
                "end": end + w,
                "left": left,
                "right": right,
                "sharpness": min(float(r[t]), before) / base,
                "drop": float(x[left] - x[right + w]),
            }
        )
    return out


def sharpest(logl: torch.Tensor | np.ndarray, w: int, floor: float) -> dict[str, float] | None:
    """The candidate of `loss_jumps` with the largest sharpness (None without candidates)."""
    jumps = loss_jumps(logl, w, floor)
    return max(jumps, key=lambda j: j["sharpness"]) if jumps else None


def noise_floor(logl: torch.Tensor | np.ndarray, w: int) -> float:
    """3 × the standard deviation of r over the last quarter of the curve (a converged loss)."""
    x = np.asarray(logl, dtype=np.float64)
    r = x[:-w] - x[w:]
    return 3 * float(r[-max(4, len(r) // 4) :].std(ddof=1))


def smooth_null(
    logl: torch.Tensor | np.ndarray, w: int, draws: int, models: int, seed: int
) -> np.ndarray:
    """Sharpness of the sharpest candidate among `models` smooth decays, `draws` times: [draws].

    Each null curve falls from the run's first to its last log loss as exp(−t/τ) or (1 + t/τ)^−1
    (τ log-uniform over 1–30 % of training) plus iid noise of the run's own size (std of the
    snapshot-to-snapshot change over the converged last quarter, / √2)."""
    x = np.asarray(logl, dtype=np.float64)
    T, start, end = len(x), float(x[0]), float(x[-1])
    inc = np.diff(x)
    sigma = float(inc[-max(4, len(inc) // 4) :].std(ddof=1)) / math.sqrt(2)
    rng = np.random.default_rng(seed)
    t = np.arange(T, dtype=np.float64)
    tau = T * np.exp(np.log(0.01) + rng.random((draws, models)) * np.log(30))
    expo = rng.random((draws, models)) < 0.5
    noise = sigma * rng.standard_normal((draws, models, T))
    best = np.zeros(draws)
    for k in range(draws):
        for i in range(models):
            u = t / tau[k, i]
            curve = end + (start - end) * (np.exp(-u) if expo[k, i] else 1 / (1 + u))
            curve = curve + noise[k, i]
            j = sharpest(curve, w, noise_floor(curve, w))
            best[k] = max(best[k], j["sharpness"] if j else 0.0)
    return best


def measure(logl: torch.Tensor | np.ndarray, D: torch.Tensor, w: int) -> tuple[dict | None, float]:
    """The sharpest jump of a log-loss curve [T] and the largest change of any D_i [T, features]
    from the plateau before it to the jump's end (0 without a jump)."""
    j = sharpest(logl, w, noise_floor(logl, w))
    return j, float((D[j["end"]] - D[j["left"]]).abs().max()) if j else 0.0


def smooth_decay_like(logl: torch.Tensor, seed: int) -> torch.Tensor:
    """The null run: a loss falling smoothly, exp(−t/τ), from the run's first to its last log loss
    (τ = where the run is halfway), with iid noise of the run's own size (as `smooth_null`): [T]."""
    x = np.asarray(logl, dtype=np.float64)
    start, end = float(x[0]), float(x[-1])
    tau = max(1, int(np.argmax(x <= (start + end) / 2)))
    inc = np.diff(x)
    sigma = float(inc[-max(4, len(inc) // 4) :].std(ddof=1)) / math.sqrt(2)
    noise = sigma * np.random.default_rng(seed).standard_normal(len(x))
    return torch.from_numpy(end + (start - end) * np.exp(-np.arange(len(x)) / tau) + noise)


def claim_jump_between_plateaus(
    curves: tuple[torch.Tensor | np.ndarray, torch.Tensor],
    w: int,
    bar: float,
    min_d: float,
    tag: str = "",
) -> Claim:
    """The sharpest jump of curves = (log loss [T], D_i [T, features]) rises above the null's bar
    and moves some D_i by ≥ min_d."""
    jump, d_change = measure(*curves, w)
    sharp = jump["sharpness"] if jump else 0.0
    return Claim(
        id=f"loss-jumps-between-plateaus-with-dimensionality-jumps{tag}",
        statement="After the initial transient, the loss falls in a discrete jump between two "
        "plateaus (its rate of fall rises above the plateaus' on both sides by more than smooth "
        "decays with the same noise ever do), and some feature dimensionality D_i moves "
        "between values across that jump.",
        measured={"sharpness": sharp, "max_dD_across_jump": d_change, **(jump or {})},
        expected=f"sharpness ≥ {bar:.3g} (the null's quantile: smooth decays with the run's "
        f"noise), max |ΔD_i| across it ≥ {min_d} (gap between sticky values 1/2 and 2/5)",
        passed=bool(sharp >= bar and d_change >= min_d),
    )


def digon_deviation(D: torch.Tensor) -> torch.Tensor:
    """Distance of each D_i from the nearer of 0 (not represented) and 1/2 (in a digon): [..., features]."""
    return torch.minimum(D.abs(), (D - 0.5).abs())


def claim_all_digons(D: torch.Tensor, tol: float = 0.05) -> Claim:
    """Every represented feature ends in a digon: each final D_i within `tol` of 1/2 or of 0 (not
    represented), at least two at 1/2 (the paper picks such a model for phenomenon 1).
    D: [features], the shown model's last snapshot."""
    dev = float(digon_deviation(D).max())
    in_digons = int(((D - 0.5).abs() <= tol).sum())
    return Claim(
        id="all-features-end-in-digons",
        statement="The shown model of phenomenon 1 ends with every represented feature in a digon "
        "(D_i = 1/2), the others not represented (D_i = 0).",
        measured={"max distance of D_i from 1/2 or 0": dev, "features in digons": in_digons},
        expected=f"≤ {tol} (half the gap between the sticky values 1/2 and 2/5), ≥ 2 in digons",
        passed=dev <= tol and in_digons >= 2,
    )


def _curves(res, x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """D_i [snapshots, features] and log loss [snapshots] of model k on the fixed batch x."""
    W = torch.stack([snap["W"][k] for snap in res.snapshots])  # [snapshots, hidden, features]
    b = torch.stack([snap["b"][k] for snap in res.snapshots])  # [snapshots, features]
    out = torch.relu(x @ metrics.gram(W) + b[:, None])  # [snapshots, batch, features]
    loss = (x - out).square().sum(-1).mean(-1)
    D = metrics.feature_dimensionality(W)
    return D.cpu(), loss.cpu().double().clamp_min(1e-30).log()


def _analyse(
    cfg: LearningDynamicsConfig, tc: ToyConfig, ctx: RunContext, tag: str, digons: bool
) -> dict:
    """Train `tc`, pick the model with the sharpest jump (for digons: among those whose features
    all end at D_i = 1/2, if any), its claims, figure, data and note."""
    res = train_on(tc, ctx)
    xs = res.distribution.sample(cfg.eval_batch, make_generator(tc.seed + 10, ctx.device))
    T = len(res.snapshots)
    w = max(1, round(cfg.window * T))
    per_model = []
    for k in range(res.model.W.shape[0]):
        D, logl = _curves(res, xs[k], k)
        j, _ = measure(logl, D, w)
        ends = bool((digon_deviation(D[-1]) <= 0.05).all()) if digons else True
        per_model.append((j["sharpness"] if j else 0.0, k, j, D, logl, ends))
    pool = [p for p in per_model if p[5]] or per_model
    _, pick, jump, D, logl, _ = max(pool, key=lambda p: p[0])

    null = smooth_null(logl, w, cfg.null_draws, len(per_model), tc.seed + 11)
    bar = float(np.quantile(null, cfg.null_quantile))
    claims = [
        with_null(
            claim_jump_between_plateaus,
            (logl, D),
            (smooth_decay_like(logl, tc.seed + 12), D),
            "a smooth exponential decay between the run's first and last loss with the run's "
            "noise (and the run's D_i)",
            w,
            bar,
            cfg.jump,
            tag,
        )
    ]
    if digons:
        claims.append(
            with_null(claim_all_digons, D[-1], D[0], "the init weights' D_i (first snapshot)")
        )
    # the initial window alone (up to the first plateau) must not show a jump either
    first = jump["left"] if jump else T // 10
    init_claim = claim_jump_between_plateaus(
        (logl[: first + w + 1], D[: first + w + 1]), w, bar, cfg.jump, tag
    )

    steps = torch.tensor(res.snapshot_steps)
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True)
    size = tc.features.set_size if tc.features.structure == "correlated" else 1
    cmap = [plt.cm.Blues, plt.cm.Oranges, plt.cm.Greens, plt.cm.Purples]
    for i in range(D.shape[1]):
        if size > 1:
            shade = 0.45 + 0.45 * (i % size) / max(1, size - 1)
            a1.plot(steps, D[:, i], lw=1.2, color=cmap[(i // size) % len(cmap)](shade))
        else:
            a1.plot(steps, D[:, i], lw=1.2, color=plt.cm.tab10(i % 10))
    for frac in (1.0, 2 / 3, 0.5):
        a1.axhline(frac, color="grey", ls=":", lw=0.8)
    a1.set_ylabel("feature dimensionality D_i")
    what = (
        f"correlated sets of {size} (colour = set)"
        if size > 1
        else "equal importance (represented features end in digons)"
    )
    a1.set_title(
        f"Learning dynamics, n={tc.n_features}, m={tc.n_hidden}, "
        f"S={tc.features.sparsity:g}, {what}; model {pick}",
        fontsize=9,
    )
    a2.plot(steps, logl.exp(), "k-", label="loss on a fixed batch")
    if jump:
        a2.axvline(float(steps[jump["left"]]), color="tab:blue", ls=":", lw=0.8)
        a2.axvspan(
            float(steps[jump["start"]]),
            float(steps[jump["end"]]),
            color="tab:red",
            alpha=0.12,
            label=f"sharpest jump (sharpness {jump['sharpness']:.1f}, bar {bar:.2f})",
        )
    a2.set_yscale("log")
    a2.set_xscale("log" if digons else "linear")
    a2.set_xlabel("training step")
    a2.set_ylabel("loss")
    a2.legend(fontsize=8)
    name = "energy_levels_digons" if digons else "dimensionality_over_training"
    fig_path = save_figure(fig, ctx.figure_path(name))
    measured = [measure(p[4], p[3], w) for p in per_model]
    return {
        "claims": claims,
        "figure": fig_path,
        "data": {
            "picked_model": pick,
            "sharpness_per_model": [p[0] for p in per_model],
            "max_dD_across_jump_per_model": [m[1] for m in measured],
            "ends_in_digons_per_model": [p[5] for p in per_model] if digons else None,
            "null_quantiles": {q: float(np.quantile(null, q)) for q in (0.5, 0.9, 0.99)},
            "initial_window_null": init_claim.to_dict(),
        },
        "note": f"{tag or 'correlated triples'}: "
        f"{sum(p[0] >= bar for p in per_model)} of {len(per_model)} models show a jump "
        f"between plateaus above the null's bar {bar:.3g} (sharpness per model "
        f"{', '.join(f'{p[0]:.2f}' for p in per_model)}; largest |ΔD_i| across each "
        f"{', '.join(f'{m[1]:.2f}' for m in measured)}); the initial window alone "
        f"(before the first plateau) {'passes (a defect)' if init_claim.passed else 'fails'}",
    }


def run(cfg: LearningDynamicsConfig, ctx: RunContext) -> ExperimentResult:
    parts = [("", _analyse(cfg, cfg.model, ctx, "", False))]
    if cfg.digons is not None:
        parts.append(("digons", _analyse(cfg, cfg.digons, ctx, "-digons", True)))
    return ExperimentResult(
        claims=[c for _, part in parts for c in part["claims"]],
        figures=[part["figure"] for _, part in reversed(parts)],
        data={
            **parts[0][1]["data"],
            **({"digons": parts[1][1]["data"]} if len(parts) > 1 else {}),
        },
        notes=[part["note"] for _, part in parts],
    )


register(
    Experiment(
        name="learning-dynamics",
        title="Loss jumps between plateaus and feature dimensionality over training",
        description="TMS phenomenon 1 (n = 2m, all features ending in digons) and phenomenon 2 "
        "(n=6, m=3, two correlated triples): does the loss fall in jumps between plateaus, with "
        "D_i moving at each jump?",
        config_cls=LearningDynamicsConfig,
        quick=LearningDynamicsConfig(),
        full=LearningDynamicsConfig().replace(
            **{
                "model.n_instances": 32,
                "model.train.snapshot_every": 10,
                "digons.n_instances": 16,
                "digons.train.snapshot_every": 10,
                "null_draws": 2000,
            }
        ),
        runner=run,
        quick_seconds=19,
        full_seconds=77,
        paper="TMS §'Superposition and learning dynamics' (energy-level jumps; phenomenon 2)",
    )
)
