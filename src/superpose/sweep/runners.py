"""The grid function behind `superpose sweep` (`run_point`: one point of any registered target) and
the toy and construction targets.

A toy run trains, saves the models (`save_trained`) into the artifact folder and reports losses and
measurements. A construction run builds (and so verifies) the config's construction, saves it
(`save_construction`) into the artifact folder and reports its verification numbers. The
experiment target is registered by `superpose.experiments` (`experiments/sweep_target.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..base.config import FrozenConfig, load_yaml, validate
from ..toy.config import ToyConfig
from .targets import SweepTarget, get_target, register_target
from .worker import artifact_dir, worker_device


def run_point(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one sweep point (see module doc); returns its metrics."""
    target = get_target(payload["kind"])
    return target.run(payload["target"], payload["mode"] == "quick", payload["config"])


def config_base(
    cls: type[FrozenConfig], name: str
) -> Callable[[Any, str, str, Path], tuple[str, type[FrozenConfig], dict[str, Any]]]:
    """A target's base: the spec's value is the config's fields inline or a YAML file path."""

    def base(value: Any, mode: str, source: str, root: Path):
        if isinstance(value, str):
            path = Path(value)
            path = path if path.is_absolute() else root / path
            return name, cls, load_yaml(cls, path).to_dict()
        return name, cls, validate(cls, value, f"{source}: {name}").to_dict()

    return base


def _device(name: str) -> str:
    return worker_device() if name == "auto" else name


def _run_toy(config: dict[str, Any]) -> dict[str, Any]:
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


register_target(
    SweepTarget("toy", config_base(ToyConfig, "toy"), lambda _name, _quick, cfg: _run_toy(cfg))
)


def _construction_base(value: Any, mode: str, source: str, root: Path):
    from ..base.config import read_yaml
    from ..circuits.construction import construction_config

    if isinstance(value, str):
        path = Path(value)
        path = path if path.is_absolute() else root / path
        cfg = construction_config(read_yaml(path), str(path))
    else:
        cfg = construction_config(value, f"{source}: construction")
    return cfg.construction, type(cfg), cfg.to_dict()


def _run_construction(name: str, quick: bool, config: dict[str, Any]) -> dict[str, Any]:
    from ..circuits.construction import build, config_class, save_construction

    net = build(config_class(name).model_validate(config))
    folder = artifact_dir()
    if folder is not None:
        save_construction(net, folder / "construction")
    return {"n_circuits": net.n_circuits, "n_layers": net.n_layers, **net.verify()}


register_target(SweepTarget("construction", _construction_base, _run_construction))
