"""Compile your own small circuits into one network in superposition (the CiS2 construction).

`compile(circuits, width=D, max_active=z)` and `superpose compile SPEC.yaml --out DIR`. A circuit is
an nn.Sequential of Linear, ReLU, …, ReLU; a list of (weight, bias) arrays; a .safetensors file (a
Sequential's state_dict: "0.weight", "0.bias", "2.weight", …, layers in numeric order); or a family
(`families.py`: rotation, random_mlp, and/or/xor, modadd, chain — in a spec a chain's `stages` may be
families or `user` files, each reading the previous one's output; a saved network keeps the user
layers and checks each stage against its recorded hash on load). Each becomes a CiS2 small circuit
of width d = 2 + its widest layer (over all circuits):
- neurons 0, 1: an on-indicator added by the compiler, a0 = ReLU(2α − β), a1 = ReLU(2α − β − 1),
  α = a0 − a1 (1 on, 0 off; inputs (2 − β, 1 − β) when on);
- neurons 2 … 2 + n_l − 1: the circuit's own neurons, pre_j = W_j·a + (b_j + δ)·α − δ — exactly
  ReLU(W a + b) when on, −δ (off with margin δ) when off. The circuit's bias moves into the weight
  from α, so every large neuron's bias is the same for all circuits it hosts (−β, −β − 1, −δ) and
  biases of any sign compile;
- ragged widths: neurons past n_l have no weights and bias −δ (always off);
- ragged depths (`ragged: pad`): a shallower circuit gets identity layers after its last — exact,
  its outputs are ≥ 0 after ReLU; ground_truth.json marks them; `ragged: refuse` says so instead.
Then `build_cis2` with these circuits: allocation, embedding, and the strict verification at every
z ≤ max_active, active and inactive (refused with one line when it fails). A loaded network is
checked against its config (every tensor the compiler derives, user circuits by their hash) and
verified again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field
from torch import nn

from ..base.config import FrozenConfig, validate
from ..base.errors import SuperposeError
from .cis2 import CiS2, CiS2Config, CiS2Network, block_bias, build_cis2
from .cis2 import ground_truth as cis2_ground_truth
from .construction import Sample, SmallCircuitsNet, register_construction
from .families import (
    GATE_OUT,
    Circuit,
    chain,
    check_domain,
    draw_inputs,
    gate,
    modadd,
    random_mlp,
    rotation,
)
from .small import SmallCircuits, sample_inputs

MAX_WIDTH = 1022  # CiS2Config.circuit_width ≤ 1024, 2 neurons go to the on-indicator


class CircuitSpec(FrozenConfig):
    name: str = Field(pattern=r"^\S{1,80}$", description="label in the ground truth")
    family: Literal["user", "rotation", "random_mlp", "and", "or", "xor", "modadd", "chain"] = (
        Field(description="user (weights from `file`), a built-in family, or chain (`stages`)")
    )
    count: int = Field(
        1, ge=1, le=1_000_000, description="copies, named NAME.i, seeds seed + i (families)"
    )
    layers: int = Field(3, ge=1, le=64, description="depth of rotation and random_mlp circuits")
    width: int = Field(2, ge=1, le=MAX_WIDTH, description="width of random_mlp circuits")
    modulus: int = Field(3, ge=2, le=32, description="p of modadd (one-hot, p² hidden neurons)")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="seed of random families")
    file: str | None = Field(
        None, description="user: .safetensors of an nn.Sequential's state_dict (cwd-relative)"
    )
    inputs: str | None = Field(
        None,
        pattern=r"^(uniform|boolean|ball|onehot:\d+)$",
        description="input domain sampled to verify (default: the family's; user: uniform [0,1))",
    )
    widths: tuple[int, ...] | None = Field(
        None, description="user: layer widths [n_0 … n_L] (recorded by the compiler)"
    )
    sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="user: hash of the weights (recorded)"
    )
    stages: tuple[CircuitSpec, ...] = Field(
        (), description="chain: circuits in series (families or user files), each reads the last"
    )


class CompiledConfig(FrozenConfig):
    construction: Literal["compiled"] = Field("compiled", description="construction: compiled")
    circuits: tuple[CircuitSpec, ...] = Field(min_length=1, description="the circuits to compile")
    width: int = Field(
        2000, ge=2, le=10_000_000, description="large-network width D (a multiple of d)"
    )
    max_active: int = Field(1, ge=1, le=1000, description="most circuits on at once (z)")
    redundancy: int = Field(6, ge=2, le=64, description="embedding redundancy S")
    allocation: str = Field("affine", pattern="^(prime|affine|random)$", description="allocation")
    positions: str = Field("fixed", pattern="^(fixed|fresh)$", description="per-layer positions")
    embedding: str = Field(
        "linear",
        pattern="^(linear|linked)$",
        description="weight embedding (CiS2Config.embedding); 'linked' shares the circuits' mean "
        "weights through the link matrix — made for alike circuits, it adds cross-talk to unlike ones",
    )
    unembedding: str = Field(
        "overlap",
        pattern="^(mean|plain|overlap)$",
        description="readout correction (CiS2Config.unembedding); 'overlap' removes the expected "
        "bleed only, so a few circuits in a wide network read off unbiased ('mean' does not)",
    )
    indicator_threshold: float = Field(
        0.5, gt=0, lt=1, description="β of the on-indicator a0 = ReLU(2α − β)"
    )
    value_margin: float = Field(
        1 / 3, gt=0, le=4, description="δ: an off circuit neuron sits at −δ"
    )
    ragged: Literal["pad", "refuse"] = Field(
        "pad",
        description="depths/widths that differ: pad (identity layers, unused neurons) or refuse",
    )
    max_load: float = Field(1.0, gt=0, le=100, description="largest allowed z·T·d²/D²")
    verify_batch: int = Field(
        64, ge=8, le=100_000, description="sampled inputs per z used to verify"
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed (positions, verification)")


# --- user circuits → Circuit ------------------------------------------------------------------


def _tensor(value: Any, where: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):  # a module's parameters: weights are data here
        value = value.detach().cpu()
    try:
        return torch.as_tensor(np.asarray(value, dtype=np.float32))
    except (TypeError, ValueError) as err:
        raise SuperposeError(f"{where}: not a numeric array ({err})") from None


def _leaves(mod: nn.Module) -> list[nn.Module]:
    if isinstance(mod, nn.Sequential | nn.ModuleList):
        return [leaf for child in mod for leaf in _leaves(child)]
    return [mod]


def from_module(mod: nn.Module, name: str, where: str) -> Circuit:
    """A Circuit from an nn.Sequential (nested ones too) of Linear, ReLU, …, Linear, ReLU."""
    if not isinstance(mod, nn.Sequential | nn.ModuleList | nn.Linear | nn.ReLU):
        raise SuperposeError(
            f"{where}: a {type(mod).__name__} module; give nn.Sequential(nn.Linear, nn.ReLU, …) "
            "(the compiler reads layers, not forward())"
        )
    ws, bs, want_linear = [], [], True
    for j, leaf in enumerate(_leaves(mod)):
        kind = type(leaf).__name__
        if isinstance(leaf, nn.Linear):
            if not want_linear:
                raise SuperposeError(
                    f"{where} module {j}: Linear after a Linear; a ReLU must follow each"
                )
            ws.append(leaf.weight.detach().float().cpu())
            b = leaf.bias
            bs.append(b.detach().float().cpu() if b is not None else torch.zeros(leaf.out_features))
        elif isinstance(leaf, nn.ReLU):
            if want_linear:
                raise SuperposeError(f"{where} module {j}: ReLU without a Linear before it")
        else:
            raise SuperposeError(
                f"{where} module {j}: {kind} is not nn.Linear or nn.ReLU (circuits are Linear+ReLU stacks)"
            )
        want_linear = not want_linear
    if not ws:
        raise SuperposeError(f"{where}: no Linear layers")
    if not want_linear:
        raise SuperposeError(f"{where}: ends with a Linear; each Linear needs a ReLU after it")
    return Circuit(name, tuple(ws), tuple(bs))


def from_arrays(pairs: Sequence[Any], name: str, where: str) -> Circuit:
    """A Circuit from [(W_1, b_1), (W_2, b_2), …], W_l: [n_l, n_{l−1}] (tensors, arrays, lists)."""
    ws, bs = [], []
    for k, pair in enumerate(pairs):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise SuperposeError(f"{where} layer {k + 1}: expected a (weight, bias) pair")
        ws.append(_tensor(pair[0], f"{where} layer {k + 1} weight"))
        bs.append(_tensor(pair[1], f"{where} layer {k + 1} bias"))
    return Circuit(name, tuple(ws), tuple(bs))


def _natural(key: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key))


def load_circuit(path: str | Path, name: str | None = None) -> Circuit:
    """A Circuit from a .safetensors file of an nn.Sequential's state_dict (`L.weight`, `L.bias`)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise SuperposeError(f"{path}: no such circuit file")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise SuperposeError(f"{path}: not a safetensors file ({err})") from None
    layers = sorted((k[: -len("weight")] for k in tensors if k.endswith("weight")), key=_natural)
    if not layers:
        raise SuperposeError(f"{path}: holds no '<layer>.weight' tensor")
    for key in tensors:
        if not key.endswith("weight") and not (key.endswith("bias") and key[:-4] in layers):
            raise SuperposeError(f"{path}: tensor {key!r} is neither a layer's weight nor its bias")
    pairs = [
        (
            tensors[p + "weight"],
            tensors.get(p + "bias", torch.zeros(tensors[p + "weight"].shape[:1].numel())),
        )
        for p in layers
    ]
    c = from_arrays(pairs, name or path.stem, str(path))
    check_circuit(c, str(path))
    return c


