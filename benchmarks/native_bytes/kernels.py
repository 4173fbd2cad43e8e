"""What the native_bytes tools share: the two kernels they compare — native_step.c as of a git
revision (env BASE, default main) and the working tree's (or env NEWSRC's), each built by
superpose.toy.native.library (cached by its source) — and the small models they run."""

import os
import subprocess
import tempfile
from pathlib import Path

import torch

from superpose.features import FeatureConfig, FeatureDistribution
from superpose.toy import native
from superpose.toy.models import ToyModel

ROOT = Path(__file__).resolve().parents[2]


def source_at(ref: str) -> Path:
    """native_step.c as of git revision `ref`, written to a temporary file."""
    text = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:src/superpose/toy/native_step.c"],
        capture_output=True,
        check=True,
    ).stdout
    path = Path(tempfile.gettempdir()) / f"native_step-{ref.replace('/', '_')}.c"
    path.write_bytes(text)
    return path


def kernels(m: int) -> dict:
    """{"base": BASE's kernel, "new": the working tree's} compiled for hidden width m."""
    new = Path(os.environ.get("NEWSRC", native.SOURCE))
    base = source_at(os.environ.get("BASE", "main"))
    return {"base": native.library(m, base), "new": native.library(m, new)}


def toy(kind: str, sparsity: list[list[float]], m: int, values: str, feats: dict, seed: int):
    """A toy model (random biases) of len(sparsity) instances, its feature distribution,
    importances [instances, n] and generator."""
    n = len(sparsity[0])
    gen = torch.Generator().manual_seed(seed)
    model = ToyModel(kind, len(sparsity), n, m, gen)
    with torch.no_grad():
        model.b.normal_(0.0, 0.2, generator=gen)
    config = FeatureConfig(sparsity=sparsity, values=values, **feats)
    dist = FeatureDistribution(config, len(sparsity), n)
    imp = torch.rand(len(sparsity), n, generator=gen) + 0.1
    return model, dist, imp, gen


def hash_state(h, model) -> None:
    """Add the model's parameters and gradients to the hash h."""
    for p in model.parameters():
        h.update(p.detach().numpy().tobytes())
        h.update(p.grad.numpy().tobytes())
