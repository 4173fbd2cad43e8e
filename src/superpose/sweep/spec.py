"""Sweep specs: a base config (a registered experiment, a toy-model or a construction config), axes
and seeds.

```yaml
name: phase-2x1
experiment: tms-basic        # or  toy: {model: relu_output, n_features: 5, ...}  or  toy: file.yaml
                             # or  construction: {construction: cis2, width: 1000, ...} or a file
mode: quick                  # which registered config is the base (experiments only)
base: {steps: 200}           # fields changed before the axes apply (dotted keys reach inside)
axes:                        # config field → values; the grid is their product
  n_hidden: [2, 3]
  importance_decay: {linspace: [0.5, 1.0, 3]}    # also {range: [start, stop, step]} (stop excluded)
  train.lr: {logspace: [1.0e-4, 1.0e-2, 3]}      # geometric, end points included
seeds: 2                     # a count (0..N-1) or a list; set into the config's `seed` field
                             # (or the dotted field named by seed_field: model.seed)
```
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator

from ..base.config import FrozenConfig, load_yaml, set_dotted, validate
from ..base.errors import SuperposeError
from .driver import Task
from .targets import KINDS, get_target

AXIS_FORMS = ("range", "linspace", "logspace")
MAX_RUNS = 1_000_000


class SweepSpec(FrozenConfig):
    """A declared sweep, as read from YAML."""

    name: str = Field(..., min_length=1, max_length=200, description="name of the sweep")
    experiment: str | None = Field(None, description="registered experiment whose config is swept")
    mode: Literal["quick", "full"] = Field("quick", description="quick or full experiment config")
    toy: dict[str, Any] | str | None = Field(
        None, description="toy-model config to sweep: fields inline, or a YAML file path"
    )
    construction: dict[str, Any] | str | None = Field(
        None, description="construction config to sweep: fields inline, or a YAML file path"
    )
    base: dict[str, Any] = Field(
        default_factory=dict, description="config fields set before the axes (dotted keys)"
    )
    axes: dict[str, list[Any] | dict[str, list[int | float]]] = Field(
        default_factory=dict,
        description="config field → list of values, or {range|linspace|logspace: [a, b, n]}",
    )
    seeds: int | list[int] | None = Field(
        None, description="seeds: a count N (0..N-1) or a list; set into `seed_field`"
    )
    seed_field: str = Field(
        "seed", min_length=1, description="the config field the seeds go into (dotted: model.seed)"
    )

    @model_validator(mode="after")
    def _one_base(self):
        if sum(getattr(self, kind) is not None for kind in KINDS) != 1:
            raise ValueError(
                "give exactly one of `experiment` (a registered name), `toy` or `construction`"
            )
        if isinstance(self.seeds, int) and not 1 <= self.seeds <= 100_000:
            raise ValueError(f"seeds count must be in 1..100000 (got {self.seeds})")
        if isinstance(self.seeds, list) and not self.seeds:
            raise ValueError("seeds list is empty: empty grid")
        return self


def axis_values(name: str, spec: list[Any] | dict[str, list[int | float]]) -> list[Any]:
    """The values of one axis; one-line errors for empty or malformed axes."""
    if isinstance(spec, list):
        values = spec
    else:
        if len(spec) != 1 or next(iter(spec)) not in AXIS_FORMS:
            raise SuperposeError(
                f"axis {name!r}: give a list or one of {{range|linspace|logspace: [a, b, n]}} "
                f"(got keys {sorted(spec)})"
            )
        form, args = next(iter(spec.items()))
        if len(args) != 3 or not all(isinstance(a, int | float) for a in args):
            raise SuperposeError(
                f"axis {name!r}: {form} takes three numbers [a, b, n] (got {args})"
            )
        a, b, n = args
        if not all(math.isfinite(x) for x in args):
            raise SuperposeError(f"axis {name!r}: {form} takes finite numbers (got {args})")
        if form != "range" and isinstance(n, int) and n > MAX_RUNS:
            raise SuperposeError(
                f"axis {name!r}: {form} count {n} is more than a sweep may run ({MAX_RUNS:,})"
            )
        if form == "range":
            if n == 0:
                raise SuperposeError(f"axis {name!r}: range step must not be 0")
            steps = (b - a) / n
            if not math.isfinite(steps):
                raise SuperposeError(f"axis {name!r}: range [{a}, {b}, {n}] has no finite count")
            count = max(0, math.ceil(steps))
            values = [a + i * n for i in range(min(count, MAX_RUNS + 1))]
            if all(isinstance(x, int) for x in args):
                values = [int(v) for v in values]
        else:
            if not isinstance(n, int) or n < 1:
                raise SuperposeError(
                    f"axis {name!r}: {form} count must be an integer >= 1 (got {n})"
                )
            if form == "logspace" and (a <= 0 or b <= 0):
                raise SuperposeError(
                    f"axis {name!r}: logspace end points must be > 0 (got {a}, {b})"
                )
            t = [i / (n - 1) if n > 1 else 0.0 for i in range(n)]
            if form == "linspace":
                values = [a + (b - a) * x for x in t]
            else:
                values = [math.exp(math.log(a) + (math.log(b) - math.log(a)) * x) for x in t]
            values = [float(f"{v:.12g}") for v in values]  # 0.30000000000000004 → 0.3
    if not values:
        raise SuperposeError(f"axis {name!r} has no values: empty grid")
    return values


@dataclass(frozen=True)
class Plan:
    """An expanded spec: what to run, and the identity of the sweep."""

    spec: SweepSpec
    kind: str  # a sweep target: experiment, toy or construction
    target: str  # experiment name, "toy", or the construction's name
    axes: dict[str, list[Any]]  # seeds included as axis `seed_field` when given
    tasks: list[Task]

    @property
    def sweep_id(self) -> str:
        ident = {
            "kind": self.kind,
            "target": self.target,
            "keys": sorted(t.key for t in self.tasks),
        }
        return hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:16]

    def info(self) -> dict[str, Any]:
        return {
            "description": self.spec.name,
            "kind": self.kind,
            "target": self.target,
            "axes": list(self.axes),
            "axis_values": self.axes,
            "spec": self.spec.to_dict(),
        }


def load_spec(path: str | Path) -> SweepSpec:
    return load_yaml(SweepSpec, path)


def _base(spec: SweepSpec, source: str, root: Path) -> tuple[str, str, type[FrozenConfig], dict]:
    kind = next(k for k in KINDS if getattr(spec, k) is not None)
    target, cls, data = get_target(kind).base(getattr(spec, kind), spec.mode, source, root)
    return kind, target, cls, data


def expand(spec: SweepSpec, source: str = "<spec>", root: str | Path = ".") -> Plan:
    """Every run of the sweep, each config validated; one-line errors name the axis or point."""
    kind, target, cls, data = _base(spec, source, Path(root))
    for key, value in spec.base.items():
        try:
            set_dotted(data, key, value)
        except SuperposeError:
            raise SuperposeError(f"{source}: base: unknown field {key!r} of {target}") from None
    try:
        axes = {name: axis_values(name, values) for name, values in spec.axes.items()}
    except SuperposeError as err:
        raise SuperposeError(f"{source}: {err}") from None
    for name in axes:
        try:
            set_dotted(copy.deepcopy(data), name, None)
        except SuperposeError:
            fields = ", ".join(sorted(data))
            raise SuperposeError(
                f"{source}: unknown axis {name!r}: not a field of the {target} config ({fields})"
            ) from None
    if spec.seeds is not None:
        field = spec.seed_field
        try:
            set_dotted(copy.deepcopy(data), field, None)
        except SuperposeError:
            raise SuperposeError(
                f"{source}: seeds given, but the {target} config has no field {field!r} "
                "(name it in seed_field)"
            ) from None
        if field in axes:
            raise SuperposeError(f"{source}: give seeds either as `seeds` or as axis {field!r}")
        axes[field] = list(range(spec.seeds)) if isinstance(spec.seeds, int) else spec.seeds
    total = math.prod(len(v) for v in axes.values())
    if total > MAX_RUNS:
        raise SuperposeError(f"{source}: {total} runs is more than {MAX_RUNS}; split the sweep")
    base_cfg = validate(cls, data, f"{source}: base {target} config")
    tasks = []
    names = list(axes)
    for combo in itertools.product(*(axes[n] for n in names)):
        point = dict(zip(names, combo, strict=True))
        cfg_data = copy.deepcopy(data)
        for name, value in point.items():
            set_dotted(cfg_data, name, value)
        cfg = validate(cls, cfg_data, f"{source}: point {json.dumps(point)}") if point else base_cfg
        payload = {"kind": kind, "target": target, "mode": spec.mode, "config": cfg.to_dict()}
        key = hashlib.sha256(f"{kind}:{target}:{cfg.config_hash()}".encode()).hexdigest()[:16]
        tasks.append(Task(key, point, payload))
    return Plan(spec, kind, target, axes, tasks)


def load_plan(path: str | Path) -> Plan:
    """Read, validate and expand a spec file."""
    path = Path(path)
    spec = load_spec(path)
    return expand(spec, str(path), path.parent)


def dump_spec(spec: SweepSpec, path: str | Path) -> None:
    from ..base.files import atomic_write

    atomic_write(path, yaml.safe_dump(spec.to_dict(), sort_keys=False))
