"""Train a batch of toy models: one fused loop over all instances and best-of-N restarts."""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ..base.device import make_generator, resolve_device
from ..base.errors import SuperposeError
from ..features import FeatureDistribution, per_instance_feature
from .compiled import compiled_grads, use_compile
from .config import ToyConfig, TrainConfig
from .models import ToyModel
from .native import NativeStep, native_step
from .threads import step_threads, torch_threads


@dataclass
class TrainResult:
    """A trained batch of models (best restart per instance) and what happened on the way."""

    config: ToyConfig
    model: ToyModel
    importance: torch.Tensor  # [instances, features]
    distribution: FeatureDistribution
    final_loss: torch.Tensor  # [instances] reconstruction loss on a fresh evaluation batch
    restart_losses: torch.Tensor  # [instances, restarts] objective of every restart
    history_steps: torch.Tensor  # [records]
    history_loss: torch.Tensor  # [records, instances] training loss of the chosen restart
    snapshot_steps: list[int] = field(default_factory=list)
    snapshots: list[dict[str, torch.Tensor]] = field(default_factory=list)  # chosen restarts only
    seconds: float = 0.0  # training loop, evaluation and selection
    loop_seconds: float = 0.0  # the training loop alone (what benchmarks compare)

    def _rows(self) -> list[tuple[Any, ...]]:
        from .metrics import represented

        W = self.model.W.detach().cpu()
        sparsity = 1 - self.distribution.density.detach().cpu()  # [instances, features]
        rep = represented(W).sum(-1)
        return [
            (k, float(sparsity[k].mean()), float(self.final_loss[k]), int(rep[k]))
            for k in range(W.shape[0])
        ]

    def _title(self) -> str:
        c = self.config
        return (
            f"TrainResult: {c.instances} {c.model} model(s), n={c.n_features} features in "
            f"m={c.n_hidden} dimensions, {c.train.steps} steps, {self.seconds:.1f} s"
        )

    def __repr__(self) -> str:
        rows = "\n".join(
            f"  instance {k}: sparsity {s:.4g}, loss {loss:.4g}, {n} features represented"
            for k, s, loss, n in self._rows()
        )
        return f"{self._title()}\n{rows}"

    def _repr_html_(self) -> str:
        from ..base.display import html_table

        return html_table(
            ("instance", "mean sparsity", "final loss", "features represented (‖W_i‖ > 0.5)"),
            self._rows(),
            self._title(),
        )


def importance_tensor(config: ToyConfig, device: torch.device | str = "cpu") -> torch.Tensor:
    """Importance I as [instances, features]."""
    n, inst = config.n_features, config.instances
    if config.importance_decay is not None:
        imp = config.importance_decay ** torch.arange(n, dtype=torch.float32)
        return imp.expand(inst, n).clone().to(device)
    return per_instance_feature(config.importance, inst, n, "importance", "features").to(device)


