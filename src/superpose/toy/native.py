"""The fused CPU training step (native_step.c), compiled on first use with the system C compiler.

One call draws every instance's batch and returns the loss and the gradients of one training step,
sample by sample in C, with work proportional to the active features instead of the whole
[instances, batch, features] tensor (see native_step.c). It applies on the CPU to every feature
structure and up to MAX_HIDDEN hidden units (`auto` up to AUTO_MAX_HIDDEN, where it is the
faster step); the trainer uses the PyTorch step elsewhere and when no C compiler is found.

The shared library is cached under $XDG_CACHE_HOME/superpose (or ~/.cache/superpose), keyed by
the source, the compiler and the machine, and loaded through ctypes (no build step at install).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import warnings
from functools import cache
from pathlib import Path

import torch

from ..base.errors import SuperposeError
from ..base.files import cache_dir
from ..features import FeatureDistribution
from .limits import AUTO_MAX_HIDDEN, unusable, why_not
from .limits import MAX_HIDDEN as MAX_HIDDEN  # re-exported
from .models import ToyModel

SOURCE = Path(__file__).with_name("native_step.c")
VALUES = ("uniform", "signed", "boolean")
STRUCTURES = ("independent", "correlated", "anticorrelated", "exactly_k")


@cache
def _cpuinfo() -> str | None:
    """/proc/cpuinfo, read once (None where there is none)."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return None


def _cpu_id() -> str:
    text = _cpuinfo()
    if text is None:
        return platform.processor()
    return next((ln for ln in text.splitlines() if ln.startswith(("flags", "Features"))), "")


def _compiler() -> str | None:
    names = [os.environ["CC"]] if os.environ.get("CC") else ["cc", "gcc", "clang"]
    return next((path for name in names if (path := shutil.which(name))), None)


# reassociating float sums lets the compiler vectorise the dot products (results stay
# deterministic: the same binary sums in the same order every time)
FLAGS = ("-O3", "-fno-math-errno", "-fno-trapping-math", "-fno-signed-zeros", "-fassociative-math")
# tried in turn: whole AVX-512 registers in the loops the compiler vectorises (GCC and Clang use
# half of them by default; the step's own vector types use them whole either way), then without
# (compilers that do not know the option), then without -march=native (nor that)
ARCH = (("-march=native", "-mprefer-vector-width=512"), ("-march=native",), ())
AVX2 = ("-march=native", "-mno-avx512f")
# AMD Zen 4 runs each 512-bit operation as two 256-bit halves. There, at hidden widths up to 20
# that are not multiples of 8, the step built without AVX-512 (its AVX2 code, 8-float vectors)
# trained 1.10x faster in whole runs (geometric mean; 0.98-1.31x by width, in two geometries),
# while at 16, 24 and from 32 the AVX-512 build is the faster (1.1-1.45x; at 21-31 a tie):
# benchmarks/native_bytes/isa_sweep.py. Elsewhere, and on other CPUs, AVX-512 where present.
ZEN4_AVX2_WIDTHS = frozenset(m for m in range(1, 21) if m % 8)
# GCC 12 takes Zen 4 for Zen 3 (-march=native tunes for znver3). Tuned for Ice Lake instead, both
# builds trained faster there in whole runs alternating (GCC 12): 1.01-1.15x at widths 2-50, 128
# and 256, 1.02-1.03x at 200->20x20 and 400->30x50, a tie at 800->80x10 (isa_sweep.py --tune;
# profile_train.md). It changes the Zen 4 bytes (each build still the same every run).
ZEN4_TUNE = "-mtune=icelake-server"


def _zen4(cpuinfo: str) -> bool:
    """Whether /proc/cpuinfo's first CPU is an AMD family-25 core with AVX-512 (Zen 4)."""
    first = cpuinfo.split("\n\n", 1)[0].splitlines()
    fields = {k.strip(): v.strip() for k, _, v in (ln.partition(":") for ln in first)}
    flags = fields.get("flags", "").split()
    return (
        fields.get("vendor_id") == "AuthenticAMD"
        and fields.get("cpu family") == "25"
        and ("avx512f" in flags)
    )