def check_circuit(c: Circuit, where: str) -> None:
    """One line naming the circuit and layer when its shapes or values cannot compile."""
    if not c.weights or len(c.weights) != len(c.biases):
        raise SuperposeError(f"{where}: needs as many biases as weights, at least one layer")
    if len(c.weights) > 64:
        raise SuperposeError(f"{where}: {len(c.weights)} layers; at most 64")
    prev = None
    for k, (w, b) in enumerate(zip(c.weights, c.biases, strict=True)):
        lay = f"{where} layer {k + 1}"
        if w.ndim != 2:
            raise SuperposeError(f"{lay}: weight must be 2-D [out, in], got {list(w.shape)}")
        if b.ndim != 1 or b.shape[0] != w.shape[0]:
            raise SuperposeError(f"{lay}: bias must be [{w.shape[0]}], got {list(b.shape)}")
        if prev is not None and w.shape[1] != prev:
            raise SuperposeError(
                f"{lay}: weight is {list(w.shape)} but layer {k} gives {prev} outputs"
            )
        if max(w.shape) > MAX_WIDTH or min(w.shape) < 1:
            raise SuperposeError(f"{lay}: widths must lie in [1, {MAX_WIDTH}], got {list(w.shape)}")
        if not (torch.isfinite(w).all() and torch.isfinite(b).all()):
            raise SuperposeError(f"{lay}: weights or bias hold NaN or inf")
        prev = w.shape[0]
    check_domain(c.inputs, c.widths[0], where)


