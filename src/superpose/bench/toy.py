"""The `toy-train` benchmark: our trainer against the naive reference loop on the same work.

Work: the uniform-superposition geometry runs of the paper (ReLU-output model, importance 1,
AdamW lr 1e-3, batch 1024), one instance per density, densities log-uniform from 1 down to 1e-3.
Two measurements, both in one process on the same machine:

- `steady_rates`: steps/s of each loop, timed in interleaved blocks of steps after a warm-up, so a
  load that changes during the run (shared machines) hits both alike;
- `compare`: whole runs of `train` and of the reference (the reference's steps split around ours)
  and how far apart their final per-instance losses are, against the gap between two seeds of
  the reference (the noise).
"""

from __future__ import annotations

import time

import torch

from ..device import make_generator
from ..features import FeatureDistribution
from ..toy.compiled import compiled_grads
from ..toy.config import ToyConfig
from ..toy.models import ToyModel
from ..toy.train import importance_tensor, make_optimizer, train, train_step
from . import BenchRow, register
from .reference import ReferenceLoop

# (features, hidden, instances) of the paper's geometry runs
SIZES: tuple[tuple[int, int, int], ...] = ((200, 20, 20), (400, 30, 50))


def geometry_sparsity(n_instances: int, min_density: float = 1e-3) -> list[float]:
    """Sparsity per instance with density log-uniform from 1 down to `min_density`."""
    density = torch.logspace(0.0, torch.log10(torch.tensor(min_density)).item(), n_instances)
    return (1.0 - density).clamp(min=0.0).tolist()


def geometry_config(
    n_features: int,
    n_hidden: int,
    n_instances: int,
    steps: int,
    batch: int = 1024,
    seed: int = 0,
    compile: str = "auto",
) -> ToyConfig:
    """Our trainer's config for the geometry work (paper settings, `steps` steps)."""
    return ToyConfig(
        model="relu_output",
        n_features=n_features,
        n_hidden=n_hidden,
        features={"sparsity": geometry_sparsity(n_instances)},
        train={"steps": steps, "batch_size": batch, "eval_batch": 8192, "compile": compile},
        seed=seed,
        device="cpu",
    )


def _reference(n_features: int, n_hidden: int, n_instances: int, batch: int, seed: int = 0):
    sparsity = torch.tensor(geometry_sparsity(n_instances))
    return ReferenceLoop(
        n_features, n_hidden, n_instances, sparsity, torch.ones(n_features), batch, seed=seed
    )


def steady_rates(
    n_features: int,
    n_hidden: int,
    n_instances: int,
    rounds: int = 4,
    block: int = 3,
    batch: int = 1024,
    compile: bool = False,
) -> dict:
    """Steps/s of the reference and of our training step (eager, and compiled if asked), timed
    in `rounds` interleaved blocks of `block` steps after one warm-up step each (which for the
    compiled step includes the compilation, reported separately)."""
    cfg = geometry_config(n_features, n_hidden, n_instances, 1, batch)
    gen = make_generator(0, torch.device("cpu"))
    dist = FeatureDistribution(cfg.features, n_instances, n_features)
    imp = importance_tensor(cfg)
    steps = {"reference": _reference(n_features, n_hidden, n_instances, batch).run}
    variants = {"eager": None} | ({"compiled": compiled_grads(True)} if compile else {})
    for name, fn in variants.items():
        model = ToyModel("relu_output", n_instances, n_features, n_hidden, gen)
        opt = make_optimizer(model, cfg.train)

        def run(k, model=model, opt=opt, fn=fn):
            start = time.perf_counter()
            for _ in range(k):
                train_step(model, opt, dist, imp, cfg.train, gen, fn)
            return time.perf_counter() - start

        steps[name] = run
    warmup = {name: run(1) for name, run in steps.items()}
    seconds = dict.fromkeys(steps, 0.0)
    for _ in range(rounds):
        for name, run in steps.items():
            seconds[name] += run(block)
    rate = {name: rounds * block / s for name, s in seconds.items()}
    out = {
        "task": f"{n_features}→{n_hidden}×{n_instances}",
        "steps_timed": rounds * block,
        "batch": batch,
        "steps_per_s": rate,
        "ratio": {k: v / rate["reference"] for k, v in rate.items() if k != "reference"},
        "seconds": seconds,
    }
    if compile:
        out["compile_warmup_s"] = warmup["compiled"]
    return out


def rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over instances of |a − b| / mean(a, b): how far apart two per-instance losses are."""
    return float(((a - b).abs() / ((a + b) / 2).clamp_min(1e-12)).mean())


def compare(
    n_features: int,
    n_hidden: int,
    n_instances: int,
    steps: int,
    batch: int = 1024,
    reference_seeds: int = 1,
    compile: str = "auto",
) -> dict:
    """Whole runs: `train` and the reference (seeds 0 .. reference_seeds−1) for `steps` steps.
    Seed 0 of the reference runs half its steps before ours and half after (so a changing load
    hits both). Returns steps/s, the ratio, final losses and relative differences (ours vs
    reference seed 0; reference seed 0 vs 1, the noise yardstick)."""
    ref = _reference(n_features, n_hidden, n_instances, batch)
    ref_s = ref.run(steps // 2)
    cfg = geometry_config(n_features, n_hidden, n_instances, steps, batch, compile=compile)
    res = train(cfg, progress=False)
    ref_s += ref.run(steps - steps // 2)
    ref_losses = [ref.final_loss()]
    for seed in range(1, reference_seeds):
        other = _reference(n_features, n_hidden, n_instances, batch, seed)
        other.run(steps)
        ref_losses.append(other.final_loss())
    out = {
        "task": f"{n_features}→{n_hidden}×{n_instances}",
        "steps": steps,
        "batch": batch,
        "compile": compile,
        "ours_s": res.loop_seconds,
        "reference_s": ref_s,
        "ours_steps_per_s": steps / res.loop_seconds,
        "reference_steps_per_s": steps / ref_s,
        "ratio": ref_s / res.loop_seconds,
        "ours_loss": res.final_loss.tolist(),
        "reference_loss": [r.tolist() for r in ref_losses],
        "loss_rel_diff": rel_diff(res.final_loss, ref_losses[0]),
        "ours_mean_loss": float(res.final_loss.mean()),
        "reference_mean_loss": float(ref_losses[0].mean()),
    }
    if reference_seeds > 1:
        out["reference_seed_rel_diff"] = rel_diff(ref_losses[0], ref_losses[1])
    return out


@register("toy-train", "toy-model training steps/s: superpose trainer vs the notebook loop")
def toy_train(quick: bool) -> list[BenchRow]:
    """Interleaved steady-state steps/s at the paper's geometry sizes (quick: eager only)."""
    rows = []
    plan = ((4, 4), (2, 2)) if quick else ((6, 5), (3, 3))  # (rounds, block) per size
    for size, (rounds, block) in zip(SIZES, plan, strict=True):
        r = steady_rates(*size, rounds=rounds, block=block, compile=not quick)
        rate, sec = r["steps_per_s"], r["seconds"]
        for name in r["ratio"]:
            note = f"{rate[name]:.2f} vs {rate['reference']:.2f} steps/s"
            if name == "compiled":
                note += f"; compile warm-up {r['compile_warmup_s']:.0f} s not included"
            rows.append(
                BenchRow(
                    "toy-train",
                    f"{r['task']} {name} ({r['steps_timed']} steps)",
                    sec[name],
                    sec["reference"],
                    note=note,
                )
            )
    return rows
