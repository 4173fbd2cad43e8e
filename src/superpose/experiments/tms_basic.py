"""TMS §2 "Demonstrating superposition": linear vs ReLU-output models across sparsity.

Two sizes: n=20, m=5, I=0.7^i and the rescaled n=80, m=20, I=0.9^i. Each claim is a function of the
trained weights so a test can feed it weights that lack the property.
"""

from __future__ import annotations

import math

import torch
from pydantic import Field, model_validator

from ..base.config import FrozenConfig
from ..plots.toy import wtw_and_norms
from ..toy import metrics
from ..toy.config import ToyConfig
from ..toy.train import train
from . import register
from .base import (
    Claim,
    Experiment,
    ExperimentResult,
    RunContext,
    loss_on_run,
    no_superposition_loss,
    untrained,
    with_null,
)

SPARSITIES = [0.0, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999]


def _model(n_features: int, n_hidden: int, decay: float) -> ToyConfig:
    return ToyConfig(
        n_features=n_features,
        n_hidden=n_hidden,
        features={"sparsity": SPARSITIES},
        importance_decay=decay,
        train={"steps": 10_000, "batch_size": 1024, "lr": 1e-3},
    )


class TmsBasicConfig(FrozenConfig):
    model: ToyConfig = Field(
        _model(20, 5, 0.7),
        description="the n=20, m=5 models: one instance per sparsity (its `model` kind is set "
        "to linear and relu_output in turn)",
    )
    large: ToyConfig | None = Field(
        _model(80, 20, 0.9), description="the rescaled n=80, m=20 models (null: skip them)"
    )

    @model_validator(mode="after")
    def _check(self) -> TmsBasicConfig:
        for tc in (self.model, self.large):
            if tc is not None and not isinstance(tc.features.sparsity, list):
                raise ValueError("model/large: features.sparsity must list one value per instance")
        return self


def toy_config(cfg: TmsBasicConfig, model: str, device: str, large: bool = False) -> ToyConfig:
    return (cfg.large if large else cfg.model).replace(model=model, device=device)


def claim_linear_top_m(W: torch.Tensor, m: int, tag: str = "") -> Claim:
    """The linear model represents exactly the m most important features at every sparsity."""
    rep = metrics.represented(W)
    top_m = rep[:, :m].all(1) & ~rep[:, m:].any(1)
    return Claim(
        id=f"linear-top-m{tag}",
        statement=f"The linear model represents exactly the {m} most important features "
        "(‖W_i‖ > 0.5) and no others, at every sparsity.",
        measured={"represented per sparsity": rep.sum(1).tolist(), "exactly top-m": top_m.tolist()},
        expected=f"exactly features 0..{m - 1} at all {W.shape[0]} sparsities",
        passed=bool(top_m.all()),
    )


def claim_superposition_when_sparse(
    model: tuple[torch.Tensor, torch.Tensor], baseline: float, m: int, tag: str = ""
) -> Claim:
    """At the highest sparsity (last instance) the ReLU model represents more than m features AND
    that pays: its loss is below `baseline`, the loss of the best model without superposition (top
    m features exact, the others their mean: `no_superposition_loss`). The loss condition is the
    paper's reason for superposition; without it random weights (‖W_i‖ ≈ 0.6 > 0.5 at init)
    "represent" most features. model: (W [instances, hidden, features], loss [instances])."""
    W, loss = model
    n_rep = int(metrics.represented(W).sum(1)[-1])
    last = float(loss[-1])
    return Claim(
        id=f"relu-superposition-when-sparse{tag}",
        statement=f"At the highest sparsity the ReLU-output model represents more than m={m} "
        "features (superposition) and so beats the best no-superposition model's loss.",
        measured={"represented": n_rep, "loss": last, "no-superposition loss": baseline},
        expected=f"> {m} represented and loss < the best no-superposition model's (top {m} "
        "features exact, the rest their mean)",
        passed=n_rep > m and last < baseline,
    )


