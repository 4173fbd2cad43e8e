"""Where the native training step applies: plain rules, so a config can be checked without
importing the step (ctypes, the C compiler) that `toy/native.py` loads."""

from __future__ import annotations

# the kernel keeps a few hidden-width vectors per sample on its threads' stacks (~110 KB at 1024)
MAX_HIDDEN = 1024
# `train.kernel: auto` takes the native step up to this width, where it was measured faster than the
# PyTorch step (one thread each, 2 instances, batch 1024; load ~9): 1.11-1.17x at 1024→128 and
# 2048→128 (density 0.01 and 1). Since its wide rows (8+ vectors: m > 112 with AVX-512) run as
# register-tiled blocks of 32 samples, it is faster at every width measured (CPU time, one short
# interleaved run each, load 5-6): 1.4-1.7x at 1024→128 and 2048→128, 1.35x at 1024→256 (density
# 0.01; 1.07x with every feature active), 1.23x at 2048→256, 1.3x at 512→512, 1.05x at
# 1024→1024. auto stays at 128 until longer runs confirm the thin margins
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
