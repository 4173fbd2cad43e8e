"""TMS §"Learning dynamics": per-feature dimensionality D_i over training next to the loss curve;
the paper sees D_i jump between values at the moments the loss drops. We train several models,
keep the one whose features end most cleanly in digons (D_i ≈ 1/2) and measure the coincidence
(`metrics.jump_loss_coincidence`)."""

from __future__ import annotations

import torch
from pydantic import Field, model_validator

from ..base.config import FrozenConfig
from ..base.device import make_generator
from ..plots import plt, save_figure
from ..toy import metrics
from ..toy.config import ToyConfig
from ..toy.train import train
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext


class LearningDynamicsConfig(FrozenConfig):
    model: ToyConfig = Field(
        ToyConfig(
            n_features=20,
            n_hidden=10,
            n_instances=8,
            features={"sparsity": 0.95},
            train={"steps": 10_000, "lr": 1e-3, "snapshot_every": 20},
        ),
        description="the models (uniform importance, one sparsity): n_instances trained, the most "
        "digon-like kept; train.snapshot_every sets the weight snapshots",
    )
    eval_batch: int = Field(8192, ge=64, description="fixed samples scoring every snapshot")
    jump: float = Field(
        0.1, gt=0, le=1, description="a window changing some D_i this much is a jump"
    )

    @model_validator(mode="after")
    def _check(self) -> LearningDynamicsConfig:
        if self.model.train.snapshot_every is None or isinstance(
            self.model.features.sparsity, list
        ):
            raise ValueError(
                "model: train.snapshot_every must be set and features.sparsity one value"
            )
        return self


def claim_jumps_coincide_with_drops(
    stats: dict[str, float],
    min_contrast: float = 2.0,
    min_local: float = 1.25,
    min_jump: float = 0.1,
) -> Claim:
    """Jumps exist (some |ΔD_i| ≥ min_jump within one window), the loss drops at jump windows are
    ≥ min_contrast × those elsewhere in the learning phase, and ≥ min_local × the median drop of the
    neighbouring windows (so a smooth joint decay does not pass). NaN statistics fail."""
    ok = (
        stats["largest_change"] >= min_jump
        and stats["contrast"] >= min_contrast
        and stats["local_contrast"] >= min_local
    )
    return Claim(
        id="dimensionality-jumps-coincide-with-loss-drops",
        statement="Jumps in per-feature dimensionality D_i coincide with drops in the loss: over "
        "windows of 2 % of training within the learning phase, windows where some D_i moves by "
        "≥ 0.1 have a mean −Δlog L well above the other windows', and above that of their "
        "neighbouring windows (local contrast).",
        measured=stats,
        expected=f"largest |ΔD_i| ≥ {min_jump}, contrast ≥ {min_contrast}, local contrast ≥ "
        f"{min_local}",
        passed=bool(ok),
    )


def run(cfg: LearningDynamicsConfig, ctx: RunContext) -> ExperimentResult:
    tc = cfg.model.replace(device=str(ctx.device))
    res = train(tc, ctx.progress, "learning-dynamics")
    final = metrics.feature_dimensionality(res.model.W.detach())
    digons = ((final - 0.5).abs() < 0.05).sum(-1)
    pick = int(digons.argmax())
    x = res.distribution.sample(cfg.eval_batch, make_generator(cfg.model.seed + 10, ctx.device))[
        pick
    ]
    dims, losses = [], []
    for snap in res.snapshots:
        W, b = snap["W"][pick : pick + 1], snap["b"][pick]
        dims.append(metrics.feature_dimensionality(W)[0])
        out = torch.relu(x @ metrics.gram(W)[0] + b)
        losses.append((x - out).square().sum(-1).mean())
    D = torch.stack(dims).cpu()  # [snapshots, features]
    L = torch.stack(losses).cpu()  # [snapshots]
    stats = metrics.jump_loss_coincidence(D, L, cfg.jump)
    steps = torch.tensor(res.snapshot_steps)

    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True)
    for i in range(D.shape[1]):
        a1.plot(steps, D[:, i], lw=1)
    for frac in (1.0, 0.5):
        a1.axhline(frac, color="grey", ls=":", lw=0.8)
    a1.set_ylabel("feature dimensionality D_i")
    a1.set_title(
        f"Learning dynamics, n={cfg.model.n_features}, m={cfg.model.n_hidden}, S={cfg.model.features.sparsity:g} "
        f"(model {pick}: {int(digons[pick])} digons)",
        fontsize=9,
    )
    a2.plot(steps, L, "k-", label="loss on a fixed batch")
    a2.set_yscale("log")
    a2.set_xlabel("training step")
    a2.set_ylabel("loss")
    a2.legend(fontsize=8)
    fig_path = save_figure(fig, ctx.figure_path("dimensionality_over_training"))
    return ExperimentResult(
        claims=[claim_jumps_coincide_with_drops(stats)],
        figures=[fig_path],
        data={"picked_model": pick, "digons_per_model": digons, "stats": stats},
    )


register(
    Experiment(
        name="learning-dynamics",
        title="Feature dimensionality over training vs the loss curve",
        description="Per-feature dimensionality D_i at weight snapshots next to the loss; do jumps "
        "in D_i coincide with loss drops?",
        config_cls=LearningDynamicsConfig,
        # the paper's lr: a 3x lr compresses learning into a handful of snapshots (tried: n=10,
        # m=5, S=0.9, lr 3e-3 gave contrast 1.36 over 19 learning-phase windows)
        quick=LearningDynamicsConfig().replace(**{"model.train.steps": 8000}),
        full=LearningDynamicsConfig().replace(**{"model.train.snapshot_every": 10}),
        runner=run,
        quick_seconds=20,
        full_seconds=60,
        paper="TMS §'Learning dynamics' (feature dimensionality over training)",
    )
)