def weights_sha256(c: Circuit) -> str:
    h = hashlib.sha256()
    for w, b in zip(c.weights, c.biases, strict=True):
        for t in (w, b):
            h.update(str(list(t.shape)).encode())
            h.update(t.detach().float().contiguous().cpu().numpy().tobytes())
    return h.hexdigest()


def as_circuit(obj: Any, index: int) -> Circuit:
    """Any accepted form of a user circuit → a checked Circuit (one line naming it when not)."""
    where = f"circuit {index}"
    if isinstance(obj, Circuit):
        c = obj
    elif isinstance(obj, nn.Module):
        c = from_module(obj, f"circuit{index}", where)
    elif isinstance(obj, str | Path):
        c = load_circuit(obj)
    elif isinstance(obj, list | tuple):
        c = from_arrays(obj, f"circuit{index}", where)
    else:
        raise SuperposeError(
            f"{where}: a {type(obj).__name__} is not a circuit; give an nn.Sequential of Linear/ReLU, "
            "a list of (weight, bias) arrays, a .safetensors file or a family circuit"
        )
    check_circuit(c, f"{where} ({c.name!r})")
    return c


def spec_of(c: Circuit, file: str | None = None) -> dict[str, Any]:
    """The CircuitSpec data of a circuit: its family's parameters, or a user circuit's shapes+hash."""
    if c.spec:
        return {"name": c.name, **c.spec, "inputs": c.inputs}
    return {
        "name": c.name,
        "family": "user",
        "file": file,
        "inputs": c.inputs,
        "widths": c.widths,
        "sha256": weights_sha256(c),
    }


# --- specs → circuits ---------------------------------------------------------------------------


