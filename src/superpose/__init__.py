"""superpose: computation in superposition — learn toy models, build circuits, measure, sweep.

The curated public API, loaded on first use (so `superpose --help` never imports torch). Subpackages
(`superpose.toy`, `superpose.circuits`, `superpose.experiments`, …) are never shadowed by a name here.
Every builder here returns a verified network (or refuses with one line); the unverified layer
builders behind them stay in `superpose.circuits.boolean` and `.boolean_deep` for studies.
"""

from __future__ import annotations

import importlib
from typing import Any

from .base.version import __version__

_WHERE = {
    "FrozenConfig": "base.config",
    "dump_yaml": "base.config",
    "load_yaml": "base.config",
    "SuperposeError": "base.errors",
    "BooleanLayer": "circuits.boolean",
    "ChosenGatesConfig": "circuits.boolean",
    "UAndConfig": "circuits.boolean",
    "build_chosen_gates": "circuits.uand:build_chosen_gates_construction",
    "build_uand": "circuits.uand:build_uand_construction",
    "DeepBooleanConfig": "circuits.boolean_deep",
    "build_deep": "circuits.boolean_deep:build_deep_construction",
    "CiS2Config": "circuits.cis2",
    "CiS2Network": "circuits.cis2",
    "build_cis2": "circuits.cis2",
    "run_profile": "circuits.errors",
    "compile": "circuits.compiler",
    "Construction": "circuits.construction",
    "build": "circuits.construction",
    "load_construction": "circuits.construction",
    "save_construction": "circuits.construction",
    "CiS1Config": "circuits.cis1",
    "build_cis1": "circuits.cis1",
    "Claim": "experiments.base",
    "ExperimentResult": "experiments.base",
    "RunContext": "experiments.base",
    "run_experiment": "experiments.base",
    "FeatureConfig": "features",
    "FeatureDistribution": "features",
    "map_grid": "sweep.driver",
    "ToyConfig": "toy.config",
    "TrainConfig": "toy.config",
    "load_trained": "toy.io",
    "save_trained": "toy.io",
    "dimensions_per_feature": "toy.metrics",
    "feature_dimensionality": "toy.metrics",
    "feature_norms": "toy.metrics",
    "interference": "toy.metrics",
    "polysemanticity": "toy.metrics",
    "ToyModel": "toy.models",
    "TrainResult": "toy.train",
    "train": "toy.train",
    "score": "zoo",
}

__all__ = ["__version__", *sorted(_WHERE)]


def __getattr__(name: str) -> Any:
    if name in _WHERE:  # "module" (the same name there) or "module:name"
        module, _, attr = _WHERE[name].partition(":")
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr or name)
    try:  # a subpackage or module not imported yet: `superpose.experiments` is the package
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
