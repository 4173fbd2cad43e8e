"""Widths sweep: BASE's native_step.c (env, default main) against the working tree's, 2 steps per
config (every kind, 4 feature kinds, n = 24, 100 and 200), sha256 of losses and gradients, per width.
    PYTHONPATH=src python benchmarks/native_bytes/sweep.py [widths: a-b,c,...]
Both at 1-80, 96, 100, 112, 120, 128, 136, 160, 200, 256, 300, 512: the same bytes on branch nat12."""

import hashlib
import sys

from kernels import kernels, toy

from superpose.toy import native
from superpose.toy.models import MODEL_KINDS

spec = sys.argv[1] if len(sys.argv) > 1 else "1-64,72,80,96,100,112,120,128,136,160,200,256"
widths = []
for part in spec.split(","):
    a, _, b = part.partition("-")
    widths += list(range(int(a), int(b or a) + 1))
FEATS = [
    ("uniform", {}),
    ("signed", {}),
    ("uniform", {"structure": "correlated", "set_size": 2}),
    ("uniform", {"structure": "exactly_k", "k": 3}),
]


def run(lib, m):
    h = hashlib.sha256()
    for N in (24, 100, 200):  # 100: a remainder of 4 past whole vectors
        SP = [[s] * N for s in (0.0, 0.5, 0.8, 0.9, 0.95, 0.97, 0.985, 0.995, 0.999)]
        for kind in MODEL_KINDS:
            for fi, (values, feats) in enumerate(FEATS):
                if N == 200 and fi in (1, 3):
                    continue
                model, dist, imp, gen = toy(kind, SP, m, values, feats, m * 100 + fi)
                st = native.NativeStep(lib, model, dist, imp, 0.01 * (fi % 2), 203, threads=1)
                for _ in range(2):
                    h.update(st(gen).numpy().tobytes())
                    for p in model.parameters():
                        h.update(p.grad.numpy().tobytes())
    return h.hexdigest()[:16]


bad = []
for m in widths:
    libs = kernels(m)
    a, b = run(libs["base"], m), run(libs["new"], m)
    print(m, a, b, "same" if a == b else "DIFF", flush=True)
    if a != b:
        bad.append(m)
print("DIFFERENT at", bad if bad else "none")
