"""The `toy-train` benchmark: our trainer against the naive reference loop on the same work.

Work: the uniform-superposition geometry runs of the paper (ReLU-output model, importance 1,
AdamW lr 1e-3, batch 1024), one instance per density, densities log-uniform from 1 down to 1e-3.
Three measurements, each in one process on the same machine:

- `whole_run`: our whole training run against the reference's steps timed between its chunks,
  each side by its median step (robust to a passing load), the reference on one thread and on
  PyTorch's default, whichever is faster;
- `steady_rates`: steps/s of each loop, timed in interleaved blocks of steps after a warm-up, so a
  load that changes during the run (shared machines) hits both alike (the reference, again, on
  its faster thread count);
- `compare`: whole runs of `train` and of the reference (the reference's steps split around ours)
  and how far apart their final per-instance losses are, against the gap between two seeds of
  the reference (the noise).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from ..base.device import make_generator
from ..base.errors import SuperposeError
from ..features import FeatureDistribution
from ..toy.compiled import compiled_grads
from ..toy.config import ToyConfig
from ..toy.models import ToyModel
from ..toy.native import native_step
from ..toy.threads import step_threads, torch_threads
from ..toy.train import evaluate_loss, importance_tensor, make_optimizer, train, train_step
from . import BenchRow, register
from .reference import ReferenceLoop

# (features, hidden, instances) of the paper's geometry runs
SIZES: tuple[tuple[int, int, int], ...] = ((200, 20, 20), (400, 30, 50))

# the other feature kinds, each benchmarked at the first size (same densities per instance: of
# each set for correlated / anticorrelated features; exactly-k ignores them)
FEATURE_KINDS: tuple[tuple[str, dict], ...] = (
    ("correlated pairs", {"structure": "correlated", "set_size": 2}),
    ("anticorrelated pairs", {"structure": "anticorrelated", "set_size": 2}),
    ("exactly 3 active", {"structure": "exactly_k", "k": 3}),
    ("signed values", {"values": "signed"}),
)


# a wide model (features, hidden, instances, density): the native step against the PyTorch step
WIDE = (1024, 256, 2, 0.01)


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
    features: dict | None = None,
) -> ToyConfig:
    """Our trainer's config for the geometry work (paper settings, `steps` steps); `features`
    sets other FeatureConfig fields (structure, set_size, k, values) than the densities."""
    return ToyConfig(
        model="relu_output",
        n_features=n_features,
        n_hidden=n_hidden,
        features={"sparsity": geometry_sparsity(n_instances), **(features or {})},
        train={"steps": steps, "batch_size": batch, "eval_batch": 8192, "compile": compile},
        seed=seed,
        device="cpu",
    )


def _reference(
    n_features: int,
    n_hidden: int,
    n_instances: int,
    batch: int,
    seed: int = 0,
    features: dict | None = None,
):
    sparsity = torch.tensor(geometry_sparsity(n_instances))
    ones = torch.ones(n_features)
    return ReferenceLoop(
        n_features, n_hidden, n_instances, sparsity, ones, batch, seed=seed, features=features
    )


class GeometryLoop:
    """Our trainer's loop on the geometry work, stepped by hand like `ReferenceLoop`: `run(k)`
    advances k steps of the step `train` uses for `kernel` (or of the PyTorch step with
    `grads_fn`, for the compiled variant) and returns the seconds."""

    def __init__(
        self,
        n_features: int,
        n_hidden: int,
        n_instances: int,
        batch: int = 1024,
        seed: int = 0,
        kernel: str = "auto",
        grads_fn=None,
        features: dict | None = None,
    ):
        self.cfg = geometry_config(n_features, n_hidden, n_instances, 1, batch, features=features)
        self.gen = make_generator(seed, torch.device("cpu"))
        self.dist = FeatureDistribution(self.cfg.features, n_instances, n_features)
        self.importance = importance_tensor(self.cfg)
        self.model = ToyModel("relu_output", n_instances, n_features, n_hidden, self.gen)
        self.opt = make_optimizer(self.model, self.cfg.train)
        self.native = native_step(kernel, self.model, self.dist, self.importance, 0.0, batch)
        self.grads_fn = grads_fn
        native = self.native is not None
        size = (n_instances, batch, n_features, n_hidden)
        self.threads = step_threads(native, torch.device("cpu"), *size)

    def run(self, steps: int) -> float:
        return sum(self.step_times(steps))

    def step_times(self, steps: int) -> list[float]:
        """The seconds of each of the next `steps` steps."""
        times = []
        with torch_threads(self.threads):  # as `train` runs it
            for _ in range(steps):
                start = time.perf_counter()
                train_step(
                    self.model, self.opt, self.dist, self.importance, self.cfg.train, self.gen,
                    self.grads_fn, native=self.native,
                )  # fmt: skip
                times.append(time.perf_counter() - start)
        return times

    def final_loss(self, eval_batch: int = 8192, seed: int = 2) -> torch.Tensor:
        """Per-instance loss on a fresh batch: [instances]."""
        gen = make_generator(seed, torch.device("cpu"))
        return evaluate_loss(self.model, self.dist, self.importance, eval_batch, gen)


def reference_threads() -> tuple[int, ...]:
    """The thread counts the reference is timed on: one, and PyTorch's default (what the notebook
    gets) when that is more. On a shared machine a neighbour makes every two-thread op wait for
    its time slice (the reference step ran 3× slower on two threads than on one beside one busy
    process), so the default alone would flatter us by what the load costs the reference."""
    default = torch.get_num_threads()
    return (1,) if default == 1 else (1, default)


def _on_threads(threads: int, run: Callable[[int], float]) -> Callable[[int], float]:
    """`run` with PyTorch's ops on `threads` threads."""

    def timed(steps: int) -> float:
        with torch_threads(threads):
            return run(steps)

    return timed


