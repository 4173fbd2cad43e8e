"""Experiments: a named config (quick and full), a runner, and the claims it checks from its run."""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from ..base.config import FrozenConfig, dump_yaml
from ..base.device import make_generator, resolve_device
from ..base.files import atomic_write
from ..base.serial import to_jsonable
from ..toy.config import ToyConfig
from ..toy.models import ToyModel
from ..toy.train import TrainResult, evaluate_loss, train


@dataclass(frozen=True)
class Null:
    """A claim's check applied to a null of its measurement (untrained weights, a random matrix of
    the same norms, a linear model where ReLU is needed...): a sound claim does not hold there."""

    kind: str  # which null, in words: "untrained init weights of this run"
    measured: Any  # what the claim's own check measured on the null
    passed: bool  # whether the claim's check held on the null (it should not)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "measured": to_jsonable(self.measured), "passed": self.passed}


@dataclass(frozen=True)
class Claim:
    """One checkable statement of a paper, with what this run measured and whether it holds; `null`
    is the same check on a null (set by `with_null`), None while the claim has none."""

    id: str
    statement: str
    measured: Any
    expected: str
    passed: bool
    null: Null | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "measured": to_jsonable(self.measured),
            "passed": bool(self.passed),
            "null": None if self.null is None else self.null.to_dict(),
        }

    def __repr__(self) -> str:
        from ..base.display import fmt

        verdict = "holds" if self.passed else "does NOT hold"
        null = ""
        if self.null is not None:
            on_null = "holds" if self.null.passed else "fails"
            null = f"; on null ({self.null.kind}) {on_null}: {fmt(self.null.measured)}"
        return (
            f"Claim({self.id}: {verdict}; measured {fmt(self.measured)}, expected {self.expected}"
            f"{null})"
        )

    def _repr_html_(self) -> str:
        from ..base.display import claims_html

        return claims_html([self])


def with_null(
    check: Callable[..., Claim], run: Any, null: Any, kind: str, *args: Any, **kwargs: Any
) -> Claim:
    """`check(run, *args, **kwargs)` with its null record `check(null, *args, **kwargs)`: ONE check
    function measures the run and the null, so a claim and its null cannot drift apart. `run` and
    `null` are the same kind of thing (e.g. weights [instances, hidden, features], trained and
    untrained); `kind` says in words which null it is."""
    claim, on_null = check(run, *args, **kwargs), check(null, *args, **kwargs)
    if on_null.id != claim.id:
        raise ValueError(f"null check returned claim {on_null.id!r}, not {claim.id!r}")
    return replace(
        claim, null=Null(kind=kind, measured=on_null.measured, passed=bool(on_null.passed))
    )


def cpu_seconds() -> float:
    """CPU seconds of this process (all its threads) and of its child processes that have ended
    (an experiment's worker processes, once its pool is shut down)."""
    try:
        import resource
    except ImportError:  # not on a Unix
        return time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


@dataclass
class RunContext:
    """Where and how an experiment runs."""

    out_dir: Path
    quick: bool = True
    device: torch.device = field(default_factory=lambda: resolve_device("auto"))
    progress: bool = True
    # processes the experiment may run its independent parts in (each on one PyTorch thread, so
    # the numbers are those of one after another): `superpose reproduce` gives an experiment
    # that runs alone --jobs (default: the cores), one of several in parallel workers 1
    workers: int = 1

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
    # CPU seconds of a run on one core, measured: the quick form in the quick report on af2661f
    # (session 36, an AVX2 host, two workers), the full form in the README's "Full report" table.
    # `superpose experiments` shows them and `reproduce` starts the longest first.
    quick_seconds: float
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


def untrained(toy: ToyConfig) -> ToyModel:
    """The weights `train(toy)` starts from (each instance's first restart), on the CPU: the
    "untrained" null, free because training draws the same init."""
    r, n = toy.train.restarts, toy.instances
    full = ToyModel(
        toy.model,
        n * r,
        toy.n_features,
        toy.n_hidden,
        make_generator(toy.seed, torch.device("cpu")),
    )
    model = ToyModel(toy.model, n, toy.n_features, toy.n_hidden)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(full.get_parameter(name)[::r])
    return model


def loss_on_run(model: ToyModel, res: TrainResult) -> torch.Tensor:
    """`model`'s loss on the run's own features and importance (a fresh evaluation batch, seeded):
    [instances]. What a null model (e.g. `untrained`) scores where the trained one scored
    `res.final_loss`."""
    device = res.importance.device
    gen = make_generator(res.config.seed + 4, device)
    batch = res.config.train.eval_batch
    return evaluate_loss(model.to(device), res.distribution, res.importance, batch, gen).cpu()


def no_superposition_loss(res: TrainResult, m: int) -> torch.Tensor:
    """The loss of the best model without superposition on the run's features: m features kept
    exactly, every other one replaced by its mean (independent features: Σ_i I_i Var(x_i) minus
    the m largest terms), estimated on a fresh evaluation batch: [instances]."""
    device = res.importance.device
    gen = make_generator(res.config.seed + 5, device)
    x = res.distribution.sample(res.config.train.eval_batch, gen)  # [instances, batch, features]
    terms = (res.importance * x.var(1)).cpu()  # [instances, features]
    return terms.sum(-1) - terms.topk(min(m, terms.shape[-1]), dim=-1).values.sum(-1)


def same_norms_random(W: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """A random matrix with W's column norms: each feature keeps its norm, its direction is
    isotropic. W: [..., hidden, features] → same shape (the "random weights of the same norms"
    null: what a claim about geometry must not find in norms alone)."""
    gen = torch.Generator().manual_seed(seed)
    R = torch.randn(W.shape, generator=gen, dtype=W.dtype)
    R = R / R.norm(dim=-2, keepdim=True).clamp_min(1e-12)
    return R * W.norm(dim=-2, keepdim=True)


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
    start, cpu = time.perf_counter(), cpu_seconds()
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
            claims=[],
            figures=[],
        )
    else:
        claims = [c.to_dict() for c in result.claims]
        atomic_write(ctx.out_dir / "claims.json", json.dumps(claims, indent=2))
        record.update(
            status="ok",
            claims=claims,
            figures=[str(Path(f).relative_to(ctx.out_dir)) for f in result.figures],
            data=to_jsonable(result.data),
            notes=result.notes,
        )
    # wall time, and the CPU time of this process (all its threads) and of the processes it ran
    # parts in: on a shared machine the wall time says little, the CPU time what the run costs
    record.update(seconds=time.perf_counter() - start, cpu_seconds=cpu_seconds() - cpu)
    atomic_write(ctx.out_dir / "result.json", json.dumps(record, indent=2))
    return record


def run_named(name: str, out_dir: str, quick: bool, device: str) -> dict[str, Any]:
    """`run_experiment` in a worker process (`superpose reproduce --jobs`): the experiment by its
    registered name, its quick or full config, no progress bars (workers share one terminal)."""
    from . import get_experiment

    exp = get_experiment(name)
    ctx = RunContext(Path(out_dir), quick=quick, device=torch.device(device), progress=False)
    return run_experiment(exp, ctx, exp.config(quick))
