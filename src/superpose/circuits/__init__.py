"""Hand-built networks computing in superposition: CiS2 (deep MLP) and CiS1 (residual).

Names load on first use, so `superpose --help` does not import torch through this package.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Allocation": "allocation",
    "make_allocation": "allocation",
    "pair_bound": "allocation",
    "CiS2Config": "deep",
    "CiS2Network": "deep",
    "build_cis2": "deep",
    "dense_forward": "deep",
    "verify_network": "deep",
    "ErrorProfile": "errors",
    "fit_c_w": "errors",
    "measure": "errors",
    "predicted": "errors",
    "run_profile": "errors",
    "ground_truth": "io",
    "save_cis2": "io",
    "CiS1Config": "residual",
    "CiS1Network": "residual",
    "build_cis1": "residual",
    "SmallCircuits": "small",
    "from_torch": "small",
    "make_circuits": "small",
    "random_circuits": "small",
    "rotation_circuits": "small",
    "sample_inputs": "small",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