def interleaved(
    runs: dict[str, Callable[[int], float]], rounds: int, block: int
) -> tuple[dict[str, float], dict[str, float]]:
    """One warm-up step of each `run(steps) -> seconds`, then `rounds` interleaved blocks of
    `block` steps (so a changing load hits all alike): (warm-up seconds, timed seconds) by name."""
    warmup = {name: run(1) for name, run in runs.items()}
    seconds = dict.fromkeys(runs, 0.0)
    for _ in range(rounds):
        for name, run in runs.items():
            seconds[name] += run(block)
    return warmup, seconds


def steady_rates(
    n_features: int,
    n_hidden: int,
    n_instances: int,
    rounds: int = 4,
    block: int = 3,
    batch: int = 1024,
    compile: bool = False,
) -> dict:
    """Steps/s of the reference and of our training step (native, eager, and compiled if
    asked), timed in `rounds` interleaved blocks of `block` steps after one warm-up step each
    (which for the compiled step includes the compilation, reported separately); the reference
    on each of `reference_threads()`, its faster count used."""
    size = (n_features, n_hidden, n_instances, batch)
    ref = _reference(*size)
    counts = reference_threads()
    steps = {f"reference {t}": _on_threads(t, ref.run) for t in counts}
    native = GeometryLoop(*size)
    if native.native is not None:  # else no C compiler here: nothing to time
        steps["native"] = native.run
    steps["eager"] = GeometryLoop(*size, kernel="torch").run
    if compile:
        steps["compiled"] = GeometryLoop(*size, kernel="torch", grads_fn=compiled_grads(True)).run
    warmup, seconds = interleaved(steps, rounds, block)
    by_threads = {t: seconds.pop(f"reference {t}") for t in counts}
    threads = min(by_threads, key=by_threads.__getitem__)
    seconds = {"reference": by_threads[threads], **seconds}
    rate = {name: rounds * block / s for name, s in seconds.items()}
    out = {
        "task": f"{n_features}→{n_hidden}×{n_instances}",
        "steps_timed": rounds * block,
        "batch": batch,
        "reference_threads": threads,
        "reference_seconds_by_threads": by_threads,
        "steps_per_s": rate,
        "ratio": {k: v / rate["reference"] for k, v in rate.items() if k != "reference"},
        "seconds": seconds,
    }
    if compile:
        out["compile_warmup_s"] = warmup["compiled"]
    return out


