"""`export(entry, out)`: a zoo entry as files that load without superpose.

out/model.py                 plain torch.nn.Module (ops from ground_truth.json "architecture")
out/weights.safetensors      its state dict
out/sampler.py               plain-torch sampler: inputs, which circuits are on, exact values
out/ground_truth.json        name, version, content hash, layers and what their truth is, sampler
                             spec, the construction's own description (neurons per circuit, …)
out/ground_truth.safetensors every layer's directions (COO) and circuit of each direction, and
                             the tensors the sampler needs (circuit weights, gates, pairs, …)
out/README.md                how to load it in a few lines of plain torch
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import torch

from .entry import ZooEntry

FILES = (
    "model.py",
    "sampler.py",
    "weights.safetensors",
    "ground_truth.json",
    "ground_truth.safetensors",
    "README.md",
)
SAVE_MARKER = ("ground_truth.json", "content_sha256")  # how a previous export is recognised

README = """# {name} (superpose zoo, version {version})

{description}

Content hash (sha256 of weights, truth and sampler tensors, architecture): `{hash}`

Needs only `torch` and `safetensors`:

```python
import json, torch
from safetensors.torch import load_file
from model import load          # model.py in this folder
from sampler import sample      # sampler.py in this folder

model = load(".")                          # torch.nn.Module; model(x) -> activations per layer
s = sample(".", batch=64, seed=0)          # s["x"], s["active"][l], s["exact"][l]
acts = model(s["x"])                       # layers: {layers}
truth = json.load(open("ground_truth.json"))
t = load_file("ground_truth.safetensors")  # layerK.index/value/group: directions of layer K
k = 1                                      # a layer with ground truth: {truth_layers}
n = truth["layers"][k - 1]["directions"]; D = truth["layers"][k - 1]["width"]
dirs = torch.sparse_coo_tensor(t[f"layer{{k}}.index"].long(), t[f"layer{{k}}.value"], (n, D)).to_dense()
groups = t[f"layer{{k}}.group"]            # circuit/feature of each direction
```

`s["exact"][l]` holds, per sample, the exact values of layer l's directions (same order as `dirs`),
`s["active"][l]` which circuits are on (None where a layer has no ground truth). Layers:

{layer_rows}
"""


def save_sorted(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """`safetensors.torch.save_file` with the header's metadata in sorted key order. safetensors
    writes it from a Rust HashMap, whose order changes from save to save (3 keys: 6 orders in 20
    saves), so an export of the same entry differed in its bytes; the tensors' part is kept."""
    from safetensors.torch import save

    data = save(tensors, metadata=metadata)
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)  # as safetensors pads it: tensors stay 8-byte aligned
    path.write_bytes(len(text).to_bytes(8, "little") + text + data[8 + n :])


def export(entry: ZooEntry, out: str | Path) -> dict[str, Path]:
    """Write the export of `entry` into `out` (new or a previous export; all files at once)."""
    from ..base.files import staged_folder

    out = Path(out)
    truth = entry.ground_truth()
    plain = resources.files("superpose.zoo.plain")
    layer_rows = "\n".join(
        f"- {r['layer']} `{r['name']}` (width {r['width']}): {r['truth'] or 'no ground truth'}"
        for r in truth["layers"]
    )
    with staged_folder(out, FILES, SAVE_MARKER) as tmp:
        for name in ("model.py", "sampler.py"):
            (tmp / name).write_text((plain / name).read_text())
        meta = {"name": entry.name, "version": str(entry.version), "sha256": entry.content_hash}
        save_sorted(entry.weights, tmp / "weights.safetensors", meta)
        tensors = {**entry.truth_tensors(), **entry.sampler_tensors}
        save_sorted(tensors, tmp / "ground_truth.safetensors", meta)
        (tmp / "ground_truth.json").write_text(json.dumps(truth))
        (tmp / "README.md").write_text(
            README.format(
                name=entry.name,
                version=entry.version,
                description=entry.description,
                hash=entry.content_hash,
                layers=", ".join(l.name for l in entry.layers),
                truth_layers=", ".join(r["name"] for r in truth["layers"] if r["truth"]),
                layer_rows=layer_rows,
            )
        )
    return {name: out / name for name in FILES}
