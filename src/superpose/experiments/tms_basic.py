"""TMS §2 "Demonstrating superposition": linear vs ReLU-output models across sparsity (n=20, m=5)."""

from __future__ import annotations

from pydantic import Field

from ..config import FrozenConfig
from ..plots.toy import wtw_and_norms
from ..toy import metrics
from ..toy.config import ToyConfig
from ..toy.train import train
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext


class TmsBasicConfig(FrozenConfig):
    n_features: int = Field(20, ge=2, le=10_000, description="features n")
    n_hidden: int = Field(5, ge=1, le=10_000, description="hidden dimensions m")
    importance_decay: float = Field(0.7, gt=0, le=1, description="I_i = decay**i")
    sparsities: list[float] = Field(
        [0.0, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999],
        min_length=2,
        description="one instance per sparsity S in [0, 1)",
    )
    steps: int = Field(10_000, ge=1, description="training steps")
    batch_size: int = Field(1024, ge=1, description="batch size")
    restarts: int = Field(1, ge=1, le=100, description="best-of-N restarts per sparsity")
    seed: int = Field(0, ge=0, description="random seed")


def toy_config(cfg: TmsBasicConfig, model: str, device: str) -> ToyConfig:
    return ToyConfig(
        model=model,
        n_features=cfg.n_features,
        n_hidden=cfg.n_hidden,
        features={"sparsity": cfg.sparsities},
        importance_decay=cfg.importance_decay,
        train={"steps": cfg.steps, "batch_size": cfg.batch_size, "restarts": cfg.restarts},
        seed=cfg.seed,
        device=device,
    )


def run(cfg: TmsBasicConfig, ctx: RunContext) -> ExperimentResult:
    m = cfg.n_hidden
    labels = [f"S={s:g}" for s in cfg.sparsities]
    figures, reps, losses = [], {}, {}
    for kind in ("linear", "relu_output"):
        res = train(toy_config(cfg, kind, str(ctx.device)), ctx.progress, f"tms-basic {kind}")
        W = res.model.W.detach().cpu()
        reps[kind] = metrics.represented(W)  # [instances, features]
        losses[kind] = res.final_loss.cpu()
        figures.append(
            wtw_and_norms(
                W,
                labels,
                ctx.figure_path(f"wtw_{kind}"),
                f"{kind} model, n={cfg.n_features}, m={m}, I_i={cfg.importance_decay}^i",
            )
        )
    lin, relu = reps["linear"], reps["relu_output"]
    top_m = lin[:, :m].all(1) & ~lin[:, m:].any(1)
    n_relu = relu.sum(1)
    claims = [
        Claim(
            id="linear-top-m",
            statement=f"The linear model represents exactly the {m} most important features "
            "(‖W_i‖ > 0.5) and no others, at every sparsity.",
            measured={
                "represented per sparsity": lin.sum(1).tolist(),
                "exactly top-m": top_m.tolist(),
            },
            expected=f"exactly features 0..{m - 1} at all {len(cfg.sparsities)} sparsities",
            passed=bool(top_m.all()),
        ),
        Claim(
            id="relu-superposition-when-sparse",
            statement=f"At the highest sparsity the ReLU-output model represents more than m={m} "
            "features (superposition).",
            measured=int(n_relu[-1]),
            expected=f"> {m}",
            passed=bool(n_relu[-1] > m),
        ),
    ]
    return ExperimentResult(
        claims=claims,
        figures=figures,
        data={
            "sparsities": cfg.sparsities,
            "represented_relu": n_relu,
            "loss_linear": losses["linear"],
            "loss_relu": losses["relu_output"],
        },
    )


register(
    Experiment(
        name="tms-basic",
        title="Linear vs ReLU-output models across sparsity (n=20, m=5)",
        description="The linear model learns the top-m principal features; the ReLU-output model "
        "packs more features into superposition as sparsity grows.",
        config_cls=TmsBasicConfig,
        quick=TmsBasicConfig(steps=5000),
        full=TmsBasicConfig(steps=10_000, restarts=3),
        runner=run,
        quick_seconds=15,
        full_seconds=60,
        paper="TMS §2, figure 'demonstrating superposition'",
    )
)