def wide_rates(
    n_features: int,
    n_hidden: int,
    n_instances: int,
    density: float,
    rounds: int = 2,
    block: int = 2,
    batch: int = 1024,
) -> dict | None:
    """Steps/s of the native and of the PyTorch step on a wide model (every feature at
    `density`), one thread each (the kernels compared, not how many cores each uses), timed in
    interleaved blocks after a warm-up step; None where the native step cannot be built."""
    features = {"sparsity": [1.0 - density] * n_instances}
    size = (n_features, n_hidden, n_instances, batch)
    try:
        native = GeometryLoop(*size, kernel="native", features=features)
    except SuperposeError:  # no C compiler here
        return None
    native.native.threads = 1
    loops = {"native": native, "torch": GeometryLoop(*size, kernel="torch", features=features)}
    loops["torch"].threads = 1
    _, seconds = interleaved({name: loop.run for name, loop in loops.items()}, rounds, block)
    return {
        "task": f"{n_features}→{n_hidden}×{n_instances}",
        "steps_timed": rounds * block,
        "seconds": seconds,
        "ratio": seconds["torch"] / seconds["native"],
    }


def whole_run(
    n_features: int,
    n_hidden: int,
    n_instances: int,
    steps: int,
    chunks: int = 10,
    ref_block: int = 2,
    batch: int = 1024,
    kernel: str = "auto",
    features: dict | None = None,
) -> dict:
    """Our whole training run from initialisation (the step `train` uses for `kernel`), cut into
    `chunks` chunks, with `ref_block` reference steps timed after each on each of
    `reference_threads()` (their order alternating), so the reference is sampled across the
    same stretch of (shared-machine) time. Every step is timed alone, and both sides are
    estimated by the same statistic, the median step: ours as the sum over chunks of the chunk's
    steps × its median step (our step gets cheaper as sparse models settle, so whole runs, not
    first steps, are the measure; within a chunk it changes little), the reference as `steps` ×
    its median step on its faster thread count (its cost does not change as it trains: dense
    work throughout; at 200→20×20 on one thread the medians of each 100 of 1,000 steps were
    80–83 ms). A median ignores the steps a passing load slows, which made sums of 20
    reference steps differ 1.5× between two idle runs. `features`: as in `geometry_config`, for
    both loops."""
    size = (n_features, n_hidden, n_instances, batch)
    ours_loop = GeometryLoop(*size, kernel=kernel, features=features)
    ref = _reference(*size, features=features)
    counts = reference_threads()
    ref_times: dict[int, list[float]] = {t: [] for t in counts}
    for t in counts:  # warm-up
        with torch_threads(t):
            ref.run(1)
    ours_times = []
    bounds = [round(steps * (c + 1) / chunks) for c in range(chunks)]
    done = 0
    for c, end in enumerate(bounds):
        ours_times.append(ours_loop.step_times(end - done))
        for t in counts if c % 2 == 0 else counts[::-1]:
            with torch_threads(t):
                ref_times[t] += [ref.run(1) for _ in range(ref_block)]
        done = end
    ours_s = sum(len(ts) * statistics.median(ts) for ts in ours_times if ts)
    ref_step = {t: statistics.median(ts) for t, ts in ref_times.items()}
    threads = min(ref_step, key=ref_step.__getitem__)
    ours, reference = steps / ours_s, 1 / ref_step[threads]
    return {
        "task": f"{n_features}→{n_hidden}×{n_instances}",
        "steps": steps,
        "kernel": "native" if ours_loop.native is not None else "torch",
        "ours_steps_per_s": ours,
        "reference_steps_per_s": reference,
        "reference_threads": threads,
        "reference_s_per_step_by_threads": ref_step,
        "reference_steps_timed": chunks * ref_block,
        "ratio": ours / reference,
        "ours_s": ours_s,
        "ours_wall_s": sum(map(sum, ours_times)),
        "reference_s_per_step": ref_step[threads],
        "ours_step_times": ours_times,
        "reference_step_times": ref_times,
    }