def _tuned(archs: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """`archs` with ZEN4_TUNE added to the first (the rest follow where a compiler refuses it)."""
    return ((*archs[0], ZEN4_TUNE), *archs)


def _arch(hidden: int) -> tuple[tuple[str, ...], ...]:
    """The instruction-set options to try in turn for width `hidden` on this machine."""
    if not _zen4(_cpuinfo() or ""):
        return ARCH
    return _tuned((AVX2, *ARCH) if hidden in ZEN4_AVX2_WIDTHS else ARCH)


def _build(
    cc: str, hidden: int, target: Path, source: Path, archs: tuple[tuple[str, ...], ...]
) -> None:
    """Compile `source` for hidden width `hidden` into `target`, with the first of `archs` the
    compiler takes (atomically: concurrent processes may build at once)."""
    base = [cc, *FLAGS, f"-DMH={hidden}", "-fPIC", "-shared", "-pthread"]
    tmp = Path(tempfile.mkdtemp(dir=target.parent)) / target.name
    err = ""
    for arch in archs:
        cmd = [*base, *arch, str(source), "-o", str(tmp), "-lm"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            os.replace(tmp, target)
            shutil.rmtree(tmp.parent, ignore_errors=True)
            return
        lines = proc.stderr.splitlines()
        err = next((ln for ln in lines if "error" in ln), lines[-1] if lines else "")
    shutil.rmtree(tmp.parent, ignore_errors=True)
    raise RuntimeError(f"{cc} could not compile {source.name}: {err}")


@cache
def library(hidden: int, source: Path = SOURCE) -> ctypes.CDLL | None:
    """The step compiled for `hidden` hidden units, or None (with a warning) when this machine
    cannot build it. `source`: another version of native_step.c (benchmarks/native_bytes
    compares two); builds are cached by their source's bytes."""
    cc = _compiler()
    if cc is None:
        warnings.warn("no C compiler found: training with the PyTorch step", stacklevel=2)
        return None
    text = source.read_bytes()
    archs = _arch(hidden)
    key = hashlib.sha256(
        b"\0".join([text, cc.encode(), platform.machine().encode(), _cpu_id().encode()])
        + repr((FLAGS, archs)).encode()
        + hidden.to_bytes(4, "little")
    ).hexdigest()[:16]
    root = cache_dir()
    target = root / f"native_step-m{hidden}-{key}.so"
    try:
        if not target.exists():
            root.mkdir(parents=True, exist_ok=True)
            _build(cc, hidden, target, source, archs)
        lib = ctypes.CDLL(str(target))
    except (OSError, RuntimeError) as err:
        warnings.warn(f"native training step unavailable ({err}): using PyTorch", stacklevel=2)
        return None
    lib.toy_step.restype = ctypes.c_int
    # pointers as plain addresses (data_ptr() ints, None for NULL): cheaper per call than casts
    lib.toy_step.argtypes = [ctypes.c_int] * 9 + [ctypes.c_float] + [ctypes.c_void_p] * 5
    lib.toy_step.argtypes += [ctypes.c_uint64] + [ctypes.c_void_p] * 5
    lib.hidden = hidden  # the width it was compiled for
    return lib


def _ptr(t: torch.Tensor | None) -> int | None:
    return None if t is None else t.data_ptr()


class NativeStep:
    """Computes one step's gradients into the model's `.grad` and returns the per-instance loss."""

    def __init__(
        self,
        lib: ctypes.CDLL,
        model: ToyModel,
        dist: FeatureDistribution,
        importance: torch.Tensor,  # [instances, features]
        l1_hidden: float,
        batch: int,
        threads: int | None = None,
    ):
        if lib.hidden != model.n_hidden:
            raise ValueError(
                f"this step is compiled for {lib.hidden} hidden units, not {model.n_hidden}"
            )
        self.lib, self.model, self.batch, self.l1 = lib, model, batch, float(l1_hidden)
        self.importance = importance.float().contiguous()
        self.density = dist.density.float().contiguous()
        self.values = VALUES.index(dist.config.values)
        features = dist.config
        self.structure = (STRUCTURES.index(features.structure), features.set_size, features.k)
        self.threads = threads or torch.get_num_threads()
        self._fixed = (self.importance.data_ptr(), self.density.data_ptr())
        self._grads: tuple | None = None

    @torch.no_grad()
    def __call__(self, generator: torch.Generator, x_out: torch.Tensor | None = None):
        """One step on a fresh batch drawn from `generator`'s next seed; `x_out` (zeros
        [instances, batch, features]) receives the batch when given (for tests)."""
        model = self.model
        if x_out is not None:
            expected = (model.n_instances, self.batch, model.n_features)
            if tuple(x_out.shape) != expected or not x_out.is_contiguous():
                raise ValueError(f"x_out must be a contiguous zero tensor of shape {expected}")
        W, b = model.W.detach(), model.b.detach()
        w_out = None if model.tied else model.W_out.detach()
        if self._grads is None or self._grads[0].shape != W.shape:
            # written whole by every call: allocated once, handed to the optimiser each step
            self._grads = (torch.empty_like(W), None if w_out is None else torch.empty_like(w_out),
                           torch.empty_like(b))  # fmt: skip
        g_w, g_out, g_b = self._grads
        loss = torch.empty(W.shape[0])
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        status = self.lib.toy_step(
            self.threads, W.shape[0], W.shape[2], self.batch, model.spec.native_code,
            self.values, *self.structure, self.l1, W.data_ptr(), _ptr(w_out), b.data_ptr(),
            self._fixed[0], self._fixed[1], seed, g_w.data_ptr(), _ptr(g_out), g_b.data_ptr(),
            loss.data_ptr(), _ptr(x_out),
        )  # fmt: skip
        if status:
            raise MemoryError("native training step: out of memory or threads")
        model.W.grad, model.b.grad = g_w, g_b
        if w_out is not None:
            model.W_out.grad = g_out
        return loss


def native_step(
    setting: str,
    model: ToyModel,
    dist: FeatureDistribution,
    importance: torch.Tensor,  # [instances, features]
    l1_hidden: float,
    batch: int,
) -> NativeStep | None:
    """The native step for a run with `train.kernel` = auto | native | torch, or None when the
    run uses the PyTorch step (torch; auto where the native step does not apply, or above
    AUTO_MAX_HIDDEN hidden units, where it is slower)."""
    if setting == "torch" or (setting == "auto" and model.n_hidden > AUTO_MAX_HIDDEN):
        return None
    reason = why_not(str(dist.device), model.n_hidden)
    lib = None if reason else library(model.n_hidden)
    if lib is None and reason is None:
        reason = "no C compiler could build it on this machine"
    if reason:
        if setting == "native":
            raise SuperposeError(unusable(reason))
        return None
    return NativeStep(lib, model, dist, importance, l1_hidden, batch)
