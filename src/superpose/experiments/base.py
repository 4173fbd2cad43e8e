"""Experiments: a named config (quick and full), a runner, and the claims it checks from its run."""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..base.config import FrozenConfig, dump_yaml
from ..base.device import resolve_device
from ..base.files import atomic_write
from ..base.serial import to_jsonable
from ..toy.config import ToyConfig
from ..toy.train import TrainResult, train


@dataclass(frozen=True)
class Claim:
    """One checkable statement of a paper, with what this run measured and whether it holds."""

    id: str
    statement: str
    measured: Any
    expected: str
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "measured": to_jsonable(self.measured), "passed": bool(self.passed)}

    def __repr__(self) -> str:
        from ..base.display import fmt

        verdict = "holds" if self.passed else "does NOT hold"
        return (
            f"Claim({self.id}: {verdict}; measured {fmt(self.measured)}, expected {self.expected})"
        )

    def _repr_html_(self) -> str:
        from ..base.display import claims_html

        return claims_html([self])


@dataclass
class RunContext:
    """Where and how an experiment runs."""

    out_dir: Path
    quick: bool = True
    device: torch.device = field(default_factory=lambda: resolve_device("auto"))
    progress: bool = True

    def figure_path(self, name: str) -> Path:
        return self.out_dir / f"{name}.png"


@dataclass
class ExperimentResult:
    """What a run produced: claims, figures (PNG paths, in display order) and numbers to keep."""

    claims: list[Claim]
    figures: list[Path] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        held = sum(bool(c.passed) for c in self.claims)
        lines = [f"ExperimentResult: {held} of {len(self.claims)} claims hold"]
        lines += [f"  {c!r}" for c in self.claims]
        lines += [f"  figure {f}" for f in self.figures]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from ..base.display import claims_html

        figures = "".join(f"<br><code>{f}</code>" for f in self.figures)
        return claims_html(self.claims) + (f"<p>figures:{figures}</p>" if figures else "")


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: name → configs + runner + expected runtime."""

    name: str
    title: str
    description: str
    config_cls: type[FrozenConfig]
    quick: FrozenConfig
    full: FrozenConfig
    runner: Callable[[Any, RunContext], ExperimentResult]
    quick_seconds: float  # expected runtime of the quick form on 2 CPU cores
    full_seconds: float
    paper: str = ""  # where in the source the result is

    def config(self, quick: bool) -> FrozenConfig:
        return self.quick if quick else self.full


def across_sparsity(
    model: str,
    n_features: int,
    n_hidden: int,
    importance_decay: float,
    sparsities: list[float],
    values: str = "uniform",
    restarts: int = 1,
) -> ToyConfig:
    """A toy config with one instance per sparsity (densest first), 10,000 steps at lr 1e-3 (the
    paper's): the base of the sparsity-sweep experiments."""
    return ToyConfig(
        model=model,
        n_features=n_features,
        n_hidden=n_hidden,
        features={"sparsity": sparsities, "values": values},
        importance_decay=importance_decay,
        train={"steps": 10_000, "lr": 1e-3, "restarts": restarts},
    )


def train_on(toy: ToyConfig, ctx: RunContext) -> TrainResult:
    """Train `toy` on the run's device, with the run's progress setting."""
    return train(toy.replace(device=str(ctx.device)), ctx.progress, ctx.out_dir.name)


def run_experiment(
    exp: Experiment, ctx: RunContext, config: FrozenConfig | None = None
) -> dict[str, Any]:
    """Run one experiment into ctx.out_dir: config.yaml, claims.json, result.json and figures.

    Failures are recorded (error text in result.json), never raised: one broken experiment must not
    lose the others' results.
    """
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    config = config if config is not None else exp.config(ctx.quick)
    dump_yaml(config, ctx.out_dir / "config.yaml")
    start = time.perf_counter()
    record: dict[str, Any] = {
        "name": exp.name,
        "title": exp.title,
        "quick": ctx.quick,
        "config_hash": config.config_hash(),
        "device": str(ctx.device),
    }
    try:
        result = exp.runner(config, ctx)
    except Exception as err:  # recorded, shown in the report
        record.update(
            status="error",
            error=f"{type(err).__name__}: {err}",
            traceback=traceback.format_exc(),
            seconds=time.perf_counter() - start,
            claims=[],
            figures=[],
        )
    else:
        claims = [c.to_dict() for c in result.claims]
        atomic_write(ctx.out_dir / "claims.json", json.dumps(claims, indent=2))
        record.update(
            status="ok",
            seconds=time.perf_counter() - start,
            claims=claims,
            figures=[str(Path(f).relative_to(ctx.out_dir)) for f in result.figures],
            data=to_jsonable(result.data),
            notes=result.notes,
        )
    atomic_write(ctx.out_dir / "result.json", json.dumps(record, indent=2))
    return record