#: the largest drop in the represented count along sparsity (below the most at any denser setting)
#: that the count's own seed noise gives a curve whose mean rises: each sparsity is its own
#: independently seeded instance, so the 1 % tail of max_drop over curves built from one seed per
#: sparsity. Measured on the quick form (40 seeds per sparsity, GROWTH_SEED_COUNTS: seed-to-seed SD
#: 0–0.95, means 5.0 7.4 9.3 10.3 11.5 12.6 13.1, rising at every step): P(max drop ≥ 1) = 31 %,
#: ≥ 2 = 7.9 %, ≥ 3 = 0.8 %, ≥ 4 = 0, so its 99th percentile is 2. The paper states no tolerance
#: ("as sparsity increases, we see superposition emerge"). Was 1 (no source), which 6 of those 40
#: seeds' own curves fail (all 40 hold 2). Its null: the quick run's counts in a random sparsity
#: order hold it 1.5 % of the time (0.7 % with the rest of the claim).
GROWTH_SLACK = 2

#: represented counts of 40 independently seeded quick-form ReLU models per sparsity (rows:
#: seeds 0 and 1 of 20 instances; columns: SPARSITIES), from which GROWTH_SLACK is computed
#: (growth_slack)
GROWTH_SEED_COUNTS = [
    [5, 7, 10, 10, 12, 13, 14],
    [5, 7, 9, 11, 12, 13, 13],
    [5, 9, 9, 11, 12, 13, 11],
    [5, 9, 10, 10, 11, 13, 13],
    [5, 8, 9, 10, 12, 13, 13],
    [5, 7, 9, 10, 12, 14, 12],
    [5, 7, 9, 11, 12, 13, 13],
    [5, 9, 9, 10, 11, 13, 12],
    [5, 6, 10, 10, 11, 13, 13],
    [5, 7, 9, 11, 11, 13, 13],
    [5, 7, 8, 10, 11, 11, 12],
    [5, 8, 9, 11, 11, 12, 12],
    [5, 9, 10, 10, 12, 14, 13],
    [5, 7, 9, 10, 13, 12, 12],
    [5, 7, 9, 10, 10, 12, 15],
    [5, 6, 10, 10, 11, 13, 13],
    [5, 7, 9, 11, 11, 11, 13],
    [5, 7, 9, 11, 11, 12, 13],
    [5, 7, 8, 10, 12, 13, 15],
    [5, 7, 10, 10, 12, 12, 11],
    [5, 7, 10, 10, 12, 13, 14],
    [5, 8, 9, 10, 12, 14, 12],
    [5, 8, 9, 10, 11, 14, 14],
    [5, 8, 10, 10, 11, 12, 13],
    [5, 7, 9, 10, 12, 13, 11],
    [5, 7, 10, 10, 11, 12, 14],
    [5, 7, 9, 11, 11, 13, 14],
    [5, 7, 10, 11, 12, 12, 14],
    [5, 8, 9, 11, 12, 12, 13],
    [5, 8, 9, 10, 12, 13, 13],
    [5, 7, 9, 10, 12, 13, 14],
    [5, 8, 10, 10, 12, 12, 13],
    [5, 7, 9, 10, 11, 13, 15],
    [5, 7, 10, 11, 12, 13, 14],
    [5, 8, 10, 11, 10, 12, 14],
    [5, 8, 9, 10, 12, 11, 13],
    [5, 8, 9, 10, 12, 10, 13],
    [5, 8, 9, 10, 12, 13, 12],
    [5, 7, 10, 10, 11, 12, 13],
    [5, 7, 10, 10, 10, 13, 14],
]


#: the same for the rescaled n=80, m=20 model (full form only): its counts rise 6–10 per sparsity
#: step against a seed-to-seed SD of 0–1.6 (6 seeds per sparsity, the full form's 10,000 steps at
#: lr 1e-3, one restart each, GROWTH_SEED_COUNTS_N80: means 20.0 27.2 33.5 42.0 51.7 59.0 66.8),
#: so no curve built from them drops at all: its 1 % tail is 0 and the n=80 claim allows no drop
GROWTH_SLACK_N80 = 0

#: represented counts of those 6 seeds (rows: seeds; columns: SPARSITIES)
GROWTH_SEED_COUNTS_N80 = [
    [20, 27, 32, 42, 51, 58, 69],
    [20, 27, 33, 43, 52, 59, 68],
    [20, 27, 35, 42, 52, 58, 67],
    [20, 28, 34, 42, 52, 62, 65],
    [20, 27, 34, 41, 51, 59, 65],
    [20, 27, 33, 42, 52, 58, 67],
]


