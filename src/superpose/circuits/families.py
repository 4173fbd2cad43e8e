"""Small plain ReLU circuits for the compiler (`compiler.py`): the record and built-in families.

A `Circuit` is a stack a^l = ReLU(W_l a^{l−1} + b_l), W_l: [n_l, n_{l−1}], with its input domain
(what verification samples). Families for people without their own circuits:
- `rotation`: conditional 2-D rotations on v + 1 (‖v‖ ≤ 1; the CiS2 post's circuits), d = 2;
- `random_mlp`: He-initialised random ReLU layers on uniform [0, 1) inputs;
- `gate("and" | "or" | "xor")`: two layers on boolean inputs, U-AND style ReLU(2a + 2b − c) neurons
  (margin 1 off the boundaries): h = (ReLU(2a+2b−1), ReLU(2a+2b−3)); AND = h₂, OR = h₁ − 2h₂,
  XOR = h₁ − 3h₂ — exact on {0, 1}²;
- `lookup(table)` / `modadd(p)`: a p×p table on one-hot inputs (a, b): layer 1 has one AND neuron
  ReLU(2x_a + 2y_b − 3) per pair, layer 2 sums the pairs of each output value: a one-hot output,
  exact on one-hot inputs (p² hidden neurons);
- `chain(c1, c2, …)`: circuits in series (c2 reads c1's output), one circuit whose layers are the
  stages' layers; `stages` names which stage computes each layer ("chain/stage:layer").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import torch

from ..base.errors import SuperposeError

DOMAINS = "uniform|boolean|ball|onehot:K"


@dataclass(frozen=True)
class Circuit:
    """One small ReLU MLP. weights: L × [n_l, n_{l−1}], biases: L × [n_l]; inputs: its domain
    (uniform [0,1), boolean {0,1}, ball v + 1 with ‖v‖ ≤ 1, onehot:K groups of K); stages: per layer
    "stage-name:layer" (chains); spec: the compiler spec that regenerates a family circuit."""

    name: str
    weights: tuple[torch.Tensor, ...]
    biases: tuple[torch.Tensor, ...]
    kind: str = "user"
    inputs: str = "uniform"
    stages: tuple[str, ...] = ()
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def widths(self) -> list[int]:
        """[n_0, n_1, …, n_L]."""
        return [int(self.weights[0].shape[1]), *(int(w.shape[0]) for w in self.weights)]

    @property
    def depth(self) -> int:
        return len(self.weights)

    def layer_names(self) -> list[str]:
        return list(self.stages) or [f"{self.name}:{k + 1}" for k in range(self.depth)]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations of every layer. x: [batch, n_0] → L × [batch, n_l]."""
        acts, a = [], x
        for w, b in zip(self.weights, self.biases, strict=True):
            a = torch.relu(a @ w.to(a).T + b.to(a))
            acts.append(a)
        return acts


def draw_inputs(domain: str, rows: int, n: int, gen: torch.Generator) -> torch.Tensor:
    """Inputs from a domain: [rows, n]."""
    if domain == "uniform":
        return torch.rand(rows, n, generator=gen)
    if domain == "boolean":
        return (torch.rand(rows, n, generator=gen) < 0.5).float()
    if domain == "ball":
        v = torch.randn(rows, n, generator=gen)
        radius = torch.rand(rows, 1, generator=gen)
        return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-9) * radius + 1.0
    if domain.startswith("onehot:"):
        k = int(domain.split(":")[1])
        groups = n // k
        hot = torch.randint(0, k, (rows, groups), generator=gen)
        out = torch.zeros(rows, groups, k)
        out.scatter_(2, hot.unsqueeze(-1), 1.0)
        return out.reshape(rows, n)
    raise SuperposeError(f"input domain {domain!r} unknown; known: {DOMAINS}")


def check_domain(domain: str, n_inputs: int, where: str) -> None:
    """One line when a domain does not fit a circuit with n_inputs inputs."""
    if domain in ("uniform", "boolean", "ball"):
        return
    if domain.startswith("onehot:") and domain[7:].isdigit():
        k = int(domain[7:])
        if k >= 1 and n_inputs % k == 0:
            return
        raise SuperposeError(
            f"{where}: inputs {domain} needs inputs in groups of {k}, got {n_inputs}"
        )
    raise SuperposeError(f"{where}: input domain {domain!r} unknown; known: {DOMAINS}")