def lr_factor(cfg: TrainConfig, step: int) -> float:
    """Multiplier of the peak learning rate at `step` (0-based)."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    if cfg.schedule == "constant":
        return 1.0
    frac = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    if cfg.schedule == "linear":
        return 1.0 - frac
    return 0.5 * (1.0 + math.cos(math.pi * frac))


def make_optimizer(model: ToyModel, cfg: TrainConfig) -> torch.optim.Optimizer:
    params = list(model.parameters())
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    kwargs = {"lr": cfg.lr, "weight_decay": cfg.weight_decay if cfg.optimizer == "adamw" else 0.0}
    try:
        return cls(params, fused=True, **kwargs)
    except (RuntimeError, TypeError):
        return cls(params, foreach=True, **kwargs)


def optimizer_step(opt: torch.optim.Optimizer) -> None:
    """`opt.step()`. For a fused Adam or AdamW on the CPU whose state exists, the fused kernel that
    `step` ends in is called directly — the same arithmetic, so the same bytes (tested) — without
    its Python bookkeeping: 68 → 22 µs a step at 5→2×20 (whose native step takes ~350 µs), 113 →
    67 µs at 200→20×20."""
    direct = _direct_fused(opt)
    if direct is None:
        opt.step()
        return
    op, states = direct
    g = opt.param_groups[0]
    params = g["params"]
    steps = [s["step"] for s in states]
    torch._foreach_add_(steps, 1)
    op(
        [p.detach() for p in params],
        [p.grad for p in params],
        [s["exp_avg"] for s in states],
        [s["exp_avg_sq"] for s in states],
        [],
        steps,
        amsgrad=False,
        lr=g["lr"],
        beta1=g["betas"][0],
        beta2=g["betas"][1],
        weight_decay=float(g["weight_decay"]),
        eps=g["eps"],
        maximize=False,
    )


_OPTIM = sys.modules[torch.optim.Optimizer.__module__]  # where torch keeps its global step hooks


def _direct_fused(opt: torch.optim.Optimizer):
    """(torch's fused Adam(W) op, the parameters' states) where calling the op is all
    `opt.step()` would do, else None: one group of float32 CPU parameters with gradients and
    state, float hyperparameters, no amsgrad, maximize, capturable, differentiable or hooks."""
    if type(opt) not in (torch.optim.Adam, torch.optim.AdamW) or len(opt.param_groups) != 1:
        return None
    g = opt.param_groups[0]
    flags = ("amsgrad", "maximize", "capturable", "differentiable")
    if g.get("fused") is not True or any(g.get(k) for k in flags):
        return None
    hooks = (
        getattr(opt, "_optimizer_step_pre_hooks", None),
        getattr(opt, "_optimizer_step_post_hooks", None),
        getattr(_OPTIM, "_global_optimizer_pre_hooks", None),
        getattr(_OPTIM, "_global_optimizer_post_hooks", None),
    )
    if any(h is None or len(h) for h in hooks):  # hooks to run, or kept where we do not look
        return None
    if not all(isinstance(v, float) for v in (g["lr"], *g["betas"], g["eps"])):
        return None
    states = [opt.state.get(p) for p in g["params"]]
    for p, state in zip(g["params"], states, strict=True):
        if not state or p.grad is None or p.device.type != "cpu" or p.dtype != torch.float32:
            return None
    decoupled = type(opt) is torch.optim.AdamW or g.get("decoupled_weight_decay")
    op = getattr(torch, "_fused_adamw_" if decoupled else "_fused_adam_", None)
    return None if op is None else (op, states)


def train_step(
    model: ToyModel,
    opt: torch.optim.Optimizer,
    dist: FeatureDistribution,
    importance: torch.Tensor,
    cfg: TrainConfig,
    generator: torch.Generator,
    grads_fn=None,
    need_loss: bool = False,
    native: NativeStep | None = None,
) -> torch.Tensor | None:
    """One optimiser step on a fresh batch (the loop body of `train`, also timed by the
    benchmarks); returns the per-instance loss [instances] when `need_loss` (always, for the
    native step). The gradients come from `native` when given, else from the PyTorch step
    (`grads_fn`: compiled, or None for eager)."""
    if native is not None:
        loss = native(generator)
        optimizer_step(opt)
        return loss
    x = dist.sample(cfg.batch_size, generator, feature_major=True, reuse=True)
    if grads_fn is None:
        loss = model.loss_and_grads(x, importance, cfg.l1_hidden, need_loss=need_loss)
    else:
        loss = _compiled_step(grads_fn, model, x, importance, cfg.l1_hidden, need_loss)
    optimizer_step(opt)
    return loss


@torch.no_grad()
def _compiled_step(grads_fn, model: ToyModel, x, importance, l1_hidden: float, need_loss: bool):
    """Gradients from the compiled functional step, written into the model's `.grad`."""
    w_out = getattr(model, "W_out", None)
    loss, model.W.grad, g_out, model.b.grad = grads_fn(
        model.kind, model.W, w_out, model.b, x, importance, l1_hidden, need_loss
    )
    if w_out is not None:
        w_out.grad = g_out
    return loss