def max_drop(counts: torch.Tensor) -> torch.Tensor:
    """Largest fall of a count below its running maximum along the last dim (0 if non-decreasing)."""
    return (counts.cummax(-1).values - counts).max(-1).values


def growth_slack(
    seed_counts: torch.Tensor, tail: float = 0.01, draws: int = 200_000, seed: int = 0
) -> int:
    """The (1 − tail) quantile of max_drop over curves that take each sparsity's count from an
    independent seed. seed_counts: [seeds, sparsities]."""
    gen = torch.Generator().manual_seed(seed)
    pick = torch.randint(seed_counts.shape[0], (draws, seed_counts.shape[1]), generator=gen)
    drops = max_drop(seed_counts.gather(0, pick)).float()
    return int(drops.kthvalue(math.ceil((1 - tail) * draws)).values)


def claim_more_features_when_sparser(
    W: torch.Tensor, m: int, tag: str = "", slack: int = GROWTH_SLACK
) -> Claim:
    """Represented features grow with sparsity from the linear model's m when dense (the paper: the
    dense ReLU model is like the linear one): at most m at the densest, never more than
    `slack` (the count's seed noise: GROWTH_SLACK at n=20, GROWTH_SLACK_N80 at n=80) below the
    most at a denser setting, and more at the sparsest than at the densest."""
    n_rep = metrics.represented(W).sum(1)
    drop = int(max_drop(n_rep))
    ok = bool(n_rep[0] <= m and drop <= slack and n_rep[-1] > n_rep[0])
    return Claim(
        id=f"relu-more-features-when-sparser{tag}",
        statement="The ReLU-output model represents m features when dense, like the linear model, "
        "and more as sparsity grows.",
        measured={"represented per sparsity": n_rep.tolist(), "largest drop": drop},
        expected=f"≤ {m} at the densest; along sparsity never more than {slack} below the most "
        "at a denser setting (the 1 % tail of the largest drop that the count's seed-to-seed "
        f"noise gives a rising curve, measured at n={W.shape[-1]}); last > first",
        passed=ok,
    )


#: one-sided permutation test level of the superposed-last ordering (the conventional 5 %: the
#: quick form has one mixed sparsity with 7 represented features, whose smallest p is 1/35)
ORDER_ALPHA = 0.05


def order_test(
    values: torch.Tensor, low: torch.Tensor, high: torch.Tensor, draws: int = 2000
) -> tuple[list[tuple[int, float, float]], float]:
    """Are the `high` items' values above the `low` items'? values: [instances, items]; low, high:
    disjoint bool [instances, items]. Per instance with both groups: (instance, mean value of low,
    mean value of high); and the one-sided permutation p of the summed gap (high − low) against
    the values of the two groups dealt to them at random (`draws` draws; 1.0 without such an
    instance)."""
    rows = [
        (k, float(values[k][low[k]].mean()), float(values[k][high[k]].mean()))
        for k in range(values.shape[0])
        if low[k].any() and high[k].any()
    ]
    gap = sum(h - lo for _, lo, h in rows)
    gen = torch.Generator().manual_seed(0)
    null_gap = torch.zeros(draws)
    for k, _, _ in rows:
        pool, n_low = values[k][low[k] | high[k]].float(), int(low[k].sum())
        dealt = pool[torch.stack([torch.randperm(len(pool), generator=gen) for _ in null_gap])]
        null_gap += dealt[:, n_low:].mean(1) - dealt[:, :n_low].mean(1)
    p = float((null_gap >= gap - 1e-9).float().mean()) if rows else 1.0
    return rows, p