def _resolve(spec: CircuitSpec, name: str, offset: int, user: Any, field: str) -> Circuit:
    """The circuit of `spec` (copy `offset`: families seeded seed + offset); `field` names it in
    the spec (circuits[i], circuits[i].stages[j]) for one-line errors."""
    seed = spec.seed + offset
    f = spec.family
    if f == "rotation":
        c = rotation(name, spec.layers, seed)
    elif f == "random_mlp":
        c = random_mlp(name, spec.layers, spec.width, seed)
    elif f in GATE_OUT:
        c = gate(f, name)
    elif f == "modadd":
        c = modadd(spec.modulus, name)
    elif f == "chain":
        if not spec.stages:
            raise SuperposeError(f"{field} ({name!r}): a chain needs `stages` (at least one)")
        stages = [
            _resolve(s, s.name, offset, user, f"{field}.stages[{j}]")
            for j, s in enumerate(spec.stages)
        ]
        try:
            c = chain(*stages, name=name)
        except SuperposeError as err:
            raise SuperposeError(f"{field}.stages ({name!r}): {err}") from None
    else:
        try:
            c = user(spec, name)
        except SuperposeError as err:
            raise SuperposeError(f"{field} ({name!r}): {err}") from None
    return replace(c, inputs=spec.inputs) if spec.inputs else c


def resolve(cfg: CompiledConfig, user: Any) -> list[Circuit]:
    """The config's circuits, counts expanded; user(spec, name) supplies user circuits (also as
    stages of chains)."""
    out = []
    for i, spec in enumerate(cfg.circuits):
        field = f"circuits[{i}]"
        if spec.count == 1:
            out.append(_resolve(spec, spec.name, 0, user, field))
        else:
            out += [_resolve(spec, f"{spec.name}.{k}", k, user, field) for k in range(spec.count)]
    return out


def _from_file(spec: CircuitSpec, name: str) -> Circuit:
    if spec.file is None:
        raise SuperposeError("family user needs `file:` (a .safetensors of its layers)")
    c = load_circuit(spec.file, name)
    if spec.widths is not None and tuple(c.widths) != tuple(spec.widths):
        raise SuperposeError(
            f"{spec.file}: layer widths {c.widths}, the config says {list(spec.widths)}"
        )
    return c


def _shape_only(spec: CircuitSpec, name: str) -> Circuit:
    """A user circuit's shape (its weights live in the saved network), for a loaded network."""
    if spec.widths is None or len(spec.widths) < 2:
        raise SuperposeError("a user circuit's `widths` are missing from the config")
    n = spec.widths
    ws = tuple(torch.zeros(n[k + 1], n[k]) for k in range(len(n) - 1))
    return Circuit(name, ws, tuple(torch.zeros(w.shape[0]) for w in ws))


# --- circuits → gated small circuits --------------------------------------------------------


def shape_of(circuits: list[Circuit], ragged: str) -> tuple[int, int]:
    """(L, d): the deepest circuit and 2 + the widest layer; ragged: refuse → one line if uneven."""
    a = circuits[0]
    odd = [c for c in circuits if c.depth != a.depth or set(c.widths) != set(a.widths)]
    if ragged == "refuse" and (odd or len(set(a.widths)) > 1):
        b = odd[0] if odd else a
        raise SuperposeError(
            f"ragged: refuse, but circuit {a.name!r} has layer widths {a.widths} and {b.name!r} "
            f"{b.widths}; set ragged: pad (identity layers after the last, unused neurons off)"
        )
    return max(c.depth for c in circuits), 2 + max(w for c in circuits for w in c.widths)


