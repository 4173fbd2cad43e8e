"""Refuse, in one line, work whose tensors cannot fit: an estimate checked before allocating.

Without it a config asking for terabytes ends in an allocator traceback, or is allocated and
invites the OOM killer. The estimate is rough (the big tensors only); set SUPERPOSE_MEMORY_CHECK=off
to try anyway.
"""

from __future__ import annotations

import os

from .errors import SuperposeError

ENV = "SUPERPOSE_MEMORY_CHECK"
HEADROOM = 0.8  # refuse above this share of what is available


def available_bytes(device: str = "cpu") -> int | None:
    """Memory available for new allocations on `device` (None when unknown)."""
    if device.startswith("cuda"):
        try:
            import torch

            return int(torch.cuda.mem_get_info(device)[0])
        except (RuntimeError, AssertionError, ValueError):
            return None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gb(n: float) -> str:
    return f"{n / 1e9:.3g} GB"


def check_memory(need_bytes: float, what: str, hint: str, device: str = "cpu") -> None:
    """Raise a one-line SuperposeError when `need_bytes` exceeds what `device` has available."""
    if os.environ.get(ENV, "").strip().lower() in ("off", "0", "no", "false"):
        return
    avail = available_bytes(device)
    if avail is None or need_bytes <= HEADROOM * avail:
        return
    raise SuperposeError(
        f"{what} needs about {_gb(need_bytes)} of memory but {_gb(avail)} is available on "
        f"{device}; {hint} (or set {ENV}=off to try anyway)"
    )
