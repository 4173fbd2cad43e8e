"""The one JSON serialiser: results, claims, summaries and the run store all go through here."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch


def to_jsonable(value: Any, *, exact: bool = False) -> Any:
    """Tensors, numpy values, paths and nested containers as plain JSON values.

    exact=False (results, claims, summaries): tensors become nested lists, non-finite floats None.
    exact=True (the run store): tensors are tagged with dtype and shape so `from_jsonable` gives them
    back bit for bit, and non-finite floats are kept (Python's json writes and reads NaN/inf).
    """
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        if exact:
            return {
                "__tensor__": t.flatten().tolist(),
                "dtype": str(t.dtype)[6:],
                "shape": list(t.shape),
            }
        value = t.tolist()
    elif hasattr(value, "tolist") and not isinstance(value, list | tuple | dict | str):
        value = value.tolist()  # numpy arrays and scalars
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, exact=exact) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v, exact=exact) for v in value]
    if isinstance(value, float) and not exact and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def from_jsonable(value: Any) -> Any:
    """Inverse of `to_jsonable(..., exact=True)`: tagged tensors come back as tensors."""
    if isinstance(value, dict):
        if "__tensor__" in value:
            dtype = getattr(torch, value["dtype"])
            return torch.tensor(value["__tensor__"], dtype=dtype).reshape(value["shape"])
        return {k: from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_jsonable(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Canonical exact JSON (sorted keys, compact; NaN/inf allowed, as Python's json reads them)."""
    return json.dumps(to_jsonable(value, exact=True), sort_keys=True, separators=(",", ":"))


def finite_number(value: Any) -> float | int | bool | None:
    """A bool, int or finite float as itself; anything else (NaN, lists, text) as None."""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None
