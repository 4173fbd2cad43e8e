"""TMS §"Approach 1: creating models without superposition": an L1 penalty λ‖h‖₁ on the hidden
activations removes superposition, at a cost in loss. ReLU hidden layer (privileged basis), one
sparse setting where the unpenalised model is in superposition, a grid over λ."""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..plots import plt, save_figure
from ..plots.toy import neuron_stacks
from ..sweep import map_grid
from ..toy import metrics
from ..toy.config import ToyConfig
from ..toy.train import train
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext


class L1Config(FrozenConfig):
    model: ToyConfig = Field(
        ToyConfig(
            model="relu_hidden",
            n_features=10,
            n_hidden=5,
            features={"sparsity": 0.99},
            importance_decay=0.75,
            train={"steps": 10_000, "lr": 1e-3, "restarts": 4},
        ),
        description="the ReLU-hidden model trained once per λ (train.l1_hidden set from `l1`)",
    )
    l1: list[float] = Field(
        [0.0, 0.01, 0.03, 0.1, 0.3],
        min_length=2,
        description="L1 penalties λ on h, increasing, the first 0 (the control)",
    )


def train_point(point: dict[str, Any]) -> dict[str, Any]:
    """One grid point: train with L1 penalty point['l1']; weights and reconstruction loss."""
    res = train(ToyConfig(**point["toy"]), progress=False)
    return {"W": res.model.W.detach().cpu()[0], "loss": float(res.final_loss[0])}


def superposition_counts(W: torch.Tensor, share: float = 0.1) -> dict[str, list[int]]:
    """Features that drive a neuron and polysemantic neurons (positive weights), per instance."""
    return {
        "represented": metrics.represented_by_neurons(W).sum(-1).tolist(),
        "polysemantic neurons": (metrics.polysemanticity(W, share, positive=True) >= 2)
        .sum(-1)
        .tolist(),
    }


def claim_control_superposed(W: torch.Tensor) -> Claim:
    """Without L1 (first λ) the model is in superposition: more features than neurons and at least
    one polysemantic neuron."""
    m = W.shape[-2]
    c = superposition_counts(W[:1])
    rep, poly = c["represented"][0], c["polysemantic neurons"][0]
    return Claim(
        id="superposition-without-l1",
        statement=f"Without the penalty more than m={m} features drive neurons and some neurons are "
        "polysemantic.",
        measured={"represented": rep, "polysemantic neurons": poly},
        expected=f"represented > {m} and polysemantic ≥ 1",
        passed=rep > m and poly >= 1,
    )


def claim_l1_removes_superposition(W: torch.Tensor) -> Claim:
    """With the largest λ (last): no polysemantic neuron and at most m features represented."""
    m = W.shape[-2]
    c = superposition_counts(W[-1:])
    rep, poly = c["represented"][0], c["polysemantic neurons"][0]
    return Claim(
        id="l1-removes-superposition",
        statement="With the largest L1 penalty every neuron is monosemantic and at most "
        f"m={m} features drive neurons.",
        measured={"represented": rep, "polysemantic neurons": poly},
        expected=f"polysemantic == 0 and represented ≤ {m}",
        passed=poly == 0 and rep <= m,
    )


def claim_l1_costs_loss(loss: torch.Tensor, factor: float = 1.05) -> Claim:
    """The reconstruction loss at the largest λ exceeds the unpenalised one by > 5 %."""
    ratio = float(loss[-1] / loss[0].clamp_min(1e-12))
    return Claim(
        id="l1-costs-loss",
        statement="Removing superposition costs reconstruction loss (largest λ vs λ=0).",
        measured=ratio,
        expected=f"> {factor:g}",
        passed=ratio > factor,
    )


def run(cfg: L1Config, ctx: RunContext) -> ExperimentResult:
    points = [
        {"toy": cfg.model.replace(**{"train.l1_hidden": lam, "device": str(ctx.device)}).to_dict()}
        for lam in cfg.l1
    ]
    out = map_grid(train_point, points, progress=ctx.progress, description="l1 grid")
    W = torch.stack([o["W"] for o in out])  # [λ, hidden, features]
    loss = torch.tensor([o["loss"] for o in out])
    counts = superposition_counts(W)
    n_rep, n_poly = counts["represented"], counts["polysemantic neurons"]
    labels = [f"λ={lam:g}" for lam in cfg.l1]
    title = f"ReLU hidden, n={cfg.model.n_features}, m={cfg.model.n_hidden}, S={cfg.model.features.sparsity:g}"
    fig, ax = plt.subplots(figsize=(6.5, 4))
    xs = range(len(cfg.l1))
    ax.plot(xs, n_rep, "o-", label="features driving a neuron (‖ReLU(W_i)‖ > 0.5)")
    ax.plot(xs, n_poly, "s-", label="polysemantic neurons")
    ax.axhline(cfg.model.n_hidden, color="grey", ls=":", label="m (neurons)")
    ax.set_xticks(list(xs), labels)
    ax.set_xlabel("L1 penalty λ on h")
    ax.set_ylabel("features")
    ax2 = ax.twinx()
    ax2.plot(xs, loss, "k^--", label="reconstruction loss")
    ax2.set_ylabel("reconstruction loss (no penalty term)")
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], fontsize=7, loc="center left")
    ax.set_title(f"L1 on hidden activations removes superposition ({title})", fontsize=9)
    figures = [
        save_figure(fig, ctx.figure_path("l1_sweep")),
        neuron_stacks(
            W.clamp_min(0.0),
            labels,
            ctx.figure_path("neuron_stacks"),
            title + ": positive weights per neuron",
        ),
    ]
    claims = [
        claim_control_superposed(W),
        claim_l1_removes_superposition(W),
        claim_l1_costs_loss(loss),
    ]
    return ExperimentResult(
        claims=claims,
        figures=figures,
        data={"l1": cfg.l1, "represented": n_rep, "polysemantic_neurons": n_poly, "loss": loss},
    )


register(
    Experiment(
        name="l1-no-superposition",
        title="An L1 penalty on h removes superposition, at a cost in loss",
        description="ReLU hidden layer n=10, m=5, S=0.99 trained with λ‖h‖₁ for a grid of λ.",
        config_cls=L1Config,
        quick=L1Config().replace(
            **{"model.train.steps": 3000, "model.train.lr": 3e-3, "model.train.restarts": 2}
        ),
        full=L1Config().replace(**{"model.train.restarts": 10}),
        runner=run,
        quick_seconds=14,
        full_seconds=150,
        paper="TMS §'Approach 1: creating models without superposition'",
    )
)
