"""The one exception type users see: a message that fits on one line."""

from __future__ import annotations

import numbers
from typing import Any


class SuperposeError(Exception):
    """Bad input or an impossible request, explained in one line (the CLI prints it, no traceback)."""


MAX_SAMPLES = 10_000_000  # most inputs one call samples (batches, samples)
MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed's largest


def int_arg(where: str, name: str, value: Any, lo: int, hi: int, why: str = "") -> int:
    """`value` as an int in [lo, hi], else one line naming the argument, what was given and the
    range (why: the reason for the range, appended)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and lo <= value <= hi:
        return int(value)
    given = " ".join(repr(value).split())
    given = given if len(given) <= 40 else given[:37] + "..."
    kind = "" if isinstance(value, numbers.Integral) else f" ({type(value).__name__})"
    tail = f" ({why})" if why else ""
    raise SuperposeError(
        f"{where}: {name} = {given}{kind}: must be an integer in [{lo}, {hi}]{tail}"
    )
