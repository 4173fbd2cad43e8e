"""Bytes check for native_step.c: sha256 of parameters, gradients and losses after training steps
per config (widths 2, 5, 20, 30, 50, 256; every kind; independent / signed / boolean / correlated /
anticorrelated / exactly-k features; n = 24 and 200; the two bench geometries). On main (49d25d6,
AMD EPYC host) the last line reads ALL d2535043c292e4a0e48fe734e84aa16ca9ca4ea4618b3877f6ebea1accb8d237.
    PYTHONPATH=src python benchmarks/native_bytes/bytes_check.py"""

import hashlib
import sys

import torch

from superpose.bench.toy import GeometryLoop
from superpose.features import FeatureConfig, FeatureDistribution
from superpose.toy import native
from superpose.toy.models import MODEL_KINDS, ToyModel

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
STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 120
widths = [int(w) for w in sys.argv[2].split(",")] if len(sys.argv) > 2 else [2, 5, 20, 30, 50, 256]
all_h = hashlib.sha256()
for m in widths:
    lib = native.library(m)
    for kind in MODEL_KINDS:
        for fi, (values, feats) in enumerate(FEATS):
            gen = torch.Generator().manual_seed(1000 * m + fi)
            model = ToyModel(kind, len(SP), N, m, gen)
            with torch.no_grad():
                model.b.normal_(0.0, 0.2, generator=gen)
            dist = FeatureDistribution(
                FeatureConfig(sparsity=SP, values=values, **feats), len(SP), N
            )
            imp = torch.rand(len(SP), N, generator=gen) + 0.1
            l1 = 0.01 if fi % 2 else 0.0
            step = native.NativeStep(lib, model, dist, imp, l1, 203, threads=1)
            opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
            h = hashlib.sha256()
            for _ in range(STEPS):
                loss = step(gen)
                h.update(loss.numpy().tobytes())
                opt.step()
            for p in model.parameters():
                h.update(p.detach().numpy().tobytes())
                h.update(p.grad.numpy().tobytes())
            d = h.hexdigest()
            all_h.update(d.encode())
            print(f"m={m} {kind} {values} {feats.get('structure', 'indep')} {d[:16]}", flush=True)
# wider n (200 features: many output vectors) at the bench widths, every kind
SP2 = [
    [0.0] * 200,
    [0.7] * 200,
    [0.9] * 200,
    [0.95] * 200,
    [0.97] * 200,
    [0.99] * 200,
    [0.999] * 200,
]
for m in [w for w in (20, 30) if w in widths]:
    lib = native.library(m)
    for kind in MODEL_KINDS:
        for fi, (values, feats) in enumerate([FEATS[0], FEATS[3], FEATS[5]]):
            gen = torch.Generator().manual_seed(7 * m + fi)
            model = ToyModel(kind, len(SP2), 200, m, gen)
            with torch.no_grad():
                model.b.normal_(0.0, 0.2, generator=gen)
            dist = FeatureDistribution(
                FeatureConfig(sparsity=SP2, values=values, **feats), len(SP2), 200
            )
            imp = torch.rand(len(SP2), 200, generator=gen) + 0.1
            step = native.NativeStep(lib, model, dist, imp, 0.01 * fi, 301, threads=1)
            opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
            h = hashlib.sha256()
            for _ in range(STEPS // 2):
                h.update(step(gen).numpy().tobytes())
                opt.step()
            for p in model.parameters():
                h.update(p.detach().numpy().tobytes())
                h.update(p.grad.numpy().tobytes())
            d = h.hexdigest()
            all_h.update(d.encode())
            print(
                f"n=200 m={m} {kind} {values} {feats.get('structure', 'indep')} {d[:16]}",
                flush=True,
            )
# the bench geometries
for n, m, I, steps in [(200, 20, 20, 3 * STEPS), (400, 30, 50, STEPS)]:
    if widths != [2, 5, 20, 30, 50, 256]:
        break
    loop = GeometryLoop(n, m, I, kernel="native")
    loop.run(steps)
    h = hashlib.sha256()
    for p in loop.model.parameters():
        h.update(p.detach().numpy().tobytes())
        h.update(p.grad.numpy().tobytes())
    h.update(loop.final_loss(eval_batch=1024).numpy().tobytes())
    d = h.hexdigest()
    all_h.update(d.encode())
    print(f"geometry {n}->{m}x{I} {steps} steps {d[:16]}", flush=True)
print("ALL", all_h.hexdigest())
