"""TMS §2 "Demonstrating superposition": linear vs ReLU-output models across sparsity.

Two sizes: n=20, m=5, I=0.7^i and the rescaled n=80, m=20, I=0.9^i. Each claim is a function of the
trained weights so a test can feed it weights that lack the property.
"""

from __future__ import annotations

import torch
from pydantic import Field, model_validator

from ..base.config import FrozenConfig
from ..plots.toy import wtw_and_norms
from ..toy import metrics
from ..toy.config import ToyConfig
from ..toy.train import train
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext

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


def claim_superposition_when_sparse(W: torch.Tensor, m: int, tag: str = "") -> Claim:
    """At the highest sparsity (last instance) the ReLU model represents more than m features."""
    n_rep = metrics.represented(W).sum(1)
    return Claim(
        id=f"relu-superposition-when-sparse{tag}",
        statement=f"At the highest sparsity the ReLU-output model represents more than m={m} "
        "features (superposition).",
        measured=int(n_rep[-1]),
        expected=f"> {m}",
        passed=bool(n_rep[-1] > m),
    )


def claim_more_features_when_sparser(W: torch.Tensor, tag: str = "") -> Claim:
    """Represented features grow with sparsity: never fewer (−1 slack) than at a denser setting,
    and more at the sparsest than at the densest."""
    n_rep = metrics.represented(W).sum(1)
    running_max = n_rep.cummax(0).values
    ok = bool((n_rep >= running_max - 1).all() and n_rep[-1] > n_rep[0])
    return Claim(
        id=f"relu-more-features-when-sparser{tag}",
        statement="The ReLU-output model represents more features as sparsity grows.",
        measured=n_rep.tolist(),
        expected="non-decreasing along sparsity (slack 1), last > first",
        passed=ok,
    )


def claim_least_important_superposed_first(W: torch.Tensor, tag: str = "") -> Claim:
    """Where a ReLU model has both dedicated and superposed features, the superposed ones are the
    less important: mean index of superposed > mean index of dedicated features, at every such
    sparsity (features are ordered by decreasing importance)."""
    rep = metrics.represented(W)
    sup = metrics.superposed(W)
    ded = rep & ~sup
    idx = torch.arange(W.shape[-1], dtype=torch.float32)
    rows = []
    for k in range(W.shape[0]):
        if sup[k].any() and ded[k].any():
            rows.append((k, float(idx[ded[k]].mean()), float(idx[sup[k]].mean())))
    ok = bool(rows) and all(s > d for _, d, s in rows)
    return Claim(
        id=f"relu-least-important-superposed-first{tag}",
        statement="Where some features are in superposition and some are dedicated, the superposed "
        "ones are the less important (mean feature index of superposed > of dedicated).",
        measured=[
            {"instance": k, "mean index dedicated": d, "mean index superposed": s}
            for k, d, s in rows
        ],
        expected="at every mixed sparsity (at least one): superposed mean index > dedicated",
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
        weights = {}
        for kind in ("linear", "relu_output"):
            tc = toy_config(cfg, kind, str(ctx.device), large)
            res = train(tc, ctx.progress, f"tms-basic{tag} {kind}")
            W = res.model.W.detach().cpu()
            weights[kind] = W
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
        claims += [
            claim_linear_top_m(weights["linear"], m, tag),
            claim_superposition_when_sparse(weights["relu_output"], m, tag),
            claim_more_features_when_sparser(weights["relu_output"], tag),
            claim_least_important_superposed_first(weights["relu_output"], tag),
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
        quick_seconds=16,
        full_seconds=700,
        paper="TMS §2, figure 'demonstrating superposition' (and its n=80 rescaled version)",
    )
)
