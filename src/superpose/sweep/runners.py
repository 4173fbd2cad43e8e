"""The grid function behind `superpose sweep`: one run of a registered experiment or a toy config.

An experiment run is `run_experiment` into the run's artifact folder; its metrics are each claim's
measured value (when a number) and verdict, plus the scalar numbers of its data. A toy run trains,
saves the models (`save_trained`) into the artifact folder and reports losses and measurements.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..base.serial import finite_number
from .worker import artifact_dir, worker_device


def run_point(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one sweep point (see module doc); returns its metrics."""
    if payload["kind"] == "toy":
        return _run_toy(payload["config"])
    return _run_experiment(payload["target"], payload["mode"] == "quick", payload["config"])


def _device(name: str) -> str:
    return worker_device() if name == "auto" else name


def _run_toy(config: dict[str, Any]) -> dict[str, Any]:
    from ..toy.config import ToyConfig
    from ..toy.io import save_trained
    from ..toy.metrics import summarize
    from ..toy.train import train

    cfg = ToyConfig.model_validate(config)
    cfg = cfg.replace(device=_device(cfg.device))
    result = train(cfg, progress=False)
    folder = artifact_dir()
    if folder is not None:
        save_trained(result, folder / "model")
    loss = result.final_loss.detach().cpu().double()
    out: dict[str, Any] = {"loss": loss.mean().item(), "train_seconds": result.seconds}
    if loss.numel() > 1:
        out["loss_per_instance"] = loss.tolist()
    measures = summarize(result.model.W.detach().cpu(), result.model.b.detach().cpu())
    for name in ("n_represented", "interference", "dimensions_per_feature", "polysemanticity"):
        value = measures[name].double()
        out[name] = value.mean().item()
    return out


def _run_experiment(name: str, quick: bool, config: dict[str, Any]) -> dict[str, Any]:
    from ..base.device import resolve_device
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
        value = finite_number(claim["measured"])
        if value is not None:
            out[claim["id"]] = value
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