def rotation(name: str = "rotation", layers: int = 3, seed: int = 0) -> Circuit:
    """Rotate (v_x, v_y) by a random angle per layer, carried as v + 1 so ReLU keeps it (d = 2)."""
    gen = torch.Generator().manual_seed(seed)
    theta = torch.rand(layers, generator=gen, dtype=torch.float64) * 2 * math.pi
    ws, bs = [], []
    for t in theta.tolist():
        R = torch.tensor([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
        ws.append(R.float())
        bs.append((1 - R.sum(1)).float())  # R(v + 1) + b = Rv + 1
    spec = {"family": "rotation", "layers": layers, "seed": seed}
    return Circuit(name, tuple(ws), tuple(bs), "rotation", "ball", spec=spec)


def random_mlp(name: str = "random_mlp", layers: int = 3, width: int = 2, seed: int = 0) -> Circuit:
    """Random ReLU layers width→width, W ~ N(0, 2/width) (He: activations stay O(1)), b = 0."""
    gen = torch.Generator().manual_seed(seed)
    ws = tuple(
        torch.randn(width, width, generator=gen) * math.sqrt(2 / width) for _ in range(layers)
    )
    bs = tuple(torch.zeros(width) for _ in range(layers))
    spec = {"family": "random_mlp", "layers": layers, "width": width, "seed": seed}
    return Circuit(name, ws, bs, "random_mlp", "uniform", spec=spec)


GATE_OUT = {"and": (0.0, 1.0), "or": (1.0, -2.0), "xor": (1.0, -3.0)}  # out = c₁h₁ + c₂h₂


def gate(op: str, name: str | None = None) -> Circuit:
    """A boolean gate on a, b ∈ {0, 1}: 2 → 2 → 1, exact on its truth table (module docstring)."""
    if op not in GATE_OUT:
        raise SuperposeError(f"gate {op!r} unknown; known: {', '.join(GATE_OUT)}")
    w1 = torch.tensor([[2.0, 2.0], [2.0, 2.0]])
    b1 = torch.tensor([-1.0, -3.0])
    w2 = torch.tensor([list(GATE_OUT[op])])
    spec = {"family": op}
    return Circuit(name or op, (w1, w2), (b1, torch.zeros(1)), op, "boolean", spec=spec)


def lookup(table: torch.Tensor, name: str = "lookup", values: int | None = None) -> Circuit:
    """f(a, b) = table[a, b] ∈ {0 … values−1} on one-hot a, b ∈ {0 … p−1}: 2p → p² → values."""
    table = torch.as_tensor(table, dtype=torch.long)
    if table.ndim != 2 or table.shape[0] != table.shape[1] or table.numel() == 0:
        raise SuperposeError(
            f"lookup {name!r}: table must be square [p, p], got {list(table.shape)}"
        )
    p = table.shape[0]
    k = int(table.max()) + 1 if values is None else values
    if int(table.min()) < 0 or int(table.max()) >= k:
        raise SuperposeError(f"lookup {name!r}: table values must lie in [0, {k})")
    w1 = torch.zeros(p * p, 2 * p)
    for a in range(p):
        for b in range(p):
            w1[a * p + b, a] = w1[a * p + b, p + b] = 2.0
    w2 = torch.zeros(k, p * p)
    w2[table.reshape(-1), torch.arange(p * p)] = 1.0
    b1 = torch.full((p * p,), -3.0)
    return Circuit(name, (w1, w2), (b1, torch.zeros(k)), "lookup", f"onehot:{p}")


def modadd(p: int = 3, name: str | None = None) -> Circuit:
    """(a + b) mod p as a lookup table on one-hot a, b; one-hot output."""
    if not 2 <= p <= 32:
        raise SuperposeError(f"modadd: modulus p = {p} must lie in [2, 32]")
    i = torch.arange(p)
    c = lookup((i.view(-1, 1) + i.view(1, -1)) % p, name or f"add_mod{p}", p)
    return Circuit(
        c.name, c.weights, c.biases, "modadd", c.inputs, spec={"family": "modadd", "modulus": p}
    )


def chain(*circuits: Circuit, name: str | None = None) -> Circuit:
    """Circuits in series: each reads the previous one's output (widths must match)."""
    if not circuits:
        raise SuperposeError("chain needs at least one circuit")
    for prev, nxt in pairwise(circuits):
        if prev.widths[-1] != nxt.widths[0]:
            raise SuperposeError(
                f"chain: {nxt.name!r} reads {nxt.widths[0]} inputs but {prev.name!r} gives "
                f"{prev.widths[-1]} outputs (a stage must read exactly what the one before gives)"
            )
    ws = tuple(w for c in circuits for w in c.weights)
    bs = tuple(b for c in circuits for b in c.biases)
    label = name or "+".join(c.name for c in circuits)
    stages = tuple(f"{label}/{s}" for c in circuits for s in c.layer_names())
    spec = {}
    if all(c.spec for c in circuits):  # all stages are families: the spec regenerates the chain
        spec = {"family": "chain", "stages": [{"name": c.name, **c.spec} for c in circuits]}
    return Circuit(label, ws, bs, "chain", circuits[0].inputs, stages, spec)


__all__ = [
    "Circuit",
    "chain",
    "draw_inputs",
    "gate",
    "lookup",
    "modadd",
    "random_mlp",
    "rotation",
]
