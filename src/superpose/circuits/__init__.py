"""Hand-built networks computing in superposition: CiS1, CiS2, U-AND, chosen gates, deep boolean —
each behind one interface (`construction.py`).

Names load on first use, so `superpose --help` does not import torch through this package.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Allocation": "allocation",
    "make_allocation": "allocation",
    "pair_bound": "allocation",
    "CiS2Config": "cis2",
    "CiS2Network": "cis2",
    "build_cis2": "cis2",
    "dense_forward": "cis2",
    "predict_regime": "cis2_regime",
    "verify_cis2": "cis2_regime",
    "ErrorProfile": "errors",
    "fit_c_w": "errors",
    "measure": "errors",
    "predicted": "errors",
    "run_profile": "errors",
    "ground_truth": "cis2",
    "CiS2": "cis2",
    "CiS1": "cis1",
    "Construction": "construction",
    "Sample": "construction",
    "build": "construction",
    "load_construction": "construction",
    "load_construction_config": "construction",
    "register_construction": "construction",
    "save_construction": "construction",
    "CiS1Config": "cis1",
    "CiS1Network": "cis1",
    "build_cis1": "cis1",
    "SmallCircuits": "small",
    "from_torch": "small",
    "make_circuits": "small",
    "random_circuits": "small",
    "rotation_circuits": "small",
    "sample_inputs": "small",
    "Circuit": "families",
    "chain": "families",
    "gate": "families",
    "lookup": "families",
    "modadd": "families",
    "random_mlp": "families",
    "rotation": "families",
    "Compiled": "compiler",
    "CompiledConfig": "compiler",
    "compile": "compiler",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
