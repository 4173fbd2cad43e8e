"""Where the native training step applies: plain rules, so a config can be checked without
importing the step (ctypes, the C compiler) that `toy/native.py` loads."""

from __future__ import annotations

# the kernel keeps a few hidden-width vectors per sample on its threads' stacks (~110 KB at 1024)
MAX_HIDDEN = 1024
# `train.kernel: auto` takes the native step up to this width: its decoder pass runs sample by
# sample over all n·m weights, which a PyTorch matmul does faster once they leave the cache
# (one thread each, 2 instances, density 0.01: native 1.8x the PyTorch step at 512→64, 0.93x at
# 512→128, 0.55x at 1024→256, 0.19x at 1024→1024)
AUTO_MAX_HIDDEN = 128


def why_not(device: str, hidden: int) -> str | None:
    """Why the native step cannot train this (None when it can): the one place for its limits,
    used by the config check and by `native_step`."""
    if device.startswith("cuda"):
        return f"it runs on the CPU only (device {device})"
    if hidden > MAX_HIDDEN:
        return f"it takes at most {MAX_HIDDEN} hidden units (n_hidden {hidden})"
    return None


def unusable(reason: str) -> str:
    """The one-line error for `train.kernel: native` where it cannot be used."""
    return f"train.kernel native cannot be used here: {reason}; use auto or torch"


__all__ = ["AUTO_MAX_HIDDEN", "MAX_HIDDEN", "unusable", "why_not"]
