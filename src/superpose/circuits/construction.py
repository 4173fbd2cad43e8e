"""One interface for every hand-built network, a registry, and generic build / save / load.

A construction (CiS1, CiS2, U-AND, chosen gates, deep boolean, …) is a built network that computes
many small circuits in superposition. Each config names its construction in a `construction:` field;
`build(config)` dispatches on it, `save_construction` writes config.yaml, weights.safetensors,
ground_truth.json (+ the construction's measured errors), and `load_construction` reads them back.

A new construction is one module: a config with `construction: Literal["<name>"]`, a subclass of
`Construction`, and one `register_construction("<name>", Config, build_fn)` line (add the module to
`_BUILT_IN` so it is found before it was imported).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from ..base.config import FrozenConfig, dump_yaml, read_yaml, validate
from ..base.errors import SuperposeError
from ..base.version import __version__

SCHEMA_VERSION = 1
_CLASSES: dict[str, type[Construction]] = {}  # filled by Construction subclasses (their `name`)


@dataclass(frozen=True)
class Sample:
    """Inputs with their activity: x as the construction reads it, active: [batch, n_circuits] bool."""

    x: torch.Tensor
    active: torch.Tensor


class Construction(ABC):
    """A built network that computes many small circuits in superposition."""

    name: ClassVar[str]  # registry key; equals config.construction
    report_file: ClassVar[str] = "errors.json"  # where `measure` is saved next to the weights
    config: Any  # the construction's FrozenConfig, with `construction: Literal[name]`

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            _CLASSES[cls.name] = cls

    @property
    @abstractmethod
    def n_circuits(self) -> int: ...

    @property
    @abstractmethod
    def n_layers(self) -> int: ...

    @property
    @abstractmethod
    def max_active(self) -> int:
        """Most circuits on at once the network is built for."""

    @abstractmethod
    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Large activations per layer, each [batch, D_l]."""

    @abstractmethod
    def readout(self, acts: list[torch.Tensor]) -> list[torch.Tensor]:
        """Decoded circuit values per layer."""

    @abstractmethod
    def exact(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The exact small circuits' values per layer (what `readout` should give)."""

    @abstractmethod
    def sample(self, batch: int, active: int, generator: torch.Generator) -> Sample:
        """`batch` inputs with `active` circuits on each."""

    @abstractmethod
    def ground_truth(self) -> dict[str, Any]:
        """JSON: per layer which neurons/directions host which circuit value."""

    @abstractmethod
    def verify(self) -> dict[str, float]:
        """Check against the exact circuits; raise SuperposeError (one line) unless it computes them."""

    @abstractmethod
    def dense_module(self) -> nn.Module:
        """The same network as plain torch layers."""

    @abstractmethod
    def tensors(self) -> dict[str, torch.Tensor]:
        """What `save_construction` writes; `from_tensors` reads it back."""

    @classmethod
    @abstractmethod
    def from_tensors(cls, config: Any, tensors: dict[str, torch.Tensor]) -> Construction: ...

    def measure(self, batch: int) -> dict[str, Any]:
        """Error statistics saved next to the weights (`report_file`); none by default."""
        return {}

    def summary(self, measured: dict[str, Any]) -> str:
        """One line for `superpose build`."""
        return f"built {self.name}: {self.n_circuits} circuits, {self.n_layers} layer(s)"


class SmallCircuitsNet(Construction):
    """A construction around a network `net` that embeds T small circuits of L layers
    (`net.forward`, `net.readouts`, `net.circuits.forward`; config fields circuits, layers)."""

    def __init__(self, config: Any, net: Any) -> None:
        self.config, self.net = config, net

    @property
    def n_circuits(self) -> int:
        return self.config.circuits

    @property
    def n_layers(self) -> int:
        return self.config.layers

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.net.forward(x)

    def readout(self, acts: list[torch.Tensor]) -> list[torch.Tensor]:
        return self.net.readouts(acts)

    def exact(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.net.circuits.forward(x)


@dataclass(frozen=True)
class _Entry:
    config_cls: type[FrozenConfig]
    build: Callable[[Any], Construction]


_REGISTRY: dict[str, _Entry] = {}
# the module that registers each built-in construction (imported on first use)
_BUILT_IN = {
    "cis1": "superpose.circuits.cis1",
    "cis2": "superpose.circuits.cis2",
    "uand": "superpose.circuits.uand",
    "chosen_gates": "superpose.circuits.uand",
    "deep_boolean": "superpose.circuits.boolean_deep",
    "compiled": "superpose.circuits.compiler",
}


def register_construction(
    name: str, config_cls: type[FrozenConfig], build_fn: Callable[[Any], Construction]
) -> None:
    """Make `build` and `superpose build` know the construction `name`."""
    _REGISTRY[name] = _Entry(config_cls, build_fn)


def known_constructions() -> list[str]:
    return sorted({*_BUILT_IN, *_REGISTRY})


def _entry(name: str) -> _Entry:
    if name not in _REGISTRY and name in _BUILT_IN:
        importlib.import_module(_BUILT_IN[name])
    if name not in _REGISTRY:
        known = ", ".join(known_constructions())
        raise SuperposeError(f"unknown construction {name!r}; known: {known}")
    return _REGISTRY[name]


def config_class(name: str) -> type[FrozenConfig]:
    return _entry(name).config_cls


def construction_config(data: Any, source: str) -> FrozenConfig:
    """Validate plain data as the config of the construction its `construction:` field names."""
    if not isinstance(data, dict) or "construction" not in data:
        known = ", ".join(known_constructions())
        raise SuperposeError(f"{source}: field 'construction' is missing (one of: {known})")
    try:
        cls = config_class(str(data["construction"]))
    except SuperposeError as err:
        raise SuperposeError(f"{source}: field 'construction': {err}") from None
    return validate(cls, data, source)


def load_construction_config(path: str | Path) -> FrozenConfig:
    """Read a construction config YAML (any registered construction)."""
    return construction_config(read_yaml(path), str(path))


def build(config: FrozenConfig) -> Construction:
    """Build (and verify) the network of `config`, dispatching on its `construction:` field."""
    return _entry(config.construction).build(config)


SAVE_MARKER = ("ground_truth.json", "schema_version")  # how a previous save is recognised


def saved_files(name: str) -> tuple[str, ...]:
    """The files `save_construction` writes for construction `name` (a previous save holds only
    these, so a folder holding anything else is refused)."""
    _entry(name)  # imports the module that defines the class
    report = _CLASSES[name].report_file if name in _CLASSES else "errors.json"
    return ("config.yaml", "weights.safetensors", "ground_truth.json", report)


def save_construction(
    net: Construction, out: str | Path, measured: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Write config.yaml, weights.safetensors, ground_truth.json (+ measured errors) into `out`,
    all at once when fully written (a folder holding other files is refused, never emptied)."""
    from safetensors.torch import save_file

    from ..base.files import atomic_write, staged_folder

    out = Path(out)
    tensors = {k: v.detach().contiguous().cpu() for k, v in net.tensors().items()}
    with staged_folder(out, saved_files(net.name), SAVE_MARKER) as tmp:
        dump_yaml(net.config, tmp / "config.yaml")
        save_file(
            tensors,
            str(tmp / "weights.safetensors"),
            metadata={"schema_version": str(SCHEMA_VERSION)},
        )
        meta = {"schema_version": SCHEMA_VERSION, "library_version": __version__}
        truth = {**meta, "construction": net.name, **net.ground_truth()}
        truth["weights_sha256"] = _sha256(tmp / "weights.safetensors")
        atomic_write(tmp / "ground_truth.json", json.dumps(truth))
        if measured:
            atomic_write(tmp / net.report_file, json.dumps(measured, indent=1))
    paths = {
        "config": out / "config.yaml",
        "weights": out / "weights.safetensors",
        "ground_truth": out / "ground_truth.json",
    }
    if measured:
        paths["report"] = out / net.report_file
    return paths


def load_construction(folder: str | Path) -> Construction:
    """Read back a saved construction (its config names which one). Weights that are not the
    ones saved (ground_truth.json's weights_sha256) are refused: the dense layers a plain-torch
    user reads are not rebuilt from the structure, so an edit there would go unseen."""
    from safetensors.torch import load_file

    folder = Path(folder)
    config = load_construction_config(folder / "config.yaml")
    weights = folder / "weights.safetensors"
    if not weights.is_file():
        raise SuperposeError(f"{weights}: missing (save_construction writes it)")
    recorded = _recorded_hash(folder / "ground_truth.json")
    if recorded is not None and recorded != _sha256(weights):
        raise SuperposeError(
            f"{weights}: not the weights saved with {folder / 'ground_truth.json'} (its "
            "weights_sha256 differs: edited or damaged); build it again"
        )
    _entry(config.construction)  # imports the module that defines the class
    try:
        tensors = load_file(str(weights))
    except Exception as err:  # safetensors' own error type differs between its versions
        raise SuperposeError(
            f"{weights}: not a readable safetensors file ({_first_line(err)}); build it again"
        ) from None
    try:
        return _CLASSES[config.construction].from_tensors(config, tensors)
    except SuperposeError as err:
        raise SuperposeError(f"{folder}: {err}") from None
    except (KeyError, IndexError, ValueError, TypeError, RuntimeError) as err:
        raise SuperposeError(
            f"{weights}: does not match {folder / 'config.yaml'} ({type(err).__name__}: "
            f"{_first_line(err)}); build it again"
        ) from None


def _recorded_hash(truth: Path) -> str | None:
    """The weights_sha256 a save recorded in ground_truth.json (None: no such file; a damaged
    one is refused, since it can no longer vouch for the weights)."""
    if not truth.exists():
        return None
    try:
        recorded = json.loads(truth.read_text())["weights_sha256"]
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, KeyError, TypeError):
        raise SuperposeError(
            f"{truth}: not the ground truth a save writes (no weights_sha256 readable); build it "
            "again"
        ) from None
    return str(recorded)


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:  # streamed: a large network's weights are not read into memory
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return (text.splitlines() or [""])[0][:160]
