"""Widths sweep: main's native_step.c against the worktree's, 2 steps per config (every kind, 4
feature kinds, n = 24 and 200), sha256 of losses and gradients, for each width given.
    PYTHONPATH=src python benchmarks/native_bytes/sweep.py [widths: a-b,c,...]
Both at 1-80, 96, 100, 112, 120, 128, 136, 160, 200, 256, 300, 512: the same bytes on branch nat12."""

import ctypes
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import torch

from superpose.features import FeatureConfig, FeatureDistribution
from superpose.toy import native
from superpose.toy.models import MODEL_KINDS, ToyModel

here = Path(__file__).resolve().parent
spec = sys.argv[1] if len(sys.argv) > 1 else "1-64,72,80,96,100,112,120,128,136,160,200,256"
widths = []
for part in spec.split(","):
    a, _, b = part.partition("-")
    widths += list(range(int(a), int(b or a) + 1))
ms = Path("/tmp/nat12_main_native_step.c")
ms.write_bytes(
    subprocess.run(
        ["git", "-C", str(here.parent.parent), "show", "main:src/superpose/toy/native_step.c"],
        capture_output=True,
        check=True,
    ).stdout
)
new_src = Path(os.environ.get("NEWSRC", here.parent.parent / "src/superpose/toy/native_step.c"))


def build(src, tag, m):
    out = Path(f"/tmp/nat12_sw_{tag}_m{m}.so")
    old = native.SOURCE
    native.SOURCE = src
    if tag == "new" and os.environ.get("NEWTAG"):
        out = Path(f"/tmp/nat12_sw_{os.environ['NEWTAG']}_m{m}.so")
    try:
        if not (tag == "main" and out.exists()):
            native._build(native._compiler(), m, out)
    finally:
        native.SOURCE = old
    lib = ctypes.CDLL(str(out))
    lib.toy_step.restype = ctypes.c_int
    lib.toy_step.argtypes = (
        [ctypes.c_int] * 9
        + [ctypes.c_float]
        + [ctypes.c_void_p] * 5
        + [ctypes.c_uint64]
        + [ctypes.c_void_p] * 5
    )
    lib.hidden = m
    return lib


FEATS = [
    ("uniform", {}),
    ("signed", {}),
    ("uniform", {"structure": "correlated", "set_size": 2}),
    ("uniform", {"structure": "exactly_k", "k": 3}),
]


def run(lib, m):
    h = hashlib.sha256()
    for N in (24, 200):
        SP = [[s] * N for s in (0.0, 0.5, 0.8, 0.9, 0.95, 0.97, 0.985, 0.995, 0.999)]
        for kind in MODEL_KINDS:
            for fi, (values, feats) in enumerate(FEATS):
                if N == 200 and fi in (1, 3):
                    continue
                gen = torch.Generator().manual_seed(m * 100 + fi)
                model = ToyModel(kind, len(SP), N, m, gen)
                with torch.no_grad():
                    model.b.normal_(0.0, 0.2, generator=gen)
                dist = FeatureDistribution(
                    FeatureConfig(sparsity=SP, values=values, **feats), len(SP), N
                )
                imp = torch.rand(len(SP), N, generator=gen) + 0.1
                st = native.NativeStep(lib, model, dist, imp, 0.01 * (fi % 2), 203, threads=1)
                for _ in range(2):
                    h.update(st(gen).numpy().tobytes())
                    for p in model.parameters():
                        h.update(p.grad.numpy().tobytes())
    return h.hexdigest()[:16]


bad = []
for m in widths:
    a, b = run(build(ms, "main", m), m), run(build(new_src, "new", m), m)
    print(m, a, b, "same" if a == b else "DIFF", flush=True)
    if a != b:
        bad.append(m)
print("DIFFERENT at", bad if bad else "none")
