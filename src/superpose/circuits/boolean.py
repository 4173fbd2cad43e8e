"""Boolean computation in superposition (Hänni et al., REFERENCE §4): U-AND and chosen gates.

One ReLU layer h = ReLU(W·v + b) with d neurons, bias −(K−1), reading m boolean features that come
either in a basis (v = x) or in superposition (v = F x, F: [d0, m] random unit columns). A gate's value
is read as the mean of the neurons wired to all of its inputs. Readouts are computed only for the
pairs asked for, in blocks, so the m² all-pairs readout is never materialised.

Shapes: connectivity `conn: [neurons, features]` (bool), embedding `F: [d0, features]`, inputs
`x: [batch, features]` (0/1), hidden `h: [batch, neurons]`, pairs `[P, 2]` (long), readouts
`[batch, P]`. The batch (instance) axis is first.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import Field, model_validator

from ..base.config import FrozenConfig, validate
from ..base.device import make_generator, resolve_device
from ..base.errors import SuperposeError

Inputs = Literal["basis", "superposed"]
CASES = ("neither", "one", "both")  # index = number of the pair's inputs that are on


class BooleanInputsConfig(FrozenConfig):
    """What every boolean layer reads: m sparse boolean features, in a basis or in superposition."""

    m: int = Field(64, ge=2, le=10_000_000, description="boolean input features m")
    d: int = Field(1000, ge=1, le=10_000_000, description="neurons d")
    s: int = Field(3, ge=1, le=10_000, description="at most s features active (s ≤ m)")
    inputs: Inputs = Field("basis", description="features in a basis or in superposition")
    d0: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description="embedding dimension for superposed inputs (default d)",
    )
    seed: int = Field(0, ge=0, description="random seed")
    device: str = Field("cpu", description="device: auto, cpu, cuda, cuda:N")

    @model_validator(mode="after")
    def _check_inputs(self) -> BooleanInputsConfig:
        if self.s > self.m:
            raise ValueError(f"s = {self.s} must be ≤ m = {self.m}")
        return self

    @property
    def d0_value(self) -> int:
        return self.d0 if self.d0 is not None else self.d


class UAndConfig(BooleanInputsConfig):
    """A U-AND layer: every pairwise AND of m sparse boolean features, linearly readable."""

    p: float | None = Field(
        None, gt=0, le=1, description="P(neuron wired to a feature) in (0, 1]; default from shared"
    )
    shared: float = Field(
        20.0, gt=0, description="target expected neurons per pair d·p² (used when p is not given)"
    )

    @model_validator(mode="after")
    def _check(self) -> UAndConfig:
        if self.p is None and self.shared > self.d:
            raise ValueError(f"shared = {self.shared} must be ≤ d = {self.d} (p = √(shared/d) ≤ 1)")
        return self

    @property
    def p_value(self) -> float:
        """The connection probability used: p, or √(shared/d)."""
        return self.p if self.p is not None else math.sqrt(self.shared / self.d)


class ChosenGatesConfig(BooleanInputsConfig):
    """Chosen gates: each of a given list of K-input ANDs gets its own random set of k neurons."""

    d: int = Field(400, ge=1, le=10_000_000, description="neurons d")
    k: int = Field(8, ge=1, le=100_000, description="neurons per gate k (≤ d)")
    fan_in: int = Field(2, ge=1, le=64, description="inputs per gate K (bias −(K−1))")

    @model_validator(mode="after")
    def _check(self) -> ChosenGatesConfig:
        if self.k > self.d:
            raise ValueError(f"k = {self.k} must be ≤ d = {self.d}")
        if self.fan_in > self.m:
            raise ValueError(f"fan_in = {self.fan_in} must be ≤ m = {self.m}")
        return self


def make_config(cls: type[FrozenConfig], **fields: Any) -> Any:
    """Build a config from keyword fields, bad values → one-line SuperposeError naming the field."""
    return validate(cls, fields, source=cls.__name__)


def random_embedding(d0: int, m: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """m random unit vectors in d0 dimensions (near-orthogonal when d0 is large). F: [d0, m]."""
    F = torch.randn(d0, m, generator=gen, device=device)
    return F / F.norm(dim=0, keepdim=True)


@dataclass
class BooleanLayer:
    """One ReLU layer computing ANDs in superposition.

    conn: [neurons, features] bool, which inputs each neuron sums; bias = −(fan_in − 1);
    F: [d0, features] embedding or None (basis inputs); gate_neurons: [gates, k] neuron ids per
    chosen gate, or None for U-AND (where a pair's neurons are those wired to both).
    """

    conn: torch.Tensor
    bias: float
    F: torch.Tensor | None = None
    gates: torch.Tensor | None = None  # [gates, fan_in] long
    gate_neurons: torch.Tensor | None = None  # [gates, k] long

    @property
    def d(self) -> int:
        return self.conn.shape[0]

    @property
    def m(self) -> int:
        return self.conn.shape[1]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Network input v: [batch, d_in] for boolean (or real) feature values x: [batch, m]."""
        x = x.to(self.conn.device, torch.float32)
        return x if self.F is None else x @ self.F.T

    def hidden_from_embedded(self, v: torch.Tensor) -> torch.Tensor:
        """h = ReLU(W v + b) with W = conn (basis) or conn·Fᵀ (superposed), never formed densely."""
        c = self.conn.float()
        u = v if self.F is None else v @ self.F  # [batch, m]: Fᵀv, each feature's noisy read
        return torch.relu(u @ c.T + self.bias)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """h: [batch, neurons] for inputs x: [batch, m]."""
        return self.hidden_from_embedded(self.embed(x))

    def hidden_active(self, active: torch.Tensor) -> torch.Tensor:
        """h: [batch, neurons] for inputs given as active feature ids [batch, s] (no dense x)."""
        active = active.to(self.conn.device)
        if self.F is None:
            pre = self.conn.T[active].float().sum(1)  # [batch, d]
            return torch.relu(pre + self.bias)
        return self.hidden_from_embedded(self.F.T[active].sum(1))

    def weights(self) -> torch.Tensor:
        """Dense W: [neurons, d_in] (d_in = m for basis inputs, d0 for superposed)."""
        c = self.conn.float()
        return c if self.F is None else c @ self.F.T

    def pair_masks(self, pairs: torch.Tensor) -> torch.Tensor:
        """[neurons, P] float: which neurons serve each requested U-AND pair."""
        return (self.conn[:, pairs[:, 0]] & self.conn[:, pairs[:, 1]]).float()

    def shared_counts(self, pairs: torch.Tensor, block: int = 4096) -> torch.Tensor:
        """Neurons serving each pair: [P] long."""
        pairs = pairs.to(self.conn.device)
        return torch.cat(
            [
                self.pair_masks(pairs[i : i + block]).sum(0).long()
                for i in range(0, len(pairs), block)
            ]
        )

    def readout(self, h: torch.Tensor, pairs: torch.Tensor, block: int = 4096) -> torch.Tensor:
        """AND readouts [batch, P] for U-AND pairs [P, 2]: mean of the neurons wired to both.

        Computed in blocks of `block` pairs; a pair no neuron serves reads 0.
        """
        pairs = pairs.to(self.conn.device)
        outs = []
        for i in range(0, len(pairs), block):
            mask = self.pair_masks(pairs[i : i + block])
            outs.append((h @ mask) / mask.sum(0).clamp(min=1))
        return torch.cat(outs, dim=1) if outs else h.new_zeros(h.shape[0], 0)

    def readout_per_input(self, h: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """Readouts [batch, P] where every input row has its own pairs: pairs [batch, P, 2]."""
        pairs = pairs.to(self.conn.device)
        ct = self.conn.T  # [m, d]
        mask = (ct[pairs[..., 0]] & ct[pairs[..., 1]]).float()  # [batch, P, d]
        return torch.einsum("bpd,bd->bp", mask, h) / mask.sum(-1).clamp(min=1)

    def gate_readout(self, h: torch.Tensor, gate_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Chosen-gate readouts [batch, G]: mean of each gate's own k neurons."""
        if self.gate_neurons is None:
            raise SuperposeError("gate_readout needs a chosen-gates layer (build_chosen_gates)")
        gn = self.gate_neurons if gate_ids is None else self.gate_neurons[gate_ids]
        return h[:, gn].mean(-1)

    def readout_matrix(self, pairs: torch.Tensor | None = None) -> torch.Tensor:
        """Readout weights R: [outputs, neurons] (gates, or the requested U-AND pairs)."""
        if pairs is None:
            if self.gate_neurons is None:
                raise SuperposeError("readout_matrix of a U-AND layer needs the pairs to read")
            G, k = self.gate_neurons.shape
            R = torch.zeros(G, self.d, device=self.conn.device)
            R.scatter_(1, self.gate_neurons, 1.0 / k)
            return R
        mask = self.pair_masks(pairs.to(self.conn.device)).T
        return mask / mask.sum(1, keepdim=True).clamp(min=1)


def build_uand(cfg: UAndConfig) -> BooleanLayer:
    """U-AND: conn ~ Bernoulli(p) [d, m], bias −1, embedding F for superposed inputs."""
    device = resolve_device(cfg.device)
    gen = make_generator(cfg.seed, device)
    conn = torch.rand(cfg.d, cfg.m, generator=gen, device=device) < cfg.p_value
    F = random_embedding(cfg.d0_value, cfg.m, gen, device) if cfg.inputs == "superposed" else None
    return BooleanLayer(conn=conn, bias=-1.0, F=F)


def random_gates(m: int, n_gates: int, fan_in: int, gen: torch.Generator) -> torch.Tensor:
    """n_gates distinct random K-subsets of range(m) (sorted rows): [gates, fan_in] long."""
    total = math.comb(m, fan_in)
    if n_gates > total:
        raise SuperposeError(f"n_gates = {n_gates} must be ≤ C(m, fan_in) = {total}")
    if 2 * n_gates > total:  # dense: enumerate and permute
        every = torch.combinations(torch.arange(m), fan_in)
        return every[torch.randperm(len(every), generator=gen)[:n_gates]]
    seen: set[tuple[int, ...]] = set()
    rows: list[tuple[int, ...]] = []
    while len(rows) < n_gates:
        draw = torch.randint(m, (2 * (n_gates - len(rows)) + 8, fan_in), generator=gen)
        for row in draw.sort(1).values.tolist():
            t = tuple(row)
            if len(set(t)) == fan_in and t not in seen:
                seen.add(t)
                rows.append(t)
                if len(rows) == n_gates:
                    break
    return torch.tensor(rows, dtype=torch.long).reshape(n_gates, fan_in)


def build_chosen_gates(cfg: ChosenGatesConfig, gates: torch.Tensor) -> BooleanLayer:
    """Chosen gates [G, K]: gate g gets k random neurons, each wired to the gate's K inputs.

    A neuron serving several gates sums the union of their inputs; bias −(K−1); readout = mean of the
    gate's k neurons (so an isolated gate reads exactly its AND).
    """
    gates = torch.as_tensor(gates, dtype=torch.long)
    if gates.ndim != 2 or gates.shape[1] != cfg.fan_in:
        raise SuperposeError(
            f"gates must have shape [G, fan_in={cfg.fan_in}], got {list(gates.shape)}"
        )
    if len(gates) and (gates.min() < 0 or gates.max() >= cfg.m):
        raise SuperposeError(
            f"gate inputs must lie in [0, m={cfg.m}), got {gates.min()}..{gates.max()}"
        )
    device = resolve_device(cfg.device)
    gen = make_generator(cfg.seed, device)
    G = len(gates)
    neurons = torch.rand(G, cfg.d, generator=gen, device=device).argsort(1)[:, : cfg.k]
    gates = gates.to(device)
    conn = torch.zeros(cfg.d, cfg.m, dtype=torch.bool, device=device)
    rows = neurons.repeat_interleave(cfg.fan_in, dim=1).reshape(-1)
    cols = gates.repeat(1, cfg.k).reshape(G, cfg.k, cfg.fan_in).reshape(-1)
    conn[rows, cols] = True
    F = random_embedding(cfg.d0_value, cfg.m, gen, device) if cfg.inputs == "superposed" else None
    return BooleanLayer(conn=conn, bias=-(cfg.fan_in - 1.0), F=F, gates=gates, gate_neurons=neurons)


# ---------------------------------------------------------------- inputs, truth, baselines


def exact_inputs(m: int, s: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Every input with exactly s of m features on: [C(m, s), m] float."""
    if math.comb(m, s) > 2_000_000:
        raise SuperposeError(f"C(m={m}, s={s}) inputs are too many to enumerate; sample instead")
    idx = torch.tensor(list(itertools.combinations(range(m), s)), dtype=torch.long)
    x = torch.zeros(len(idx), m, device=device)
    if s:
        x.scatter_(1, idx.to(device), 1.0)
    return x


def sample_inputs(
    batch: int, m: int, s: int, gen: torch.Generator, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """batch random inputs with exactly s of m features on: [batch, m] float."""
    keys = torch.rand(batch, m, generator=gen, device=gen.device).to(device)
    on = keys.topk(s, dim=1).indices
    return torch.zeros(batch, m, device=device).scatter_(1, on, 1.0)


def all_pairs(m: int) -> torch.Tensor:
    """All i < j pairs: [m(m−1)/2, 2] (only for small m)."""
    return torch.combinations(torch.arange(m), 2)


def and_truth(x: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Exact AND [batch, P] of the requested pairs."""
    pairs = pairs.to(x.device)
    return x[:, pairs[:, 0]] * x[:, pairs[:, 1]]


def gate_truth(x: torch.Tensor, gates: torch.Tensor) -> torch.Tensor:
    """Exact K-input AND [batch, G]."""
    return x[:, gates.to(x.device)].prod(-1)


def xor_readout(xi: torch.Tensor, xj: torch.Tensor, and_ij: torch.Tensor) -> torch.Tensor:
    """XOR_ij = x_i + x_j − 2·AND_ij from readouts of the inputs and of their AND."""
    return xi + xj - 2 * and_ij


def linear_and_baseline(x: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Best worst-case linear (no ReLU) readout of AND: (x_i + x_j)/2 − 1/4, off by exactly 1/4."""
    pairs = pairs.to(x.device)
    return (x[:, pairs[:, 0]] + x[:, pairs[:, 1]]) / 2 - 0.25


def predicted_mean_errors(s: int, p: float) -> dict[str, float]:
    """Exact mean U-AND errors (basis inputs, exactly s active) per case: REFERENCE §4."""
    return {"both": (s - 2) * p, "one": (s - 1) * p, "neither": s * p - 1 + (1 - p) ** s}


# ---------------------------------------------------------------- error statistics


def case_stats(err: torch.Tensor, case: torch.Tensor) -> dict[str, dict[str, float]]:
    """Mean (signed), mean |·|, std, RMS and worst |error| per case (neither/one/both on)."""
    out: dict[str, dict[str, float]] = {}
    err, case = err.reshape(-1).double(), case.reshape(-1)
    for c, name in enumerate(CASES):
        e = err[case == c]
        if e.numel() == 0:
            continue
        out[name] = {
            "n": int(e.numel()),
            "mean": float(e.mean()),
            "mean_abs": float(e.abs().mean()),
            "std": float(e.std()) if e.numel() > 1 else 0.0,
            "rms": float(e.square().mean().sqrt()),
            "worst": float(e.abs().max()),
        }
    return out


def uand_errors(
    layer: BooleanLayer, x: torch.Tensor, pairs: torch.Tensor, batch: int = 2048
) -> tuple[torch.Tensor, torch.Tensor]:
    """Readout − truth and the case (0/1/2 inputs on), both [batch, P], over inputs in chunks."""
    pairs = pairs.to(layer.conn.device)
    errs, cases = [], []
    for i in range(0, len(x), batch):
        xb = x[i : i + batch].to(layer.conn.device)
        errs.append(layer.readout(layer.hidden(xb), pairs) - and_truth(xb, pairs))
        cases.append((xb[:, pairs[:, 0]] + xb[:, pairs[:, 1]]).long())
    return torch.cat(errs), torch.cat(cases)


def exhaustive_stats(layer: BooleanLayer, s: int) -> dict[str, dict[str, float]]:
    """Error statistics over every exactly-s input and every pair (small m only)."""
    x = exact_inputs(layer.m, s, layer.conn.device)
    err, case = uand_errors(layer, x, all_pairs(layer.m))
    return case_stats(err, case)


def case_pairs(x: torch.Tensor, per_case: int, gen: torch.Generator) -> torch.Tensor:
    """For each input row, `per_case` pairs of each case (both on, one on, neither): [batch, 3·per_case, 2].

    x must have at least 2 active and 2 inactive features per row.
    """
    batch, m = x.shape
    keys = torch.rand(batch, m, generator=gen, device=gen.device).to(x.device)
    on_order = (keys + 2 * (1 - x)).argsort(1)  # active features first, in random order
    off_order = (keys + 2 * x).argsort(1)  # inactive first
    s_row = x.sum(1).long()
    if int(s_row.min()) < 2 or int((m - s_row).min()) < 2:
        raise SuperposeError("case_pairs needs ≥ 2 active and ≥ 2 inactive features per input")

    def pick(order: torch.Tensor, count: torch.Tensor, n: int) -> torch.Tensor:
        r = torch.rand(batch, n, generator=gen, device=gen.device).to(x.device)
        return order.gather(1, (r * count[:, None]).long().clamp(max=m - 1))

    def distinct(order: torch.Tensor, count: torch.Tensor, n: int) -> torch.Tensor:
        a = (
            torch.rand(batch, n, generator=gen, device=gen.device).to(x.device) * count[:, None]
        ).long()
        off = (
            1
            + (
                torch.rand(batch, n, generator=gen, device=gen.device).to(x.device)
                * (count[:, None] - 1)
            ).long()
        )
        b = (a + off) % count[:, None]
        return torch.stack([order.gather(1, a), order.gather(1, b)], -1)

    both = distinct(on_order, s_row, per_case)
    neither = distinct(off_order, m - s_row, per_case)
    one = torch.stack([pick(on_order, s_row, per_case), pick(off_order, m - s_row, per_case)], -1)
    return torch.cat([neither, one, both], 1)


def sampled_case_errors(
    layer: BooleanLayer, s: int, n_inputs: int, per_case: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Errors [n_inputs, 3·per_case] and cases on random exactly-s inputs, balanced across cases."""
    x = sample_inputs(n_inputs, layer.m, s, gen, layer.conn.device)
    pairs = case_pairs(x, per_case, gen)
    h = layer.hidden(x)
    got = layer.readout_per_input(h, pairs)
    truth = x.gather(1, pairs[..., 0]) * x.gather(1, pairs[..., 1])
    case = (x.gather(1, pairs[..., 0]) + x.gather(1, pairs[..., 1])).long()
    return got - truth, case


def adversarial_search(
    layer: BooleanLayer,
    pair: tuple[int, int],
    case: int,
    s: int,
    restarts: int = 1,
    gen: torch.Generator | None = None,
) -> tuple[float, list[int]]:
    """Greedy search for the exactly-s input maximising |error| of one pair's readout in one case.

    The pair's inputs on as the case asks; the remaining features are added one at a time, each the
    candidate (tried all at once) that makes the error largest. Returns (|error|, active features).
    """
    i, j = pair
    fixed = [i, j][:case]
    if s < case or layer.m - 2 < s - case:
        raise SuperposeError(f"no exactly-s input for case {CASES[case]!r} with s={s}, m={layer.m}")
    pairs = torch.tensor([[i, j]], device=layer.conn.device)
    best_err, best_set = -1.0, list(fixed)
    for r in range(restarts):
        active = list(fixed)
        if r and gen is not None:  # random start for later restarts: one random extra feature
            cand = [k for k in range(layer.m) if k not in (i, j)]
            active.append(cand[int(torch.randint(len(cand), (1,), generator=gen))])
        while len(active) < s:
            base = torch.zeros(layer.m, device=layer.conn.device)
            base[active] = 1
            cand = torch.ones(layer.m, dtype=torch.bool, device=layer.conn.device)
            cand[[i, j, *active]] = False
            ids = cand.nonzero().squeeze(1)
            X = base.repeat(len(ids), 1)
            X[torch.arange(len(ids)), ids] = 1
            err = (layer.readout(layer.hidden(X), pairs) - and_truth(X, pairs)).abs().squeeze(1)
            active.append(int(ids[int(err.argmax())]))
        x = torch.zeros(1, layer.m, device=layer.conn.device)
        x[0, active] = 1
        e = float((layer.readout(layer.hidden(x), pairs) - and_truth(x, pairs)).abs())
        if e > best_err:
            best_err, best_set = e, active
    return best_err, sorted(best_set)


def worst_case_search(
    layer: BooleanLayer,
    s: int,
    gen: torch.Generator,
    n_inputs: int = 256,
    per_case: int = 8,
    n_targets: int = 4,
) -> dict[str, dict[str, Any]]:
    """Per case: worst |error| among sampled inputs, then greedy adversarial search from the worst
    sampled pairs. Returns {case: {sampled_worst, adversarial_worst, input}}."""
    x = sample_inputs(n_inputs, layer.m, s, gen, layer.conn.device)
    pairs = case_pairs(x, per_case, gen)
    got = layer.readout_per_input(layer.hidden(x), pairs)
    xi, xj = x.gather(1, pairs[..., 0]), x.gather(1, pairs[..., 1])
    err = (got - xi * xj).abs()
    case = (xi + xj).long()
    out: dict[str, dict[str, Any]] = {}
    for c, name in enumerate(CASES):
        e = torch.where(case == c, err, torch.full_like(err, -1.0)).reshape(-1)
        flat_pairs = pairs.reshape(-1, 2)
        top = e.topk(min(n_targets, int((e >= 0).sum()))).indices
        adv, adv_set = -1.0, []
        for t in top.tolist():
            pij = tuple(int(v) for v in flat_pairs[t])
            a, st = adversarial_search(layer, (pij[0], pij[1]), c, s)
            if a > adv:
                adv, adv_set = a, st
        out[name] = {
            "sampled_worst": float(e.max()),
            "adversarial_worst": max(adv, float(e.max())),
            "adversarial_input": adv_set,
        }
    return out


def gate_case_inputs(
    gates: torch.Tensor, m: int, s: int, reps: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each gate and each number c ≤ min(K, s) of its inputs on, `reps` exactly-s inputs with
    those c inputs on and s − c random features outside the gate.

    Returns active ids [rows, s], the gate each row tests [rows] and c [rows].
    """
    G, K = gates.shape
    if m - K < s:
        raise SuperposeError(f"need m − fan_in ≥ s to fill inputs (m={m}, fan_in={K}, s={s})")
    rows_a, rows_g, rows_c = [], [], []
    gid = torch.arange(G)
    for c in range(min(K, s) + 1):
        for _ in range(reps):
            keys = torch.rand(G, m, generator=gen)
            keys.scatter_(1, gates, 2.0)  # gate inputs never drawn as "others"
            others = keys.topk(s - c, dim=1, largest=False).indices
            rows_a.append(torch.cat([gates[:, :c], others], 1))
            rows_g.append(gid)
            rows_c.append(torch.full((G,), c))
    return torch.cat(rows_a), torch.cat(rows_g), torch.cat(rows_c)


def sampled_gate_errors(
    layer: BooleanLayer, s: int, reps: int, gen: torch.Generator, n_gates: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Chosen-gate errors on inputs balanced over c = inputs of the gate on (see gate_case_inputs),
    for all gates or a random n_gates of them. Returns (errors [rows], c [rows])."""
    gates = layer.gates.cpu()
    ids = torch.arange(len(gates))
    if n_gates is not None and n_gates < len(gates):
        ids = torch.randperm(len(gates), generator=gen)[:n_gates]
    active, g, c = gate_case_inputs(gates[ids], layer.m, s, reps, gen)
    h = layer.hidden_active(active)
    neurons = layer.gate_neurons[ids.to(layer.conn.device)][g.to(layer.conn.device)]  # [rows, k]
    got = h.gather(1, neurons).mean(1)
    truth = (c == gates.shape[1]).float().to(got.device)
    return got - truth, c.to(got.device)


def gate_adversarial_search(
    layer: BooleanLayer, gate: int, c: int, s: int
) -> tuple[float, list[int]]:
    """Greedy worst exactly-s input for one chosen gate with c of its inputs on: the other s − c
    features are added one at a time, each the candidate maximising |error|. (|error|, active)."""
    gates = layer.gates
    K = gates.shape[1]
    active = gates[gate, :c].tolist()
    truth = float(c == K)
    neurons = layer.gate_neurons[gate]
    banned = set(gates[gate].tolist())
    err = (
        abs(float(layer.hidden_active(torch.tensor([active]))[:, neurons].mean()) - truth)
        if (len(active) == s)
        else 0.0
    )
    while len(active) < s:
        cand = torch.tensor([k for k in range(layer.m) if k not in banned and k not in active])
        rows = torch.cat(
            [torch.tensor(active, dtype=torch.long).repeat(len(cand), 1), cand[:, None]], 1
        )
        e = (layer.hidden_active(rows)[:, neurons].mean(1) - truth).abs()
        best = int(e.argmax())
        active.append(int(cand[best]))
        err = float(e[best])
    return err, sorted(active)


def gate_worst_case(
    layer: BooleanLayer,
    s: int,
    gen: torch.Generator,
    reps: int = 2,
    n_gates: int | None = 512,
    n_targets: int = 8,
) -> dict[int, dict[str, float]]:
    """Per c (gate inputs on): worst |error| on sampled inputs, then greedy adversarial search on
    the gates with the worst sampled errors (plus random ones). {c: {sampled_worst, worst}}."""
    gates = layer.gates.cpu()
    ids = torch.arange(len(gates))
    if n_gates is not None and n_gates < len(gates):
        ids = torch.randperm(len(gates), generator=gen)[:n_gates]
    active, g, c = gate_case_inputs(gates[ids], layer.m, s, reps, gen)
    h = layer.hidden_active(active)
    neurons = layer.gate_neurons[ids.to(layer.conn.device)][g.to(layer.conn.device)]
    err = (h.gather(1, neurons).mean(1) - (c == gates.shape[1]).float().to(h.device)).abs().cpu()
    out: dict[int, dict[str, float]] = {}
    for cc in range(min(gates.shape[1], s) + 1):
        sel = (c == cc).nonzero().squeeze(1)
        e = err[sel]
        order = e.argsort(descending=True)[:n_targets]
        targets = {int(ids[g[sel[o]]]) for o in order.tolist()}
        targets |= {int(t) for t in ids[torch.randperm(len(ids), generator=gen)[:2]]}
        adv = max(gate_adversarial_search(layer, t, cc, s)[0] for t in targets)
        out[cc] = {"sampled_worst": float(e.max()), "worst": max(adv, float(e.max()))}
    return out


def gate_errors(
    layer: BooleanLayer, x: torch.Tensor, gate_ids: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Chosen-gate readout − truth and the number of the gate's inputs on: both [batch, G]."""
    gates = layer.gates if gate_ids is None else layer.gates[gate_ids]
    h = layer.hidden(x)
    on = x[:, gates].sum(-1)
    return layer.gate_readout(h, gate_ids) - (on == gates.shape[1]).float(), on.long()