def from_reference_init(
    n_features: int, n_hidden: int, n_instances: int, steps: int, batch: int = 1024, seed: int = 0
) -> torch.Tensor:
    """Our training (the step `train` uses) started from the reference loop's initial weights
    for `seed`: the final per-instance loss on a fresh 8192-sample batch [instances]. From the
    same start, ours and the reference should end within the reference's seed noise."""
    ref = _reference(n_features, n_hidden, n_instances, batch, seed)
    ours = GeometryLoop(n_features, n_hidden, n_instances, batch, seed + 1)
    with torch.no_grad():  # the reference's W is [instances, features, hidden]
        ours.model.W.copy_(ref.W.detach().transpose(1, 2))
        ours.model.b.copy_(ref.b.detach())
    ours.run(steps)
    return ours.final_loss(seed=seed + 2)


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
    reference seed 0; ours started from the reference's initial weights vs reference seed 0;
    reference seed 0 vs 1, the noise yardstick)."""
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
    same = from_reference_init(n_features, n_hidden, n_instances, steps, batch)
    out["ours_same_init_loss"] = same.tolist()
    out["same_init_rel_diff"] = rel_diff(same, ref_losses[0])
    return out


def _whole_run_row(r: dict, task: str, extra: str = "") -> BenchRow:
    """A `whole_run` result as a row: median-step times of the whole run on both sides."""
    by_threads = ", ".join(
        f"{t} thread{'s' * (t > 1)} {1e3 * s:.1f} ms"
        for t, s in r["reference_s_per_step_by_threads"].items()
    )
    note = (
        f"{r['ours_steps_per_s']:.2f} vs {r['reference_steps_per_s']:.2f} steps/s, median steps "
        f"(ours per chunk; the reference's of {r['reference_steps_timed']} spread over the run "
        f"on each thread count: {by_threads}; the faster used); our run's wall "
        f"{r['ours_wall_s']:.3g} s{extra}"
    )
    return BenchRow("toy-train", task, r["ours_s"], r["steps"] * r["reference_s_per_step"], note)


@register("toy-train", "toy-model training steps/s: superpose trainer vs the notebook loop")
def toy_train(quick: bool) -> list[BenchRow]:
    """Whole training runs (native step) with the reference timed between their chunks (also
    for each other feature kind at the first size), and first-step rates (steps/s right after
    initialisation, the native step's slowest) of the native and the eager PyTorch step (and,
    unless quick, the compiled one), at the paper's geometry sizes. Whole runs compare median
    steps (`whole_run`): the reference's on its faster thread count, 3 steps a block at the
    first size (the first step of a block runs slower than the rest)."""
    rows = []
    runs = ((1000, 10, 3), (200, 4, 2)) if quick else ((10_000, 20, 5), (10_000, 20, 2))
    for size, (steps, chunks, ref_block) in zip(SIZES, runs, strict=True):
        r = whole_run(*size, steps, chunks, ref_block)
        rows.append(_whole_run_row(r, f"{r['task']} {r['kernel']} whole run ({steps} steps)"))
    steps, chunks, ref_block = (500, 5, 3) if quick else (10_000, 20, 5)
    for label, features in FEATURE_KINDS:
        r = whole_run(*SIZES[0], steps, chunks, ref_block, features=features)
        task = f"{r['task']} {label} {r['kernel']} whole run ({steps} steps)"
        rows.append(_whole_run_row(r, task, "; the reference draws the same kind of features"))
    r = wide_rates(*WIDE, rounds=2 if quick else 5)
    if r is not None:
        sec = r["seconds"]
        rows.append(
            BenchRow(
                "toy-train",
                f"{r['task']} density {WIDE[3]} native vs PyTorch step ({r['steps_timed']})",
                sec["native"],
                sec["torch"],
                note="one thread each; the reference here is the PyTorch step, not the notebook",
            )
        )
    plan = ((4, 4), (2, 2)) if quick else ((6, 5), (3, 3))  # (rounds, block) per size
    for size, (rounds, block) in zip(SIZES, plan, strict=True):
        r = steady_rates(*size, rounds=rounds, block=block, compile=not quick)
        rate, sec = r["steps_per_s"], r["seconds"]
        for name in r["ratio"]:
            note = (
                f"{rate[name]:.2f} vs {rate['reference']:.2f} steps/s (the reference on "
                f"{r['reference_threads']} thread{'s' * (r['reference_threads'] > 1)}, its faster)"
            )
            if name == "compiled":
                note += f"; compile warm-up {r['compile_warmup_s']:.0f} s not included"
            rows.append(
                BenchRow(
                    "toy-train",
                    f"{r['task']} {name} first steps ({r['steps_timed']})",
                    sec[name],
                    sec["reference"],
                    note=note,
                )
            )
    return rows