def gated(
    circuits: list[Circuit], layers: int, d: int, beta: float, delta: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights [T, L, d, d] and biases [T, L, d] of the circuits with their on-indicator (module
    docstring); depth padded with identity layers."""
    T = len(circuits)
    w = torch.zeros(T, layers, d, d)
    b = torch.full((T, layers, d), -delta)
    w[:, :, 0:2, 0], w[:, :, 0:2, 1] = 2.0, -2.0
    b[:, :, 0], b[:, :, 1] = -beta, -beta - 1
    for t, c in enumerate(circuits):
        n = c.widths[-1]
        pad = [(torch.eye(n), torch.zeros(n))] * (layers - c.depth)
        for k, (W, B) in enumerate([*zip(c.weights, c.biases, strict=True), *pad]):
            o, i = W.shape
            w[t, k, 2 : 2 + o, 2 : 2 + i] = W
            w[t, k, 2 : 2 + o, 0] = B + delta
            w[t, k, 2 : 2 + o, 1] = -(B + delta)
    return w, b


class Inputs:
    """Draws the on circuits' inputs (SmallCircuits.inputs): (idx [batch, active], generator) →
    [batch, active, d] with the on-indicator (2 − β, 1 − β) and each circuit's domain."""

    def __init__(self, circuits: list[Circuit], d: int, beta: float) -> None:
        self.d, self.beta = d, beta
        keys = [(c.inputs, c.widths[0]) for c in circuits]
        self.groups = {key: torch.tensor([k == key for k in keys]) for key in sorted(set(keys))}

    def __call__(self, idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        out = torch.zeros(*idx.shape, self.d)
        out[..., 0], out[..., 1] = 2 - self.beta, 1 - self.beta
        for (domain, n), member in self.groups.items():
            rows = member[idx]
            out[..., 2 : 2 + n][rows] = draw_inputs(domain, int(rows.sum()), n, gen)
        return out


def _small(circuits: list[Circuit], cfg: CompiledConfig) -> SmallCircuits:
    L, d = shape_of(circuits, cfg.ragged)
    w, b = gated(circuits, L, d, cfg.indicator_threshold, cfg.value_margin)
    return SmallCircuits(w, b, "compiled", 0.0, Inputs(circuits, d, cfg.indicator_threshold))


def cis2_config(cfg: CompiledConfig, small: SmallCircuits) -> CiS2Config:
    """The CiS2 config the compiled network is built with."""
    T, L, d = small.n_circuits, small.n_layers, small.width
    if cfg.width % d:
        lo, hi = cfg.width // d * d, (cfg.width // d + 1) * d
        raise SuperposeError(
            f"width D = {cfg.width} is not a multiple of the circuit width d = {d} (2 on-indicator "
            f"neurons + the widest layer, {d - 2}); use {lo or hi} or {hi}"
        )
    data = {
        "width": cfg.width,
        "circuit_width": d,
        "circuits": T,
        "layers": L,
        "circuit_kind": "random",
        "allow_unverified": False,
        **{
            k: getattr(cfg, k)
            for k in (
                "redundancy",
                "max_active",
                "allocation",
                "positions",
                "embedding",
                "unembedding",
                "indicator_threshold",
                "value_margin",
                "max_load",
                "verify_batch",
                "seed",
            )
        },
    }
    return validate(CiS2Config, data, "compile")


# --- the construction -----------------------------------------------------------------------


class Compiled(SmallCircuitsNet):
    """Compiled circuits in one CiS2 network (x: [batch, T, d]; `embed` / `outputs` speak the
    circuits' own inputs and outputs)."""

    name = "compiled"

    def __init__(self, config: CompiledConfig, net: CiS2Network, circuits: list[Circuit]) -> None:
        super().__init__(config, net)
        self.circuits = circuits
        self.names = [c.name for c in circuits]
        self.cis2 = CiS2(cis2_config(config, net.circuits), net)

    @property
    def n_circuits(self) -> int:
        return self.net.T

    @property
    def n_layers(self) -> int:
        return self.net.L

    @property
    def max_active(self) -> int:
        return self.config.max_active

    def sample(self, batch: int, active: int, generator: torch.Generator) -> Sample:
        return Sample(*sample_inputs(self.net.circuits, batch, active, generator))

    def verify(self) -> dict[str, float]:
        return self.cis2.verify()

    def dense_module(self) -> nn.Module:
        return self.net.dense_module()

    def tensors(self) -> dict[str, torch.Tensor]:
        """The CiS2 tensors plus the layers of each circuit its config cannot regenerate (a user
        circuit, a chain with user stages): `user{t}.{k}.weight`/`.bias`."""
        out = self.cis2.tensors()
        out.pop("circuit_kind", None)
        for t, c in enumerate(self.circuits):
            if not c.spec:
                for k, (w, b) in enumerate(zip(c.weights, c.biases, strict=True)):
                    out[f"user{t}.{k}.weight"], out[f"user{t}.{k}.bias"] = w, b
        return out

    def measure(self, batch: int) -> dict[str, Any]:
        return self.cis2.measure(batch)

    def embed(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """x: [batch, T, d] with the named circuits on: inputs maps name → [batch, n_0]."""
        batch = {int(v.shape[0]) for v in inputs.values()}
        if len(batch) != 1:
            raise SuperposeError(f"embed: inputs need one batch size, got {sorted(batch)}")
        x = torch.zeros(batch.pop(), self.net.T, self.net.d)
        beta = self.config.indicator_threshold
        for name, v in inputs.items():
            if name not in self.names:
                raise SuperposeError(f"embed: no circuit named {name!r}")
            t = self.names.index(name)
            n = self.circuits[t].widths[0]
            if v.ndim != 2 or v.shape[1] != n:
                raise SuperposeError(
                    f"embed: circuit {name!r} reads [batch, {n}], got {list(v.shape)}"
                )
            x[:, t, 0], x[:, t, 1] = 2 - beta, 1 - beta
            x[:, t, 2 : 2 + n] = v
        return x

    def outputs(self, x: torch.Tensor, exact: bool = False) -> dict[str, torch.Tensor]:
        """Each circuit's output read off the last layer: name → [batch, n_L] (exact: the small
        circuits' own values)."""
        last = (self.exact(x) if exact else self.readout(self.forward(x)))[-1]
        return {c.name: last[:, t, 2 : 2 + c.widths[-1]] for t, c in enumerate(self.circuits)}

    def ground_truth(self) -> dict[str, Any]:
        cfg = self.config
        beta = cfg.indicator_threshold
        circuits = []
        for t, c in enumerate(self.circuits):
            names = c.layer_names()
            circuits.append(
                {
                    "index": t,
                    "name": c.name,
                    "kind": c.kind,
                    "inputs": c.inputs,
                    "widths": c.widths,
                    "input_neurons": list(range(2, 2 + c.widths[0])),
                    "layers": [
                        {
                            "layer": k + 1,
                            "computes": names[k] if k < c.depth else "padding (identity)",
                            "neurons": list(range(2, 2 + c.widths[min(k, c.depth - 1) + 1])),
                        }
                        for k in range(self.net.L)
                    ],
                    **({"sha256": weights_sha256(c)} if not c.spec else {}),
                }
            )
        return {
            **cis2_ground_truth(self.net),
            "dense_weights_saved": self.net.dense_fits(),
            "on_indicator": {
                "neurons": [0, 1],
                "alpha": "a0 − a1: 1 when the circuit is on, 0 when off",
                "threshold": beta,
                "on_input": [2 - beta, 1 - beta],
                "added_by": "compiler",
            },
            "payload": "circuit t's neuron j of layer l is small neuron 2 + j: hosted by "
            "layers[l].hosts[t][2 + j]; it holds the circuit's own activation exactly when on, 0 "
            "when off (circuits[t].layers[l].neurons lists them)",
            "compiled_circuits": circuits,
        }

    def summary(self, measured: dict[str, Any]) -> str:
        from .cis2_regime import summary

        net = self.net
        worst = summary(net.verification) if net.verification else {}
        return (
            f"compiled {net.T} circuits into D={net.width} (d={net.d}, L={net.L}, "
            f"z≤{self.config.max_active}): verified, min decoded R² "
            f"{worst.get('min_decoded_r2', float('nan')):.3f}"
        )

    @classmethod
    def from_tensors(cls, config: CompiledConfig, tensors: dict[str, torch.Tensor]) -> Compiled:
        """Read back a saved network: every tensor the compiler derives from the config must match
        (positions, biases, family and indicator weights, dense weights; user circuits by hash),
        then the strict verification runs again — a doctored file is refused with one line."""
        from .allocation import layer_positions, make_allocation
        from .cis2_regime import fixed_positions

        circuits = [
            c if c.spec else _user_from_tensors(tensors, t, c, config)
            for t, c in enumerate(resolve(config, _shape_only))
        ]
        want = _small(circuits, config)
        cis_cfg = cis2_config(config, want)
        got_w, got_b = tensors.get("circuit_weights"), tensors.get("circuit_biases")
        if got_w is None or got_b is None or got_w.shape != want.weights.shape:
            shape = None if got_w is None else list(got_w.shape)
            raise SuperposeError(
                f"circuit_weights are {shape}, the config compiles to {list(want.weights.shape)}"
            )
        if not torch.equal(got_b, want.biases):
            raise SuperposeError(
                "circuit_biases differ from what the compiler sets (doctored file?)"
            )
        for t, c in enumerate(circuits):
            if not torch.allclose(got_w[t], want.weights[t], atol=1e-6):
                raise SuperposeError(
                    f"circuit_weights of circuit {t} ({c.name!r}) differ from the compiled "
                    f"{c.kind} circuit (doctored file?)"
                )
        small = SmallCircuits(got_w, got_b, "compiled", 0.0, want.inputs)
        N = cis_cfg.width // cis_cfg.circuit_width
        allocation = make_allocation(
            cis_cfg.allocation, N, cis_cfg.redundancy, seed=cis_cfg.seed, target=cis_cfg.circuits
        )
        place = fixed_positions if cis_cfg.positions == "fixed" else layer_positions
        gen = torch.Generator().manual_seed(cis_cfg.seed + 1)
        positions = place(allocation, small.n_circuits, small.n_layers, gen)
        if not torch.equal(tensors.get("positions", torch.empty(0)), positions):
            raise SuperposeError("positions differ from the config's allocation (doctored file?)")
        bias = block_bias(small, positions, N)
        for k in range(small.n_layers):
            if not torch.allclose(tensors.get(f"layer{k + 1}.bias", torch.empty(0)), bias[k]):
                raise SuperposeError(
                    f"layer{k + 1}.bias differs from the compiled biases (doctored file?)"
                )
        net = CiS2Network(
            small,
            positions,
            bias,
            cis_cfg.width,
            cis_cfg.unembedding,
            allocation,
            cis_cfg.embedding,
        )
        if net.dense_fits():
            for k, W in enumerate(net.dense_weights()):
                got = tensors.get(f"layer{k + 1}.weight")
                if got is None or got.shape != W.shape or not torch.allclose(got, W, atol=1e-5):
                    raise SuperposeError(
                        f"layer{k + 1}.weight differs from the compiled circuits' embedding "
                        "(doctored file?)"
                    )
        out = cls(config, net, circuits)
        out.verify()
        return out


def _user_from_tensors(
    tensors: dict[str, torch.Tensor], t: int, shape: Circuit, cfg: CompiledConfig
) -> Circuit:
    """Circuit t's own layers from a saved network (a user circuit, or a chain with user stages):
    each user stage checked against its hash in the config, each family stage against the family."""
    try:
        ws = tuple(tensors[f"user{t}.{k}.weight"] for k in range(shape.depth))
        bs = tuple(tensors[f"user{t}.{k}.bias"] for k in range(shape.depth))
    except KeyError as err:
        raise SuperposeError(f"circuit {t} ({shape.name!r}): tensor {err} is missing") from None
    c = replace(shape, weights=ws, biases=bs)
    check_circuit(c, f"circuit {t} ({shape.name!r})")
    spec, field = _spec_at(cfg, t)
    start = 0
    for leaf, where in _stage_leaves(spec, field):
        depth = _resolve(leaf, leaf.name, 0, _shape_only, where).depth
        part = slice(start, start + depth)
        if leaf.family == "user":
            got = Circuit(leaf.name, ws[part], bs[part])
            same = got.widths == list(leaf.widths or ()) and weights_sha256(got) == leaf.sha256
        else:  # a family stage: what the family regenerates
            pairs = zip(ws[part] + bs[part], shape.weights[part] + shape.biases[part], strict=True)
            same = all(torch.allclose(a, b, atol=1e-6) for a, b in pairs)
        if not same:
            raise SuperposeError(
                f"circuit {t} ({shape.name!r}), {where} ({leaf.name!r}): weights do not match "
                "the config (hash or family) in config.yaml (doctored file?)"
            )
        start += depth
    return c


def _spec_at(cfg: CompiledConfig, index: int) -> tuple[CircuitSpec, str]:
    """The spec of the circuit at `index` (counts expanded) and its field, circuits[i]."""
    t = 0
    for i, spec in enumerate(cfg.circuits):
        if index < t + spec.count:
            return spec, f"circuits[{i}]"
        t += spec.count
    raise IndexError(index)


def _stage_leaves(spec: CircuitSpec, field: str) -> list[tuple[CircuitSpec, str]]:
    """The non-chain specs of `spec` in layer order (a chain's stages, nested chains flattened),
    each with its field (circuits[i].stages[j]…)."""
    if spec.family != "chain":
        return [(spec, field)]
    return [
        leaf for j, s in enumerate(spec.stages) for leaf in _stage_leaves(s, f"{field}.stages[{j}]")
    ]


def _record_spec(spec: CircuitSpec, field: str) -> CircuitSpec:
    """spec with each user circuit's widths and hash recorded, chain stages too (refused when a
    recorded hash no longer matches its file)."""
    if spec.family == "chain":
        stages = (_record_spec(s, f"{field}.stages[{j}]") for j, s in enumerate(spec.stages))
        return spec.replace(stages=tuple(stages))
    if spec.family != "user":
        return spec
    c = _resolve(spec, spec.name, 0, _from_file, field)
    sha = weights_sha256(c)
    if spec.sha256 not in (None, sha):
        raise SuperposeError(
            f"{field} ({spec.name!r}): {spec.file} changed since the config recorded its sha256"
        )
    return spec.replace(widths=tuple(c.widths), sha256=sha)


def _record(cfg: CompiledConfig) -> CompiledConfig:
    """cfg with every user circuit's widths and hash recorded (`_record_spec`)."""
    specs = tuple(_record_spec(s, f"circuits[{i}]") for i, s in enumerate(cfg.circuits))
    return cfg if specs == cfg.circuits else cfg.replace(circuits=specs)


def build_compiled(cfg: CompiledConfig, circuits: list[Circuit] | None = None) -> Compiled:
    """Compile cfg's circuits (user ones from `file:` unless given), build and verify; one line when
    they do not fit."""
    if circuits is None:
        circuits = resolve(cfg, _from_file)
        cfg = _record(cfg)
    for t, c in enumerate(circuits):
        check_circuit(c, f"circuit {t} ({c.name!r})")
    seen: dict[str, int] = {}
    for t, c in enumerate(circuits):
        if c.name in seen:
            raise SuperposeError(
                f"circuits {seen[c.name]} and {t} are both named {c.name!r} (names label the ground truth)"
            )
        seen[c.name] = t
    small = _small(circuits, cfg)
    try:
        net = build_cis2(cis2_config(cfg, small), small)
    except SuperposeError as err:
        raise SuperposeError(f"compile: {err}") from None
    return Compiled(cfg, net, circuits)


def compile(
    circuits: Sequence[Any],
    width: int,
    max_active: int = 1,
    *,
    names: Sequence[str] | None = None,
    inputs: str | Sequence[str | None] | None = None,
    **options: Any,
) -> Compiled:
    """Compile small ReLU circuits into one verified network of width D (CiS2 construction).

    circuits: nn.Sequential(Linear, ReLU, …), lists of (weight, bias) arrays, .safetensors paths or
    family circuits (`superpose.circuits.families`). names: their labels (default: circuit{i}, a
    file's stem, a family's name). inputs: the input domain verification samples (uniform, boolean,
    ball, onehot:K) — one for every user circuit, or one per circuit (None keeps its own). options:
    any CompiledConfig field (redundancy, embedding, value_margin, ragged, seed, …). Refused with
    one line when they do not fit.
    """
    if isinstance(circuits, nn.Module | str | Path) or not isinstance(circuits, Sequence):
        raise SuperposeError("compile: circuits must be a list (one entry per circuit)")
    found = [as_circuit(c, t) for t, c in enumerate(circuits)]
    if names is not None and (
        isinstance(names, str)
        or not isinstance(names, Sequence)
        or not all(isinstance(n, str) for n in names)
    ):
        raise SuperposeError(
            f"compile: names must be a list of {len(found)} strings (one per circuit), got "
            f"{names!r:.40}"
        )
    if inputs is not None and not isinstance(inputs, str | Sequence):
        raise SuperposeError(
            f"compile: inputs must be a domain name or a list of one per circuit, got "
            f"{type(inputs).__name__}"
        )
    for key, given in (("names", names), ("inputs", inputs)):
        if given is not None and not isinstance(given, str) and len(given) != len(found):
            raise SuperposeError(
                f"compile: {key} has {len(given)} entries for {len(found)} circuits"
            )
    if names is not None:
        found = [replace(c, name=n) for c, n in zip(found, names, strict=True)]
    if isinstance(inputs, str):
        found = [replace(c, inputs=inputs) if c.kind == "user" else c for c in found]
    elif inputs is not None:
        found = [replace(c, inputs=i) if i else c for c, i in zip(found, inputs, strict=True)]
    files = [str(c) if isinstance(c, str | Path) else None for c in circuits]
    data = {
        "circuits": [spec_of(c, f) for c, f in zip(found, files, strict=True)],
        "width": width,
        "max_active": max_active,
        **options,
    }
    return build_compiled(validate(CompiledConfig, data, "compile"), found)


register_construction("compiled", CompiledConfig, build_compiled)

__all__ = [
    "CircuitSpec",
    "Compiled",
    "CompiledConfig",
    "as_circuit",
    "build_compiled",
    "compile",
    "load_circuit",
]
