"""resid-mlp-baseline (REFERENCE §5): does the residual MLP beat its naive baseline, and why?

Braun et al.'s compressed-computation model (100 features, 50 neurons) is trained twice per seed:
on their labels y = x + ReLU(x) ("noisy": the MLP must also undo the embedding noise (W_EᵀW_E − I)x)
and on the clean control y = W_EᵀW_E x + ReLU(x) (Bhagat et al.). Each is compared with the naive
baseline (F − N)/F · p/6, within the evaluation's own standard error. "Does not beat" alone
held for a model that never trained (its init: 0.001686 per feature, 2.0× naive), so the clean
claim also asks that the model learned: its loss significantly below an MLP's that outputs nothing
(p/6 = 0.001667; trained: 0.000907, 1.09× naive, quick form, seed 0).
"""

from __future__ import annotations

import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..plots import plt, save_figure
from ..toy.resid_mlp import (
    ResidMLPConfig,
    evaluate,
    init_resid_mlp,
    naive_loss,
    naive_model,
    train_resid_mlp,
)
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext, with_null


class ResidMLPBaselineConfig(FrozenConfig):
    model: ResidMLPConfig = Field(
        ResidMLPConfig(), description="the model and its training (labels set per run)"
    )
    seeds: list[int] = Field([0], min_length=1, max_length=20, description="training seeds")
    se_width: float = Field(
        3.0, gt=0, le=10, description="how many standard errors separate 'beats' from 'ties'"
    )


def claim_noisy_beats(noisy: list[tuple[float, float]], naive: float, w: float) -> Claim:
    worst = max(m + w * se for m, se in noisy)
    return Claim(
        id="noisy-labels-beat-naive",
        statement="Trained on Braun et al.'s labels (with the embedding-noise term), the residual MLP beats the naive baseline (F−N)/F·p/6.",
        measured={"loss per feature (mean, se) per seed": noisy, "naive": naive},
        expected=f"loss + {w:g}·se < naive for every seed",
        passed=worst < naive,
    )


def claim_clean_does_not(
    clean: list[tuple[float, float]], naive: float, silent: float, w: float
) -> Claim:
    """Not below the naive baseline, and below an MLP that outputs nothing (`silent`, p/6 per
    feature): a model that learned nothing does not beat naive either, and must not pass."""
    best = min(m + w * se for m, se in clean)
    worst = max(m + w * se for m, se in clean)
    return Claim(
        id="clean-labels-do-not-beat-naive",
        statement="With clean labels (no embedding-noise term) the advantage over the naive baseline vanishes (Bhagat et al.): the trained model does not beat it, though it learned (its loss is below an MLP's that outputs nothing).",
        measured={
            "loss per feature (mean, se) per seed": clean,
            "naive": naive,
            "MLP outputting nothing (p/6)": silent,
        },
        expected=f"naive ≤ loss + {w:g}·se < p/6 for every seed",
        passed=best >= naive and worst < silent,
    )


