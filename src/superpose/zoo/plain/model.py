"""A zoo network as a plain torch.nn.Module (no superpose needed; exported as model.py).

The network is a short list of ops (ground_truth.json "architecture") run on one activation
stream `a` (and a stack for residual connections):
  {"op": "linear", "name": N, "in": i, "out": o, "bias": bool}  a = Linear_N(a)
  {"op": "relu"}                                                a = ReLU(a)
  {"op": "push"} / {"op": "add"}                                save a / a = saved + a
  {"op": "record", "name": LAYER}                               a is the activation of LAYER
`forward(x)` returns the recorded activations in order: the layers the ground truth describes.
Weights: `weights.safetensors` holds `Model.state_dict()` (keys "linears.N.weight", "linears.N.bias").
"""

from __future__ import annotations

import torch
from torch import nn


class Model(nn.Module):
    """A zoo network: ops from `architecture`; forward(x: [batch, ...]) → list of [batch, D_l]."""

    def __init__(self, architecture: list[dict]) -> None:
        super().__init__()
        self.architecture = architecture
        self.linears = nn.ModuleDict(
            {
                op["name"]: nn.Linear(op["in"], op["out"], bias=op["bias"])
                for op in architecture
                if op["op"] == "linear"
            }
        )

    @property
    def layers(self) -> list[str]:
        """Names of the recorded activations, in the order forward returns them."""
        return [op["name"] for op in self.architecture if op["op"] == "record"]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        a, saved, out = x.reshape(x.shape[0], -1).float(), [], []
        for op in self.architecture:
            kind = op["op"]
            if kind == "linear":
                a = self.linears[op["name"]](a)
            elif kind == "relu":
                a = torch.relu(a)
            elif kind == "push":
                saved.append(a)
            elif kind == "add":
                a = saved.pop() + a
            elif kind == "record":
                out.append(a)
            else:
                raise ValueError(f"unknown op {kind!r}")
        return out


def load(folder: str) -> Model:
    """Model from an export folder: architecture from ground_truth.json, weights.safetensors."""
    import json
    from pathlib import Path

    from safetensors.torch import load_file

    folder_path = Path(folder)
    truth = json.loads((folder_path / "ground_truth.json").read_text())
    model = Model(truth["architecture"])
    model.load_state_dict(load_file(str(folder_path / "weights.safetensors")))
    return model.requires_grad_(False).eval()
