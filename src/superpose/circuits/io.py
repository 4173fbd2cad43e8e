"""Save a built CiS2 network: safetensors weights + JSON ground truth + config + errors.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from ..base.config import dump_yaml
from .cis2 import CiS2Config, CiS2Network

SCHEMA_VERSION = 1


def ground_truth(net: CiS2Network) -> dict[str, Any]:
    """Which large neurons host which circuit neuron, per layer: layers[l][t][i] = [S neuron ids]."""
    N = net.block
    layers = []
    for k in range(net.L):
        pos = net.positions[k].cpu()
        hosts = [[[i * N + int(p) for p in pos[t]] for i in range(net.d)] for t in range(net.T)]
        layers.append({"layer": k + 1, "hosts": hosts})
    return {
        "schema_version": SCHEMA_VERSION,
        "construction": "cis2",
        "width": net.width,
        "circuit_width": net.d,
        "block": N,
        "redundancy": net.S,
        "circuits": net.T,
        "unembedding": net.unembedding,
        "allocation": {
            "scheme": net.allocation.scheme,
            "capacity": net.allocation.capacity,
            "balance": net.allocation.balance(),
        },
        "input": "layer 1 reads x: [batch, T·d] (circuit t's input at t·d … t·d+d−1)",
        "layers": layers,
    }


def save_cis2(
    net: CiS2Network, cfg: CiS2Config, out: str | Path, errors: dict[str, Any]
) -> dict[str, Path]:
    """Write config.yaml, weights.safetensors, ground_truth.json, errors.json into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {
        "circuit_weights": net.circuits.weights.contiguous().cpu(),
        "circuit_biases": net.circuits.biases.contiguous().cpu(),
        "positions": net.positions.contiguous().cpu(),
    }
    for k in range(net.L):
        tensors[f"layer{k + 1}.bias"] = net.bias[k].contiguous().cpu()
    if net.dense_fits():
        for k, W in enumerate(net.dense_weights()):
            tensors[f"layer{k + 1}.weight"] = W.contiguous()
    paths = {
        "config": out / "config.yaml",
        "weights": out / "weights.safetensors",
        "ground_truth": out / "ground_truth.json",
        "errors": out / "errors.json",
    }
    dump_yaml(cfg, paths["config"])
    save_file(tensors, str(paths["weights"]), metadata={"schema_version": str(SCHEMA_VERSION)})
    gt = ground_truth(net)
    gt["weights_sha256"] = hashlib.sha256(paths["weights"].read_bytes()).hexdigest()
    gt["dense_weights_saved"] = net.dense_fits()
    paths["ground_truth"].write_text(json.dumps(gt))
    paths["errors"].write_text(json.dumps(errors, indent=2))
    return paths
