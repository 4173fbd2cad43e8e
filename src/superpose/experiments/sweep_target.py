"""The sweep target `experiment:` — one run of a registered experiment as a sweep point.

Its metrics are each claim's measured value (when a number) and verdict, plus the scalar numbers of
its data; the run writes into the point's artifact folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..base.device import resolve_device
from ..base.serial import finite_number
from ..sweep.targets import SweepTarget, register_target
from ..sweep.worker import artifact_dir, worker_device
from . import get_experiment


def _base(name: str, mode: str, source: str, root: Path):
    exp = get_experiment(name)
    return exp.name, exp.config_cls, exp.config(mode == "quick").to_dict()


def _run_experiment(name: str, quick: bool, config: dict[str, Any]) -> dict[str, Any]:
    from ..experiments import RunContext, get_experiment, run_experiment

    exp = get_experiment(name)
    cfg = exp.config_cls.model_validate(config)
    folder = artifact_dir()
    with tempfile.TemporaryDirectory(prefix="superpose-run-") as tmp:
        out_dir = folder if folder is not None else Path(tmp)
        ctx = RunContext(
            out_dir, quick=quick, device=resolve_device(worker_device()), progress=False
        )
        rec = run_experiment(exp, ctx, cfg)
    if rec["status"] != "ok":
        raise RuntimeError(rec["error"])
    out: dict[str, Any] = {}
    for claim in rec["claims"]:
        measured = claim["measured"]  # a number, or named numbers (one level): `id.name`
        named = measured.items() if isinstance(measured, dict) else [(None, measured)]
        for name, value in named:
            if (number := finite_number(value)) is not None:
                out[claim["id"] if name is None else f"{claim['id']}.{name}"] = number
        out[f"{claim['id']}.passed"] = bool(claim["passed"])
    out["claims_held"] = sum(c["passed"] for c in rec["claims"])
    out["claims_total"] = len(rec["claims"])
    for key, value in (rec.get("data") or {}).items():
        number = finite_number(value)
        if number is not None:
            out[f"data.{key}"] = number
        elif isinstance(value, list) and len(value) <= 1000:
            out[f"data.{key}"] = value  # kept whole (JSON); tables and plots use the scalars
    out["experiment_seconds"] = rec["seconds"]
    return out


register_target(SweepTarget("experiment", _base, _run_experiment))