def claim_least_important_superposed_first(W: torch.Tensor, tag: str = "") -> Claim:
    """Where a ReLU model has both dedicated and superposed features, the superposed ones are the
    less important: mean index of superposed > mean index of dedicated features at every such
    sparsity (features are ordered by decreasing importance), and the summed gap is beyond the
    (1 − ORDER_ALPHA) quantile of the same gap when the represented features' indices are dealt
    to the two groups at random (2000 draws: a permutation test that the ordering is not chance)."""
    rep = metrics.represented(W)
    sup = metrics.superposed(W)
    idx = torch.arange(W.shape[-1], dtype=torch.float32).expand(W.shape[0], -1)
    rows, p = order_test(idx, rep & ~sup, sup)
    ok = bool(rows) and all(s > d for _, d, s in rows) and p < ORDER_ALPHA
    return Claim(
        id=f"relu-least-important-superposed-first{tag}",
        statement="Where some features are in superposition and some are dedicated, the superposed "
        "ones are the less important (mean feature index of superposed > of dedicated), beyond "
        "what a random feature order gives.",
        measured={
            "rows": [
                {"instance": k, "mean index dedicated": d, "mean index superposed": s}
                for k, d, s in rows
            ],
            "permutation p": p,
        },
        expected=f"at every mixed sparsity (at least one): superposed mean index > dedicated; "
        f"permutation p < {ORDER_ALPHA:g}",
        passed=ok,
    )


def run(cfg: TmsBasicConfig, ctx: RunContext) -> ExperimentResult:
    sparsities = cfg.model.features.sparsity
    labels = [f"S={s:g}" for s in sparsities]
    sizes = [(False, "")] + ([(True, "-n80")] if cfg.large is not None else [])
    figures, claims, data = [], [], {"sparsities": sparsities}
    for large, tag in sizes:
        tc = cfg.large if large else cfg.model
        n, m, decay = tc.n_features, tc.n_hidden, tc.importance_decay
        weights, losses, nulls = {}, {}, {}
        for kind in ("linear", "relu_output"):
            tc = toy_config(cfg, kind, str(ctx.device), large)
            res = train(tc, ctx.progress, f"tms-basic{tag} {kind}")
            W = res.model.W.detach().cpu()
            weights[kind], losses[kind] = W, res.final_loss.cpu()
            init = untrained(tc)  # the null: the weights this training started from
            nulls[kind] = (init.W.detach(), loss_on_run(init, res))
            data[f"loss_{kind}{tag}"] = res.final_loss.cpu()
            data[f"represented_{kind}{tag}"] = metrics.represented(W).sum(1)
            data[f"W_{kind}{tag}"] = W  # [sparsities, hidden, features]: the report's WᵀW hover
            figures.append(
                wtw_and_norms(
                    W,
                    labels,
                    ctx.figure_path(f"wtw_{kind}{tag or '-n' + str(n)}"),
                    f"{kind} model, n={n}, m={m}, I_i={decay}^i: WᵀW and ‖W_i‖ per sparsity",
                )
            )
        baseline = float(no_superposition_loss(res, m)[-1])
        untrained_kind = "untrained: this run's init weights"
        claims += [
            with_null(
                claim_linear_top_m, weights["linear"], nulls["linear"][0], untrained_kind, m, tag
            ),
            with_null(
                claim_superposition_when_sparse,
                (weights["relu_output"], losses["relu_output"]),
                nulls["relu_output"],
                untrained_kind,
                baseline,
                m,
                tag,
            ),
            with_null(
                claim_more_features_when_sparser,
                weights["relu_output"],
                nulls["relu_output"][0],
                untrained_kind,
                m,
                tag,
                GROWTH_SLACK_N80 if large else GROWTH_SLACK,
            ),
            with_null(
                claim_least_important_superposed_first,
                weights["relu_output"],
                weights["relu_output"].flip(-1),
                "feature order reversed (most important last)",
                tag,
            ),
        ]
    return ExperimentResult(claims=claims, figures=figures, data=data)


register(
    Experiment(
        name="tms-basic",
        title="Linear vs ReLU-output models across sparsity (n=20, m=5; n=80, m=20)",
        description="The linear model learns the top-m principal features; the ReLU-output model "
        "packs more features into superposition as sparsity grows, least important first.",
        config_cls=TmsBasicConfig,
        # quick: 3x lr converges in 1/4 of the steps
        quick=TmsBasicConfig(large=None).replace(
            **{"model.train.steps": 2500, "model.train.lr": 3e-3}
        ),
        full=TmsBasicConfig().replace(**{"model.train.restarts": 3, "large.train.restarts": 3}),
        runner=run,
        quick_seconds=6,
        full_seconds=95,
        paper="TMS §2, figure 'demonstrating superposition' (and its n=80 rescaled version)",
    )
)
