"""A/B: BASE's native_step.c (env, default main) against the working tree's, in one process,
alternating chunks.
python ab.py N M I [rounds] [steps_per_chunk]; per path (dense / vector draws / geometric) and whole."""

import hashlib
import sys
import time
from pathlib import Path

import torch
from kernels import hash_state, kernels

from superpose.bench.toy import GeometryLoop
from superpose.features import FeatureConfig, FeatureDistribution
from superpose.toy import native

n, m, I = (int(a) for a in sys.argv[1:4])
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 10
chunk = int(sys.argv[5]) if len(sys.argv) > 5 else 50
libs = kernels(m)

warm = Path(f"/tmp/native_bytes_warm_{n}_{m}_{I}.pt")
loop = GeometryLoop(n, m, I, kernel="native")
if warm.exists():
    loop.model.load_state_dict(torch.load(warm))
else:
    loop.run(2000)
    torch.save(loop.model.state_dict(), warm)
model, dist, imp = loop.model, loop.dist, loop.importance
pmax = dist.density.max(dim=1).values
paths = {
    "blocks p>=0.05": pmax >= 0.05,
    "vector 0.02-0.05": (pmax >= 0.02) & (pmax < 0.05),
    "geometric <0.02": pmax < 0.02,
    "whole": pmax >= 0,
}
print(f"{n}->{m}x{I}:", {k: int(v.sum()) for k, v in paths.items()}, flush=True)
for name, sel in paths.items():
    idx = sel.nonzero().flatten()
    if len(idx) == 0:
        continue
    sub = model.select_instances(idx)
    one = FeatureDistribution(FeatureConfig(sparsity=(1 - dist.density[idx]).tolist()), len(idx), n)
    steps = {
        k: native.NativeStep(lib, sub, one, imp[idx], 0.0, 1024, threads=1)
        for k, lib in libs.items()
    }
    digests = {}  # same bytes on the same seed: loss, parameters and gradients
    for k, st in steps.items():
        h = hashlib.sha256(st(torch.Generator().manual_seed(5)).numpy().tobytes())
        hash_state(h, sub)
        digests[k] = h.hexdigest()
    same = digests["base"] == digests["new"]
    t = {k: [] for k in steps}
    gen = torch.Generator().manual_seed(1)
    for r in range(rounds):
        for k in ("base", "new") if r % 2 == 0 else ("new", "base"):
            c0 = time.process_time()
            for _ in range(chunk):
                steps[k](gen)
            t[k].append((time.process_time() - c0) / chunk * 1e3)
    med = {k: sorted(v)[len(v) // 2] for k, v in t.items()}
    mn = {k: min(v) for k, v in t.items()}
    print(
        f"  {name:18s} n_inst={len(idx):3d} same_bytes={same} base {med['base']:.3f} ms new {med['new']:.3f} ms "
        f"(median) ratio {med['base'] / med['new']:.3f}; min {mn['base']:.3f}/{mn['new']:.3f} = {mn['base'] / mn['new']:.3f}",
        flush=True,
    )
