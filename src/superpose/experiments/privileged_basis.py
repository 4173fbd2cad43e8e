"""TMS §"Superposition in a privileged basis": a ReLU hidden layer (n=10, m=5, I=0.75^i) has
monosemantic neurons when features are dense and polysemantic ones when they are sparse."""

from __future__ import annotations

import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..plots.toy import neuron_stacks, wtw_and_norms
from ..toy import metrics
from ..toy.config import ToyConfig
from . import register
from .base import (
    Claim,
    Experiment,
    ExperimentResult,
    RunContext,
    across_sparsity,
    train_on,
    untrained,
    with_null,
)


class PrivilegedBasisConfig(FrozenConfig):
    model: ToyConfig = Field(
        across_sparsity(
            "relu_hidden", 10, 5, 0.75, [0.0, 0.7, 0.9, 0.97, 0.99, 0.999], restarts=20
        ),
        description="the ReLU-hidden models: one instance per sparsity, densest first, best of `restarts` seeds",
    )
    share: float = Field(
        0.1,
        gt=0,
        lt=1,
        description="a feature counts for a neuron above this share of its positive weight²",
    )


def claim_monosemantic_when_dense(W: torch.Tensor, share: float = 0.1) -> Claim:
    """At the densest setting (first instance) every alive neuron is monosemantic (positive weights:
    with inputs ≥ 0 a ReLU neuron fires only for features it weights positively)."""
    poly = metrics.polysemanticity(W[:1], share, positive=True)[0]
    alive = int((poly > 0).sum())
    mono = int((poly == 1).sum())
    return Claim(
        id="monosemantic-when-dense",
        statement="With dense features every alive neuron carries a single feature.",
        measured={"monosemantic": mono, "alive": alive, "features per neuron": poly.tolist()},
        expected="monosemantic == alive ≥ 1",
        passed=alive >= 1 and mono == alive,
    )


def claim_polysemantic_when_sparse(W: torch.Tensor, share: float = 0.1) -> Claim:
    """The shift with sparsity: at the sparsest setting (last instance) at least half the alive
    neurons are polysemantic, at the densest (first) none is. (Polysemantic neurons alone are
    no evidence: random weights have them at every sparsity.)"""
    poly = metrics.polysemanticity(W[-1:], share, positive=True)[0]
    dense = int((metrics.polysemanticity(W[:1], share, positive=True)[0] >= 2).sum())
    alive = int((poly > 0).sum())
    n_poly = int((poly >= 2).sum())
    return Claim(
        id="polysemantic-when-sparse",
        statement="Neurons shift from monosemantic to polysemantic as sparsity grows: with sparse "
        "features at least half of the alive neurons carry two or more features, with dense "
        "features none does.",
        measured={
            "polysemantic": n_poly,
            "alive": alive,
            "features per neuron": poly.tolist(),
            "polysemantic when dense": dense,
        },
        expected="polysemantic ≥ alive / 2 and ≥ 1 at the sparsest, 0 at the densest",
        passed=n_poly >= 1 and 2 * n_poly >= alive and dense == 0,
    )


def claim_more_features_than_neurons(W: torch.Tensor) -> Claim:
    """Dense: at most m features represented; sparsest: more than m (superposition)."""
    m = W.shape[-2]
    n_rep = metrics.represented_by_neurons(W).sum(-1)
    return Claim(
        id="more-features-than-neurons-when-sparse",
        statement=f"Dense: at most m={m} features drive a neuron (‖ReLU(W_i)‖ > 0.5); sparsest: "
        "more than m.",
        measured=n_rep.tolist(),
        expected=f"first ≤ {m}, last > {m}",
        passed=bool(n_rep[0] <= m and n_rep[-1] > m),
    )


def run(cfg: PrivilegedBasisConfig, ctx: RunContext) -> ExperimentResult:
    res = train_on(cfg.model, ctx)
    W = res.model.W.detach().cpu()
    poly = metrics.polysemanticity(W, cfg.share, positive=True)
    mono, multi = (poly == 1).sum(-1), (poly >= 2).sum(-1)
    labels = [
        f"S={s:g}\n{int(a)} mono, {int(p)} poly"
        for s, a, p in zip(cfg.model.features.sparsity, mono, multi, strict=True)
    ]
    title = f"ReLU hidden layer, n={cfg.model.n_features}, m={cfg.model.n_hidden}, I_i={cfg.model.importance_decay}^i"
    figures = [
        neuron_stacks(
            W.clamp_min(0.0),
            labels,
            ctx.figure_path("neuron_stacks"),
            title + ": positive weights per neuron",
        ),
        wtw_and_norms(W, labels, ctx.figure_path("wtw"), title + ": WᵀW and ‖W_i‖"),
    ]
    W0 = untrained(cfg.model).W.detach()
    kind = "untrained: the init weights training started from"
    claims = [
        with_null(claim_monosemantic_when_dense, W, W0, kind, cfg.share),
        with_null(claim_polysemantic_when_sparse, W, W0, kind, cfg.share),
        with_null(claim_more_features_than_neurons, W, W0, kind),
    ]
    return ExperimentResult(
        claims=claims,
        figures=figures,
        data={
            "sparsities": cfg.model.features.sparsity,
            "monosemantic_neurons": mono,
            "polysemantic_neurons": multi,
            "features_per_neuron": poly,
            "represented": metrics.represented_by_neurons(W).sum(-1),
            "loss": res.final_loss.cpu(),
        },
    )


register(
    Experiment(
        name="privileged-basis",
        title="Monosemantic vs polysemantic neurons in a ReLU hidden layer (n=10, m=5)",
        description="Best of many seeds per sparsity; neuron stack plots; count neurons carrying one "
        "feature (monosemantic) or several (polysemantic).",
        config_cls=PrivilegedBasisConfig,
        # dense solutions align with the neurons slowly (while every pre-activation is positive the
        # loss is rotation invariant; Adam's per-coordinate steps break the tie), hence 5000 steps
        quick=PrivilegedBasisConfig().replace(
            **{
                "model.train.steps": 5000,
                "model.train.lr": 3e-3,
                "model.train.restarts": 2,
                "model.features.sparsity": [0.0, 0.9, 0.99, 0.999],
            }
        ),
        full=PrivilegedBasisConfig(),
        runner=run,
        quick_seconds=13,
        full_seconds=240,
        paper="TMS §'Superposition in a privileged basis'",
    )
)
