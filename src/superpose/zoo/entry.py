"""A loaded zoo entry: a network with a known mechanism, as superpose computes it and as a plain
torch module, with its ground truth at every recorded layer and a sampler of inputs.

Layers are 1-based everywhere in the zoo (as in ground_truth.json and `superpose score --layer`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch
from torch import nn

from ..base.errors import SuperposeError

# (batch, active, generator) → (x, active per layer, exact values per layer); None: no truth there
SampleFn = Callable[
    [int, int, torch.Generator],
    tuple[torch.Tensor, list[torch.Tensor | None], list[torch.Tensor | None]],
]


@dataclass(frozen=True)
class Layer:
    """One recorded activation of the network: its name, width D and what its truth is."""

    name: str
    width: int
    truth: str  # what the directions are; "" when the layer has no ground truth


@dataclass
class ZooEntry:
    """A zoo network (see module docstring). `source` is superpose's own object (a construction,
    a ToyModel, a ResidMLP); `forward` runs it, `module()` runs the plain export of it."""

    name: str
    version: int
    family: str
    description: str
    config: Any
    source: Any
    architecture: list[dict]
    weights: dict[str, torch.Tensor]  # the plain Model's state dict
    sampler: dict[str, Any]  # the plain sampler's spec (kind and sizes)
    sampler_tensors: dict[str, torch.Tensor]  # "sampler.*": what it needs for exact values
    layers: list[Layer]
    native_truth: dict[str, Any]  # the construction's own ground_truth() (neuron lists, …)
    forward_fn: Callable[[torch.Tensor], list[torch.Tensor]]
    sample_fn: SampleFn
    directions_fn: Callable[[int], tuple[torch.Tensor, torch.Tensor]]  # 0-based layer
    max_active: int = 0  # circuits on per input the sampler draws by default (0: probabilistic)
    metrics: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        names = ", ".join(l.name for l in self.layers)
        return f"ZooEntry({self.name!r} v{self.version}, {self.family}, layers: {names})"

    # --- running it ----------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """superpose's own forward: the activation of every recorded layer, each [batch, D_l]."""
        with torch.no_grad():
            return [a.reshape(a.shape[0], -1).float().cpu() for a in self.forward_fn(x)]

    def module(self) -> nn.Module:
        """The same network as the exported plain torch module (model.py + weights)."""
        from .plain.model import Model

        model = Model(self.architecture)
        model.load_state_dict(self.weights)
        return model.requires_grad_(False).eval()

    def sample(self, batch: int, seed: int = 0, active: int | None = None) -> dict[str, Any]:
        """`batch` inputs: {"x", "active": per layer [batch, n] bool, "exact": per layer values}
        (None where a layer has no truth). active: circuits on per input (built networks: 1 …
        max_active, what the network is verified for)."""
        from ..base.errors import MAX_SAMPLES, MAX_SEED, int_arg

        where = f"zoo {self.name}"
        batch = int_arg(where, "batch", batch, 1, MAX_SAMPLES)
        seed = int_arg(where, "seed", seed, 0, MAX_SEED)
        if self.max_active == 0 and active is not None:
            raise SuperposeError(
                f"{where}: active = {active}: a learned model draws each feature on with "
                f"its probability (p = {self.sampler.get('p')}); leave active unset"
            )
        z = active if active is not None else self.max_active
        if self.max_active:
            most = self.max_active
            why = f"the network is verified for at most {most} active circuits"
            z = int_arg(where, "active", z, 1, most, why)
        x, on, exact = self.sample_fn(batch, z, torch.Generator().manual_seed(seed))
        return {"x": x, "active": on, "exact": exact}

    # --- ground truth --------------------------------------------------------------------------
    def layer_index(self, layer: int | str | None) -> int:
        """0-based index of `layer` (1-based number or name; None: the only layer with truth)."""
        with_truth = [i for i, l in enumerate(self.layers) if l.truth]
        listing = ", ".join(
            f"{i + 1}={l.name}" + ("" if l.truth else " (no truth)")
            for i, l in enumerate(self.layers)
        )
        if layer is None:
            if len(with_truth) == 1:
                return with_truth[0]
            raise SuperposeError(f"zoo {self.name}: pass layer= (one of {listing})")
        names = [l.name for l in self.layers]
        if isinstance(layer, str) and layer in names:
            return names.index(layer)
        if isinstance(layer, int) and not isinstance(layer, bool) and 1 <= layer <= len(names):
            return layer - 1
        raise SuperposeError(f"zoo {self.name}: layer {layer!r} does not exist (layers {listing})")

    def directions(self, layer: int | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Ground truth of a layer: (directions [n_dirs, D], groups [n_dirs] circuit of each)."""
        i = self.layer_index(layer)
        if not self.layers[i].truth:
            raise SuperposeError(
                f"zoo {self.name}: layer {i + 1} ({self.layers[i].name}) has no ground truth "
                "(a learned layer whose mechanism is not known)"
            )
        cache = self.__dict__.setdefault("_dirs", {})
        if i not in cache:
            cache[i] = self.directions_fn(i)
        return cache[i]

    def truth(
        self,
        layer: int | str | None = None,
        samples: int = 2000,
        seed: int = 0,
        active: int | None = None,
    ) -> Any:
        """The scorer's Truth of a layer on `samples` sampled inputs (directions, groups,
        activations, which circuits are on, their exact values)."""
        from ..base.errors import MAX_SAMPLES, int_arg
        from ..scoring.truth import Truth

        samples = int_arg(f"zoo {self.name}", "samples", samples, 1, MAX_SAMPLES)
        i = self.layer_index(layer)
        dirs, groups = self.directions(i + 1)
        s = self.sample(samples, seed, active)
        acts = self.forward(s["x"])[i]
        return Truth(
            dirs,
            groups,
            acts,
            s["active"][i],
            s["exact"][i],
            name=f"{self.name} layer {i + 1} ({self.layers[i].name})",
        )

    def truth_tensors(self) -> dict[str, torch.Tensor]:
        """Every layer's directions as COO tensors (what ground_truth.safetensors holds):
        layerK.index [2, nnz] (direction, neuron), layerK.value [nnz], layerK.group [n_dirs]."""
        out = {}
        for i, l in enumerate(self.layers):
            if not l.truth:
                continue
            dirs, groups = self.directions(i + 1)
            sp = dirs.to_sparse_coo().coalesce()
            out[f"layer{i + 1}.index"] = sp.indices().to(torch.int32).contiguous()
            out[f"layer{i + 1}.value"] = sp.values().float().contiguous()
            out[f"layer{i + 1}.group"] = groups.to(torch.int32).contiguous()
        return out

    def ground_truth(self) -> dict[str, Any]:
        """ground_truth.json: architecture, layers and what their truth is, the sampler, the
        construction's own description (neurons per circuit), name, version and content hash."""
        layers = []
        for i, l in enumerate(self.layers):
            row: dict[str, Any] = {"layer": i + 1, "name": l.name, "width": l.width}
            if l.truth:
                dirs, groups = self.directions(i + 1)
                row |= {
                    "truth": l.truth,
                    "directions": int(dirs.shape[0]),
                    "circuits": int(groups.max()) + 1,
                    "tensors": [f"layer{i + 1}.{k}" for k in ("index", "value", "group")],
                }
            else:
                row["truth"] = None
            layers.append(row)
        return {
            "name": self.name,
            "version": self.version,
            "family": self.family,
            "description": self.description,
            "content_sha256": self.content_hash,
            "config": self.config.to_dict(),
            "metrics": self.metrics,
            "architecture": self.architecture,
            "layers": layers,
            "sampler": self.sampler,
            "circuits": self.native_truth,
        }

    @cached_property
    def content_hash(self) -> str:
        """sha256 of everything an export holds: weights, truth and sampler tensors, the
        architecture, layers and sampler spec (not file bytes: independent of serialisation)."""
        h = hashlib.sha256()
        meta = {"arch": self.architecture, "sampler": self.sampler, "layers": self.layers}
        h.update(json.dumps(meta, sort_keys=True, default=repr).encode())
        tensors = {**self.weights, **self.sampler_tensors, **self.truth_tensors()}
        for key in sorted(tensors):
            t = tensors[key].detach().cpu().contiguous()
            h.update(f"{key}:{t.dtype}:{list(t.shape)}".encode())
            h.update(t.view(-1).view(torch.uint8).numpy().tobytes())
        return h.hexdigest()