@torch.no_grad()
def evaluate_loss(
    model: ToyModel,
    distribution: FeatureDistribution,
    importance: torch.Tensor,
    batch: int,
    generator: torch.Generator,
    l1_hidden: float = 0.0,
) -> torch.Tensor:
    """Mean per-instance loss on `batch` fresh samples, drawn in memory-bounded chunks: [instances]."""
    per_sample = distribution.n_instances * distribution.n_features
    chunk = max(1, min(batch, (1 << 24) // max(1, per_sample)))
    total = torch.zeros(distribution.n_instances, device=importance.device)
    done = 0
    while done < batch:
        size = min(chunk, batch - done)
        x = distribution.sample(size, generator, feature_major=True)
        total += model.loss(x, importance, l1_hidden) * size
        done += size
    return total / batch


def memory_needed(config: ToyConfig) -> int:
    """Rough bytes of the big tensors of `train(config)`: weights with gradients and Adam state,
    one batch's activations and gradients, the loss history and snapshots (float32)."""
    cfg = config.train
    total = config.instances * cfg.restarts
    n, m = config.n_features, config.n_hidden
    params = total * (n * m + n)
    batch = total * cfg.batch_size * (6 * n + 3 * m)
    history = total * math.ceil(cfg.steps / max(10, math.ceil(cfg.steps * total / 4_000_000)))
    snaps = 0 if cfg.snapshot_every is None else (cfg.steps // cfg.snapshot_every + 1) * params
    return 4 * (4 * params + batch + history + snaps)


def train(config: ToyConfig, progress: bool = True, description: str = "training") -> TrainResult:
    """Train `config.instances` models (× restarts) and keep the best restart of each."""
    import time

    from ..base.memory import check_memory

    if not isinstance(config, ToyConfig):
        raise SuperposeError(
            f"train: config must be a ToyConfig (sp.ToyConfig(...), or sp.load_yaml(sp.ToyConfig, "
            f"path)), got {type(config).__name__}"
        )

    cfg = config.train
    device = resolve_device(config.device)
    check_memory(
        memory_needed(config),
        f"training {config.instances * cfg.restarts} toy model(s)",
        "lower instances, restarts, batch_size, n_features or n_hidden",
        str(device),
    )
    settings, restarts = config.instances, cfg.restarts
    total = settings * restarts
    init_gen = make_generator(config.seed, device)
    data_gen = make_generator(config.seed + 1, device)
    eval_gen = make_generator(config.seed + 2, device)

    base_dist = FeatureDistribution(config.features, settings, config.n_features, device)
    dist = base_dist.repeat(restarts)
    importance = importance_tensor(config, device)
    imp_all = importance.repeat_interleave(restarts, dim=0)
    model = ToyModel(config.model, total, config.n_features, config.n_hidden, init_gen, device)
    opt = make_optimizer(model, cfg)

    record_every = max(10, math.ceil(cfg.steps * total / 4_000_000))
    n_records = math.ceil(cfg.steps / record_every)
    history = torch.zeros(n_records, total, device=device)
    snap_steps: list[int] = []
    snaps: list[dict[str, torch.Tensor]] = []
    constant_lr = cfg.schedule == "constant" and cfg.warmup_steps == 0
    native = native_step(cfg.kernel, model, dist, imp_all, cfg.l1_hidden, cfg.batch_size)
    grads_fn = None
    if native is None:
        grads_fn = compiled_grads(
            use_compile(cfg.compile, cfg.steps, total, cfg.batch_size, config.n_features)
        )

    start = time.perf_counter()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeRemainingColumn(),
        disable=not progress,
        transient=True,
        console=Console(stderr=True),  # a bar is not output: stdout stays the caller's
    )
    tick = max(1, cfg.steps // 100)
    threads = step_threads(
        native is not None, device, total, cfg.batch_size, config.n_features, config.n_hidden
    )
    with bar, torch_threads(threads):
        task = bar.add_task(description, total=cfg.steps)
        for step in range(cfg.steps):
            if not constant_lr:
                for group in opt.param_groups:
                    group["lr"] = cfg.lr * lr_factor(cfg, step)
            record = step % record_every == 0
            try:
                loss = train_step(
                    model, opt, dist, imp_all, cfg, data_gen, grads_fn, record, native
                )
            except Exception as err:  # compilation happens (and can fail) on first use
                if grads_fn is None or step:
                    raise
                warnings.warn(f"torch.compile failed ({err}); training eagerly", stacklevel=2)
                grads_fn = None
                loss = train_step(model, opt, dist, imp_all, cfg, data_gen, grads_fn, record)
            if record:
                history[step // record_every].copy_(loss)
            if cfg.snapshot_every and (step + 1) % cfg.snapshot_every == 0:
                snap_steps.append(step + 1)
                snaps.append({k: v.clone() for k, v in model.weights().items()})
            if (step + 1) % tick == 0:
                bar.update(task, completed=step + 1)
        loop_seconds = time.perf_counter() - start
        objective = evaluate_loss(model, dist, imp_all, cfg.eval_batch, eval_gen, cfg.l1_hidden)
        restart_losses = objective.view(settings, restarts)
        best = restart_losses.argmin(dim=1) + torch.arange(settings, device=device) * restarts
        chosen = model.select_instances(best)
        eval_gen = make_generator(config.seed + 3, device)
        final = evaluate_loss(chosen, base_dist, importance, cfg.eval_batch, eval_gen)
    return TrainResult(
        config=config,
        model=chosen,
        importance=importance,
        distribution=base_dist,
        final_loss=final,
        restart_losses=restart_losses,
        history_steps=torch.arange(n_records) * record_every,
        history_loss=history[:, best],
        snapshot_steps=snap_steps,
        snapshots=[{k: v[best] for k, v in s.items()} for s in snaps],
        seconds=time.perf_counter() - start,
        loop_seconds=loop_seconds,
    )