def run(cfg: ResidMLPBaselineConfig, ctx: RunContext) -> ExperimentResult:
    naive = naive_loss(cfg.model)
    runs: dict[str, list] = {"noisy": [], "clean": []}
    for labels in runs:
        for seed in cfg.seeds:
            runs[labels].append(train_resid_mlp(cfg.model.replace(labels=labels, seed=seed)))
    naive_net = {
        labels: evaluate(naive_model(cfg.model.replace(labels=labels)), cfg.model.eval_batch, 7)
        for labels in runs
    }
    final = {k: [(r.final_loss, r.final_se) for r in v] for k, v in runs.items()}
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    for j, (labels, rs) in enumerate(runs.items()):
        for i, r in enumerate(rs):
            steps = [
                min(k * max(1, cfg.model.steps // 100), cfg.model.steps - 1)
                for k in range(len(r.losses))
            ]
            a1.plot(steps, r.losses, color=f"C{j}", alpha=0.7, label=labels if i == 0 else None)
    a1.axhline(naive, color="k", ls=":", label="naive (F−N)/F·p/6")
    a1.set_yscale("log")
    a1.set_xlabel("step")
    a1.set_ylabel("training loss per feature")
    a1.legend(fontsize=7)
    names = [
        "noisy (trained)",
        "clean (trained)",
        "naive net, noisy",
        "naive net, clean",
        "naive formula",
    ]
    vals = [
        sum(m for m, _ in final["noisy"]) / len(cfg.seeds),
        sum(m for m, _ in final["clean"]) / len(cfg.seeds),
        naive_net["noisy"][0],
        naive_net["clean"][0],
        naive,
    ]
    a2.barh(names, [v / naive for v in vals], color=["C0", "C1", "C7", "C7", "k"])
    a2.axvline(1.0, color="k", ls=":")
    a2.set_xlabel("loss per feature / naive baseline")
    fig.suptitle(
        f"Residual MLP: F={cfg.model.features}, D={cfg.model.d_embed}, N={cfg.model.neurons}, p={cfg.model.p:g}, {cfg.model.steps} steps",
        fontsize=10,
    )
    path = save_figure(fig, ctx.figure_path("resid_mlp_vs_naive"))
    ratio = {k: [m / naive for m, _ in v] for k, v in final.items()}
    # the clean claim says "does not beat, but learned": its nulls are a model that beats naive
    # by construction and the model before training (which beats nothing)
    wider = cfg.model.replace(
        labels="clean", neurons=min(2 * cfg.model.neurons, cfg.model.features)
    )
    wider_net = evaluate(naive_model(wider), cfg.model.eval_batch, 7)
    clean = cfg.model.replace(labels="clean", seed=cfg.seeds[0])
    untrained = evaluate(
        init_resid_mlp(clean, torch.Generator().manual_seed(clean.seed)), cfg.model.eval_batch, 7
    )
    return ExperimentResult(
        claims=[
            with_null(
                claim_noisy_beats,
                final["noisy"],
                [naive_net["noisy"]],
                "the naive network itself (N neurons computing N features), noisy labels",
                naive,
                cfg.se_width,
            ),
            with_null(
                claim_clean_does_not,
                final["clean"],
                [wider_net, untrained],
                f"the naive network with {wider.neurons} neurons, clean labels (beats the "
                "N-neuron baseline by construction), and the model untrained (its init)",
                naive,
                cfg.model.p / 6,
                cfg.se_width,
            ),
        ],
        figures=[path],
        data={
            "naive_formula": naive,
            "naive_network": naive_net,
            "final": final,
            "ratio_to_naive": ratio,
        },
        notes=[
            "Loss = mean squared error per feature on fresh inputs; se = its standard error over inputs.",
            "The naive network (N neurons computing N features' ReLU exactly) measures the formula on clean labels; on noisy labels it also pays for (W_EᵀW_E − I)x.",
            "Trained in the equivalent feature-space form (A = W_in W_E, B = W_Eᵀ W_out): same function class, not the same optimiser path as training W_in, W_out in the residual stream.",
        ],
    )


register(
    Experiment(
        name="resid-mlp-baseline",
        title="Residual-MLP compressed computation vs the naive baseline, with and without label noise",
        description="Braun et al.'s residual MLP trained on noisy and clean labels, each against (F−N)/F·p/6.",
        config_cls=ResidMLPBaselineConfig,
        quick=ResidMLPBaselineConfig().replace(
            **{"model.steps": 500, "model.batch": 1024, "model.eval_batch": 200_000}
        ),
        full=ResidMLPBaselineConfig().replace(seeds=[0, 1, 2]),
        runner=run,
        quick_seconds=10,
        full_seconds=305,
        paper="Braun et al. 2025 (APD, residual MLP); Bhagat et al. 2025 (compressed computation is not CiS)",
    )
)
