"""Inputs of a zoo network with the exact value of every circuit at every layer (plain torch;
exported as sampler.py, no superpose needed).

`sample(folder, batch, seed)` returns a dict:
  x:      the network's input (Model(x) reads it),
  active: per recorded layer, [batch, n_circuits] bool — which circuits/features are on (None
          where the layer has no ground truth),
  exact:  per recorded layer, [batch, n_values] — every circuit's exact activations, in the order
          of that layer's ground-truth directions (None where the layer has no ground truth).
The draws are superpose's own (same generator calls): same seed, same inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch


def _choose(batch: int, n: int, active: int, gen: torch.Generator) -> torch.Tensor:
    """`active` distinct circuits per input: [batch, active]."""
    return torch.rand(batch, n, generator=gen).argsort(1)[:, :active]


def _cis2(p: dict, t: dict, batch: int, active: int, gen: torch.Generator) -> tuple:
    T, d = p["circuits"], p["width"]
    idx = _choose(batch, T, active, gen)
    mask = torch.zeros(batch, T, dtype=torch.bool).scatter_(1, idx, True)
    x = torch.zeros(batch, T, d)
    if "domains" in p:  # compiled: on-indicator, then each circuit's inputs from its domain
        vals = torch.zeros(batch, active, d)
        vals[..., 0], vals[..., 1] = 2 - p["threshold"], 1 - p["threshold"]
        for i, (domain, n) in enumerate(p["domains"]):
            rows = t[f"sampler.domain{i}"].bool()[idx]
            vals[..., 2 : 2 + n][rows] = _domain(domain, int(rows.sum()), n, gen)
    elif p["threshold"] is None:  # custom circuits: uniform [0, 1) inputs
        vals = torch.rand(batch, active, d, generator=gen)
    else:  # on-indicator (2 − β, 1 − β), values v + offset with ‖v‖ ≤ 1
        v = torch.randn(batch, active, d - 2, generator=gen)
        v = v / v.norm(dim=-1, keepdim=True).clamp_min(1e-9)
        v = v * torch.rand(batch, active, 1, generator=gen)
        beta = p["threshold"]
        ind = torch.tensor([2 - beta, 1 - beta]).expand(batch, active, 2)
        vals = torch.cat([ind, v + p["offset"]], -1)
    x.scatter_(1, idx.unsqueeze(-1).expand(-1, -1, d), vals)
    exact, a = [], x
    for l in range(t["sampler.weights"].shape[1]):  # a^l = ReLU(w^l a^{l−1} + b^l) per circuit
        w, b = t["sampler.weights"][:, l], t["sampler.biases"][:, l]
        a = torch.relu(torch.einsum("tij,btj->bti", w, a) + b)
        exact.append(a.reshape(batch, T * d))
    return x, [mask] * len(exact), exact


def _domain(domain: str, rows: int, n: int, gen: torch.Generator) -> torch.Tensor:
    """A compiled circuit's inputs: [rows, n] uniform, boolean, in the ball around 1, one-hot."""
    if domain == "uniform":
        return torch.rand(rows, n, generator=gen)
    if domain == "boolean":
        return (torch.rand(rows, n, generator=gen) < 0.5).float()
    if domain == "ball":
        v = torch.randn(rows, n, generator=gen)
        radius = torch.rand(rows, 1, generator=gen)
        return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-9) * radius + 1.0
    k = int(domain.split(":")[1])  # onehot:K
    hot = torch.randint(0, k, (rows, n // k), generator=gen)
    return torch.zeros(rows, n // k, k).scatter_(2, hot.unsqueeze(-1), 1.0).reshape(rows, n)


def _cis1(p: dict, t: dict, batch: int, active: int, gen: torch.Generator) -> tuple:
    T, d = p["circuits"], p["width"]
    idx = _choose(batch, T, active, gen)
    mask = torch.zeros(batch, T, dtype=torch.bool).scatter_(1, idx, True)
    v = torch.randn(batch, active, d, generator=gen)
    v = v / v.norm(dim=-1, keepdim=True)
    x = torch.zeros(batch, T, d).scatter_(1, idx.unsqueeze(-1).expand(-1, -1, d), v)
    exact, r = [], x
    w_in, bias, w_out = t["sampler.w_in"], t["sampler.bias"], t["sampler.w_out"]
    for l in range(w_in.shape[1]):  # r^l = r^{l−1} + W_out ReLU(W_in r^{l−1} + b) per circuit
        h = torch.relu(torch.einsum("tmd,btd->btm", w_in[:, l], r) + bias[:, l])
        r = r + torch.einsum("tdm,btm->btd", w_out[:, l], h)
        exact.append(r.reshape(batch, T * d))
    return x, [mask] * len(exact), exact


def _boolean_inputs(batch: int, m: int, s: int, gen: torch.Generator) -> torch.Tensor:
    """`s` of m boolean features on per input: [batch, m]."""
    on = torch.rand(batch, m, generator=gen).topk(s, dim=1).indices
    return torch.zeros(batch, m).scatter_(1, on, 1.0)


def _uand(p: dict, t: dict, batch: int, active: int, gen: torch.Generator) -> tuple:
    x = _boolean_inputs(batch, p["features"], active, gen)
    pairs = t["sampler.pairs"]
    y = x[:, pairs[:, 0]] * x[:, pairs[:, 1]]  # AND of every listed pair: [batch, P]
    return x, [y > 0, y > 0], [y, y]


def _deep_boolean(p: dict, t: dict, batch: int, active: int, gen: torch.Generator) -> tuple:
    x = _boolean_inputs(batch, p["features"], active, gen)
    exact, on, y = [], [], x
    for l in range(p["depth"]):  # wire g of layer l+1 = AND or OR of two wires of layer l
        gates, is_or = t[f"sampler.gates{l}"], t[f"sampler.is_or{l}"].bool()
        a, b = y[:, gates[:, 0]], y[:, gates[:, 1]]
        y = torch.where(is_or, torch.maximum(a, b), a * b)
        # a direction (a wire's neurons of one readout sign) = ReLU(its input + their bias): the
        # gate's input sum a + b in the computation layer, the wire in the correction layer
        for site, inp in ((f"compute{l + 1}", a + b), (f"correct{l + 1}", y)):
            wire = t[f"sampler.{site}.wire"].long()
            exact.append(torch.relu(inp[:, wire] + t[f"sampler.{site}.bias"]))
            on.append(y > 0.5)
    exact.append(y)  # the readout: output unit g = wire g
    return x, [*on, y > 0.5], exact


def _sparse(batch: int, n: int, prob: float, low: float, gen: torch.Generator) -> torch.Tensor:
    """Each of n features on with probability `prob`, uniform on [low, 1) when on: [batch, n]."""
    on = torch.rand(batch, n, generator=gen) < prob
    u = torch.rand(batch, n, generator=gen)
    return torch.where(on, (1 - low) * u + low, 0.0)


def _tms(p: dict, t: dict, batch: int, active: int, gen: torch.Generator) -> tuple:
    x = _sparse(batch, p["features"], p["p"], 0.0, gen)
    return x, [x != 0, x != 0], [x, x]


def _resid_mlp(p: dict, t: dict, batch: int, active: int, gen: torch.Generator) -> tuple:
    x = _sparse(batch, p["features"], p["p"], -1.0, gen)
    # labels: x + ReLU(x) (noisy, Braun et al.) or W_EᵀW_E x + ReLU(x) (clean)
    y = torch.relu(x) + (x if p["labels"] == "noisy" else x @ t["sampler.gram"])
    n = p["naive_neurons"]  # the naive network: neuron i computes ReLU(x_i) for i < n
    mlp = torch.relu(x[:, :n]) if n else None
    return x, [x != 0, None if mlp is None else x[:, :n] != 0, None, x != 0], [x, mlp, None, y]


KINDS = {
    "cis2": _cis2,
    "compiled": _cis2,
    "cis1": _cis1,
    "uand": _uand,
    "deep_boolean": _deep_boolean,
    "tms": _tms,
    "resid_mlp": _resid_mlp,
}


def sample_from(
    spec: dict, tensors: dict, batch: int, seed: int = 0, active: int | None = None
) -> dict:
    """Draw `batch` inputs (spec: ground_truth.json "sampler"; tensors: ground_truth.safetensors).

    active: circuits on per input for built networks (default the network's max); learned models
    draw each feature on with its probability instead."""
    gen = torch.Generator().manual_seed(seed)
    x, on, exact = KINDS[spec["kind"]](spec, tensors, batch, active or spec.get("active", 0), gen)
    return {"x": x, "active": on, "exact": exact}


def sample(folder: str, batch: int, seed: int = 0, active: int | None = None) -> dict:
    """Draw from an export folder (ground_truth.json + ground_truth.safetensors)."""
    from safetensors.torch import load_file

    root = Path(folder)
    spec = json.loads((root / "ground_truth.json").read_text())["sampler"]
    return sample_from(spec, load_file(str(root / "ground_truth.safetensors")), batch, seed, active)
