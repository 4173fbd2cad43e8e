"""Bytes check for native_step.c: sha256 of parameters, gradients and losses after training steps
per config (widths 2, 5, 20, 30, 50, 256; every kind; independent / signed / boolean / correlated /
anticorrelated / exactly-k features; n = 24, 100 and 200; the two bench geometries). On 49d25d6
(AMD EPYC host with AVX-512) and up to session 37 (adfab85; again on an AMD EPYC Zen 4 host in
session 39), the last line reads
ALL 1d07286fe4d01cc034f852fb4a7179ab13d47f604ab1c15427c14f0ea55d60ee; since session 38's vector
draws for structured samples with 32 or more active features (only the 8 n=200 correlated lines
moved, as on AVX2) ALL 3cfb0f24c8fd4e2ce8984129e8b5c80f4996b1472987b4aa745d06a2a8d05048.
On an AVX2-only host (AMD EPYC, Zen 3; GCC 12): 746486df... on 77f0338; 095610d7... since session
13's AVX2 paths, which regrouped sums on that instruction set only (machine_code.py: the same
AVX-512 code at every width); 10435cd2... since session 14's pinned AVX2 tiles (the same again);
6fd28fd7... since session 38's vector draws for structured samples with 32 or more active
features (the same 8 lines). On an AMD Zen 4 host, where the widths up to 20 that are not
multiples of 8 take the AVX2 build (session 39, superpose.toy.native.ZEN4_AVX2_WIDTHS): their lines
are the AVX2 hosts' and the rest the AVX-512 hosts', ALL 5b563005... (every width built for AVX2
there gives the AVX2 hosts' 6fd28fd7..., line for line); since session 40 every Zen 4 build is
tuned for Ice Lake (ZEN4_TUNE), which regroups sums in 206 of the 230 lines: ALL 2275e4a2...
    PYTHONPATH=src python benchmarks/native_bytes/bytes_check.py"""

import hashlib
import sys

import torch
from kernels import hash_state, toy

from superpose.bench.toy import GeometryLoop
from superpose.toy import native
from superpose.toy.models import MODEL_KINDS

N = 24
SP = [
    [0.0] * N,
    [0.5 + 0.01 * f for f in range(N)],
    [0.8] * N,
    [0.9] * N,
    [0.95] * N,
    [0.97] * N,
    [0.985] * N,
    [0.995] * N,
    [0.999 - 0.0003 * f for f in range(N)],
]
FEATS = [
    ("uniform", {}),
    ("signed", {}),
    ("boolean", {}),
    ("uniform", {"structure": "correlated", "set_size": 2}),
    ("signed", {"structure": "anticorrelated", "set_size": 3}),
    ("uniform", {"structure": "exactly_k", "k": 3}),
    ("uniform", {"structure": "exactly_k", "k": 1}),
]
# wider n (200 features: many output vectors) at the bench widths
SP2 = [[s] * 200 for s in (0.0, 0.7, 0.9, 0.95, 0.97, 0.99, 0.999)]
SP3 = [[s] * 100 for s in (0.0, 0.5, 0.7, 0.9, 0.97, 0.99)]
STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 120
widths = [int(w) for w in sys.argv[2].split(",")] if len(sys.argv) > 2 else [2, 5, 20, 30, 50, 256]


def trained(lib, setup, l1: float, batch: int, steps: int) -> str:
    """sha256 of the losses of `steps` AdamW steps, then the parameters and gradients."""
    model, dist, imp, gen = setup
    step = native.NativeStep(lib, model, dist, imp, l1, batch, threads=1)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    h = hashlib.sha256()
    for _ in range(steps):
        h.update(step(gen).numpy().tobytes())
        opt.step()
    hash_state(h, model)
    return h.hexdigest()


all_h = hashlib.sha256()
runs = [
    (f"m={m}", m, SP, FEATS, lambda fi, m=m: 1000 * m + fi, lambda fi: 0.01 * (fi % 2), 203, STEPS)
    for m in widths
] + [
    (f"n=200 m={m}", m, SP2, [FEATS[0], FEATS[3], FEATS[5]], lambda fi, m=m: 7 * m + fi,
     lambda fi: 0.01 * fi, 301, STEPS // 2)
    for m in (20, 30) if m in widths
] + [  # n = 100: 4 features past whole vectors (abs-value's n), signed values too
    (f"n=100 m={m}", m, SP3, [FEATS[0], FEATS[1], FEATS[2]], lambda fi, m=m: 11 * m + fi,
     lambda fi: 0.01 * fi, 256, STEPS // 2)
    for m in (20, 30, 50) if m in widths
]  # fmt: skip
for label, m, sp, feats_list, seed, l1, batch, steps in runs:
    lib = native.library(m)
    for kind in MODEL_KINDS:
        for fi, (values, feats) in enumerate(feats_list):
            d = trained(lib, toy(kind, sp, m, values, feats, seed(fi)), l1(fi), batch, steps)
            all_h.update(d.encode())
            print(f"{label} {kind} {values} {feats.get('structure', 'indep')} {d[:16]}", flush=True)
# the bench geometries
for n, m, I, steps in [(200, 20, 20, 3 * STEPS), (400, 30, 50, STEPS)]:
    if widths != [2, 5, 20, 30, 50, 256]:
        break
    loop = GeometryLoop(n, m, I, kernel="native")
    loop.run(steps)
    h = hashlib.sha256()
    hash_state(h, loop.model)
    h.update(loop.final_loss(eval_batch=1024).numpy().tobytes())
    d = h.hexdigest()
    all_h.update(d.encode())
    print(f"geometry {n}->{m}x{I} {steps} steps {d[:16]}", flush=True)
print("ALL", all_h.hexdigest())
