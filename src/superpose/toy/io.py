"""Save and load trained toy models: config.yaml + weights.safetensors + metrics.json, atomically."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..base.config import dump_yaml, load_yaml
from ..base.device import resolve_device
from ..base.errors import SuperposeError
from ..base.files import atomic_write, staged_folder
from ..base.serial import to_jsonable
from ..base.version import __version__
from .config import ToyConfig
from .metrics import summarize
from .models import ToyModel
from .train import TrainResult

SCHEMA_VERSION = 1
FILES = ("config.yaml", "weights.safetensors", "metrics.json")
SAVE_MARKER = ("metrics.json", "schema_version")  # how a previous save is recognised


def weights_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_trained(result: TrainResult, out: str | Path) -> Path:
    """Write a trained batch of models to folder `out`, all files at once when fully written.

    `out` may be new, empty or a previous save (whose files are replaced); a folder holding
    anything else is refused before anything is written (see `staged_folder`).
    """
    out = Path(out)
    with staged_folder(out, FILES, SAVE_MARKER) as tmp:
        dump_yaml(result.config, tmp / "config.yaml")
        weights = {k: v.detach().cpu().contiguous() for k, v in result.model.weights().items()}
        weights["importance"] = result.importance.cpu().contiguous()
        save_file(weights, tmp / "weights.safetensors", metadata={"schema": str(SCHEMA_VERSION)})
        measures = summarize(result.model.W.detach().cpu(), result.model.b.detach().cpu())
        metrics = {
            "schema_version": SCHEMA_VERSION,
            "library_version": __version__,
            "model": result.config.model,
            "seed": result.config.seed,
            "device": str(result.model.W.device),
            "seconds": result.seconds,
            "final_loss": to_jsonable(result.final_loss),
            "restart_losses": to_jsonable(result.restart_losses),
            "weights_sha256": weights_hash(tmp / "weights.safetensors"),
            "config_hash": result.config.config_hash(),
            "measurements": to_jsonable(measures),
        }
        atomic_write(tmp / "metrics.json", json.dumps(metrics, indent=1))
    return out


def load_trained(folder: str | Path, device: str = "cpu") -> tuple[ToyConfig, ToyModel, dict]:
    """Load a saved model folder, checking schema, hash and shapes; clear one-line errors."""
    device = str(resolve_device(str(device)))  # one line for a device not here, before reading
    folder = Path(folder)
    for name in FILES:
        if not (folder / name).is_file():
            raise SuperposeError(f"{folder}: missing {name} (not a saved superpose model)")
    config = load_yaml(ToyConfig, folder / "config.yaml")
    try:
        metrics = json.loads((folder / "metrics.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SuperposeError(f"{folder / 'metrics.json'}: not valid JSON") from None
    if not isinstance(metrics, dict) or metrics.get("schema_version") != SCHEMA_VERSION:
        got = metrics.get("schema_version") if isinstance(metrics, dict) else None
        raise SuperposeError(
            f"{folder / 'metrics.json'}: field 'schema_version': expected {SCHEMA_VERSION}, got {got!r}"
        )
    if metrics.get("weights_sha256") != weights_hash(folder / "weights.safetensors"):
        raise SuperposeError(
            f"{folder / 'weights.safetensors'}: content hash does not match metrics.json "
            "(file changed or corrupted)"
        )
    saved = metrics.get("config_hash")  # None in saves made before it was recorded
    if saved is not None and saved != config.config_hash():
        raise SuperposeError(
            f"{folder / 'config.yaml'}: not the config these weights were trained with (its hash "
            "differs from metrics.json's config_hash: edited?); train again, or put back the saved one"
        )
    if metrics.get("model") != config.model:
        raise SuperposeError(
            f"{folder / 'config.yaml'}: field 'model': {config.model!r} disagrees with the saved "
            f"metrics.json ({metrics.get('model')!r}); the files do not belong together"
        )
    try:
        tensors = load_file(folder / "weights.safetensors", device=device)
    except (SafetensorError, OSError, ValueError) as err:
        raise SuperposeError(f"{folder / 'weights.safetensors'}: unreadable ({err})") from None
    inst, n, m = config.instances, config.n_features, config.n_hidden
    model = ToyModel(config.model, inst, n, m, device=device)
    expected = {k: tuple(v.shape) for k, v in model.weights().items()}
    for key, shape in expected.items():
        got = tuple(tensors[key].shape) if key in tensors else None
        if got != shape:
            raise SuperposeError(
                f"{folder / 'weights.safetensors'}: tensor {key!r} has shape {got}, "
                f"config needs {shape}"
            )
        if tensors[key].dtype != torch.float32:
            raise SuperposeError(
                f"{folder / 'weights.safetensors'}: tensor {key!r} is {tensors[key].dtype}, "
                "expected float32"
            )
        if not bool(torch.isfinite(tensors[key]).all()):
            raise SuperposeError(
                f"{folder / 'weights.safetensors'}: tensor {key!r} holds NaN or infinite values"
            )
        getattr(model, key).data.copy_(tensors[key])
    return config, model, metrics
