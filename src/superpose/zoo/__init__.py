"""The zoo: networks whose mechanism is known, loadable in one line and exportable as plain torch.

entry = superpose.zoo.load("cis2")       # a ZooEntry (built and verified, or cached)
entry.module()                           # plain torch.nn.Module: activations per layer
entry.sample(64, seed=0)                 # inputs, active circuits, exact values per layer
entry.truth(layer=1)                     # the scorer's ground truth of a layer
superpose.zoo.export(entry, "out/")      # model.py + weights + ground truth + sampler
superpose.score(sae, entry, layer=1)     # an SAE scored against it
"""

from __future__ import annotations

from typing import Any

from ..base.errors import SuperposeError
from .entry import Layer, ZooEntry
from .export import export
from .registry import SPECS, cache_root, from_construction, load, names


def score(
    dictionary: Any,
    target: Any,
    layer: int | str | None = None,
    samples: int | None = None,
    active: int | None = None,
    **kwargs: Any,
) -> Any:
    """Score `dictionary` (any form the scorer accepts) against a zoo entry, its name, or a Truth.

    layer: 1-based layer (or its name) of the entry; samples (default 2000)/active: the inputs the
    scores use (a Truth holds its own: giving them with one is refused, not ignored).
    Keyword arguments go to `superpose.scoring.score` (threshold, fire, null_draws, seed).
    """
    from ..base.errors import MAX_SAMPLES, int_arg
    from ..scoring import Truth
    from ..scoring import score as score_truth

    if isinstance(target, str):
        target = load(target)
    if isinstance(target, ZooEntry):
        samples = int_arg("score", "samples", 2000 if samples is None else samples, 1, MAX_SAMPLES)
        target = target.truth(layer, samples=samples, seed=kwargs.get("seed", 0), active=active)
    elif not isinstance(target, Truth):
        raise SuperposeError(
            f"score: target must be a zoo entry, its name or a Truth, got {type(target).__name__}"
        )
    elif layer is not None or active is not None or samples is not None:
        raise SuperposeError(  # a Truth is already sampled: these would be ignored silently
            "score: layer, samples and active choose the inputs of a zoo entry; a Truth already "
            "holds its own (make it with entry.truth(layer, samples=…, active=…))"
        )
    return score_truth(dictionary, target, **kwargs)


__all__ = [
    "SPECS",
    "Layer",
    "ZooEntry",
    "cache_root",
    "export",
    "from_construction",
    "load",
    "names",
    "score",
]
